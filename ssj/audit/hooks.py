"""One unit of work per request, closed by its access-log entry.

Views change data in the session but do not commit. After the view, this
hook writes the request's log entry (unless the view wrote a more specific
one), then commits both together. If the entry cannot be written, the
transaction is rolled back and the person gets an error page instead of
the response: nothing is served and nothing is changed (fail closed).
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from flask import Flask, g, render_template, request, session
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Target
from .service import discard_uncommitted, record, sealed_ref

log = logging.getLogger(__name__)

# Called with the signed-in user just before a request's unit of work commits,
# after any rollback of a refused request; auth.sessions registers its idle-timeout
# stamp here, so the access log does not import the sign-in machinery (issue #15).
before_commit: list[Callable[[Any], None]] = []


def on_signed_in_commit(fn: Callable[[Any], None]) -> Callable[[Any], None]:
    """Register fn(user) to run in every signed-in request's unit of work, just before it commits."""
    before_commit.append(fn)
    return fn


def _outcome(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (400, 401, 403, 405):
        return "denied"
    if status == 404:
        return "not_found"
    return "error"


def _target_ref(target_id, task_id) -> dict:
    """A target is named in the log only by the HMAC of its credit code, bound to the
    task in the same URL if any (SPEC §5): after a draw, who looked at which
    enterprise could hint at the sealed list."""
    code = db.session.execute(select(Target.credit_code).where(Target.id == target_id)).scalar()
    value = code if code is not None else f"target-id:{target_id}"
    return {"target_ref": sealed_ref(value, task_id=task_id if isinstance(task_id, int) else None)}


def logged_view_args() -> dict:
    """The URL's arguments as the log may hold them: a target only by its HMAC reference."""
    return {
        k: _target_ref(v, (request.view_args or {}).get("task_id")) if k == "target_id" else v
        for k, v in (request.view_args or {}).items()
        if isinstance(v, (int, str))
    }


def _generic_entry(response) -> None:
    verb = "read" if request.method in ("GET", "HEAD") else "change"
    objects = {"endpoint": request.endpoint, "method": request.method}
    if request.view_args:
        objects["args"] = logged_view_args()
    if request.args:
        # Names only: a search term typed by a user stays out of the log.
        objects["query"] = sorted(request.args.keys())
    record(
        f"{verb}:{request.endpoint}" if request.endpoint else f"{verb}:unrouted",
        outcome="denied" if g.get("denied") else _outcome(response.status_code),
        reason=g.get("denial_reason"),
        objects=objects,
    )


def finish_request(response):
    if request.endpoint == "static":
        return response
    try:
        status = response.status_code
        if status >= 400 and not g.get("keep_changes"):
            discard_uncommitted()
        signed_in = current_user.is_authenticated
        if not g.get("audit_entries"):
            # Every signed-in request is logged; anonymous ones only when refused
            # (public pages are public and not worth a log line each).
            if signed_in or status in (400, 401, 403) or g.get("denied"):
                _generic_entry(response)
        if signed_in:
            for fn in before_commit:
                fn(current_user)
        db.session.commit()
    except Exception:
        log.exception("request could not be committed with its access-log entry")
        discard_uncommitted()
        session.pop("_flashes", None)
        try:
            body = render_template("errors/audit_failed.html")
        except Exception:
            body = "访问日志写入失败，本次操作未执行。请联系系统管理员。"
        response = type(response)(body, status=503, mimetype="text/html")
    return response


def init_app(app: Flask) -> None:
    app.after_request(finish_request)
