"""The sealed-mode start page and the unseal page (SPEC §4).

While the instance is sealed every URL answers with 系统已封存 (503),
except the unseal page and static files. Shares are accepted only from the
server itself (127.0.0.1 / ::1) or over HTTPS, so they never cross the
network in clear; each entry, accepted or not, is logged with the
custodian's name (never with what was typed).
"""
from __future__ import annotations

from flask import current_app, g, render_template, request

from .. import audit
from ..identity import ForeignKeys
from ..security import access
from . import bp, service
from .shares import ShareError

OPEN_WHILE_SEALED = {"custody.unseal", "static"}


def _keys():
    return current_app.extensions["ssj.keys"]()


def sealed_now() -> bool:
    return _keys().sealed


def gate():
    """before_request, first of all: a sealed instance serves nothing but the unseal page."""
    if request.endpoint in OPEN_WHILE_SEALED or not sealed_now():
        return None
    # Nothing was read or served: no log entry (and none could name a target while sealed).
    g.audit_entries = 1
    return render_template("custody/sealed.html"), 503, {"Retry-After": "300"}


def _safe_channel() -> bool:
    return request.remote_addr in ("127.0.0.1", "::1") or request.is_secure


@bp.route("/unseal", methods=["GET", "POST"])
@access.public
def unseal():
    """Custodians enter their shares, one at a time, until K are in."""
    keys = _keys()
    if not keys.sealed:
        return render_template("custody/unseal.html", done=True, custody=None)
    custody = keys.custody
    status, error, entry = 200, None, None
    if request.method == "POST":
        name = request.form.get("custodian", "").strip()[:64]
        raw_index = request.form.get("index", "").strip()
        index = int(raw_index) if raw_index.isdigit() else 0
        if not _safe_channel():
            error, status = "份额只能在服务器本机（http://127.0.0.1）或 HTTPS 连接下输入，以免在网络上明文传输。本次输入未被接受。", 403
        else:
            try:
                entry = service.enter_share(current_app, keys, name, index, request.form.get("share", ""))
            except (ShareError, service.CustodyError, ForeignKeys) as exc:
                error, status = str(exc), 400
        if error is None:
            audit.record("custody_share_entered", objects={
                "custodian": name, "share": index, "entered": entry.accepted, "threshold": entry.threshold})
            if entry.unsealed:
                audit.record("custody_unsealed", objects={"threshold": entry.threshold})
        else:
            g.keep_changes = True  # the refusal is logged even though the answer is an error
            audit.record("custody_share_rejected", outcome="denied", reason="bad_share",
                         objects={"custodian": name, "share": index})
    pending = service.pending_of(current_app)
    entered = sorted((i, who) for i, (who, _) in pending.entered.items())
    page = render_template("custody/unseal.html", done=entry is not None and entry.unsealed, custody=custody,
                           error=error, entered=entered, safe=_safe_channel())
    return page, status
