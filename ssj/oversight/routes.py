"""Pages of the discipline office's console (SPEC §5; Art 9, 14, 17, 18) and of the
oversight dashboard 监管看板 (SPEC §8; Art 7, 9, 10, 15, 17, 18, 19).

Thin: parse, call `console`, render, and write the office's own log entry
with what it asked — filter names and values, an enterprise only by the
HMAC of its credit code. The search form is posted and answered with a
redirect to a URL that carries the HMAC instead of the typed code, so the
code never reaches a URL, a browser history or a proxy's log. Results are
one fragment (`_results.html`) that the page includes and htmx fetches
when paging.

The dashboard is one page whose figures are one fragment
(`_dashboard.html`): the year and section picker is a plain GET form that
htmx enhances by fetching only the fragment. It is computed from
plaintext aggregates (`dashboard`), never from sealed content.
"""
from __future__ import annotations

import json
from io import BytesIO

from flask import abort, current_app, flash, g, make_response, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from .. import clock, jsonbounds
from .. import audit
from ..audit import service as log
from ..audit import verify as log_verify
from ..auth.roles import DISCIPLINE, SECTION_HEAD, STAFF, SUPERVISOR
from ..security import access
from ..admin import grants
from . import bp, charts, console, investigations
from . import dashboard as dash
from .flags import REASON_ZH
from .policy import get_grant, get_investigation

JSON_MAX_DEPTH = 16  # an exported checkpoint file nests three deep


@bp.context_processor
def console_helpers():
    return {
        "OUTCOMES": console.OUTCOMES,
        "REASON_ZH": REASON_ZH,
        "action_label": console.action_label,
        "grouped": lambda value, size=8: " ".join(value[i : i + size] for i in range(0, len(value or ""), size)),
        "hit_search_args": console.hit_search_args,
        "percent_text": dash.percent_text,
    }


def _wants_fragment() -> bool:
    # A history restore needs the whole page even though htmx marks it as its own request.
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def _scope() -> console.Scope:
    return console.scope_of(current_user)


def _search_page(filters: console.Filters, page, status: int = 200, enterprise: str = ""):
    scope = _scope()
    context = dict(
        filters=filters,
        page=page,
        enterprise=enterprise,
        page_url=lambda n: url_for(".search", **filters.args(page=n)),
        users=console.known_users(scope),
        actions=console.known_actions(scope),
    )
    template = "oversight/_results.html" if _wants_fragment() and status == 200 else "oversight/search.html"
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    response.vary.add("HX-History-Restore-Request")
    return response


@bp.route("/discipline", methods=["GET", "POST"])
@access.roles(DISCIPLINE)
def search():
    """访问日志查询: by person, time, task, action, outcome and enterprise (by the HMAC of its code)."""
    if request.method == "POST":
        filters = console.Filters.from_form(request.form)
        if filters.errors:
            # What was typed, the credit code too, stays in the form (in this response only).
            return _search_page(filters, None, 422, enterprise=request.form.get("enterprise", ""))
        return redirect(url_for(".search", **filters.args()), code=303)
    filters = console.Filters.from_args(request.args)
    if filters.errors:
        return _search_page(filters, None, 422)
    page = console.search(filters, _scope(), request.args.get("page", 1, type=int))
    objects = {"filters": filters.logged(), "page": page.page, "results": page.total}
    if page.investigation is not None:
        objects["investigation"] = page.investigation.id
    audit.record("oversight_search", objects=objects)
    return _search_page(filters, page)


@bp.route("/discipline/entries/<int:seq>")
@access.roles(DISCIPLINE)
def entry(seq: int):
    """One access-log entry in full, with its hash, the previous hash and links to its neighbours."""
    scope = _scope()
    rows = console.entry(seq, scope)
    if not rows:
        abort(404)  # also another department's entry: the same answer as none
    before, after = console.neighbours(seq, scope)
    audit.record("oversight_entry_viewed", objects={"seq": seq, "rows": len(rows)})
    return render_template("oversight/entry.html", seq=seq, rows=rows, before=before, after=after)


@bp.route("/discipline/flags")
@access.roles(DISCIPLINE)
def flags():
    """异常提示: each kind of flag explained, with its count and the entries behind it, over a date range."""
    r = console.FlagRange.from_args(request.args)
    if r.errors:
        return render_template("oversight/flags.html", range=r, view=None), 422
    view = console.compute_flags(r, _scope())
    audit.record("oversight_flags_viewed", objects={"since": r.since, "until": r.until, "counts": view.counts()})
    return render_template("oversight/flags.html", range=r, view=view)


@bp.route("/discipline/verify")
@access.roles(DISCIPLINE)
def verify():
    """日志核验: run the full check; show the head, the latest signed checkpoint and what to keep outside."""
    view = console.verify()
    audit.record("oversight_verified", objects=view.logged())
    return render_template("oversight/verify.html", view=view, upload_error=None)


@bp.route("/discipline/verify/against", methods=["POST"])
@access.roles(DISCIPLINE)
def verify_against():
    """Check the live log against a checkpoint file the office kept outside the system."""
    upload = request.files.get("checkpoints")
    error, against, size = None, None, 0
    if upload is None or not upload.filename:
        error = "请选择以前在本页下载并留存在系统之外的检查点文件（.json），再点击“与留存文件核对”。"
    else:
        limit = current_app.config["JSON_UPLOAD_MAX_BYTES"]
        raw = upload.read(limit + 1)  # never more than the limit in memory
        size = len(raw)
        try:
            # Size and nesting first: 200,000 "[" made json.loads raise RecursionError (a 500).
            text = jsonbounds.checked_text(raw, max_bytes=limit, max_depth=JSON_MAX_DEPTH, what="该检查点文件")
            against = log_verify.parse_export(text)
        except jsonbounds.JsonRefused as exc:
            error = f"{exc}请选择从本页“下载检查点文件”得到的 .json 文件。"
        except log_verify.ExportFileError as exc:
            error = exc.message_zh
    if error:
        # The refusal is on the record too (a forged or damaged file is worth knowing about).
        g.keep_changes = True
        audit.record("oversight_verify_refused", outcome="error", reason=error, objects={"bytes": size})
        return render_template("oversight/verify.html", view=None, upload_error=error), 422
    view = console.verify(against)
    audit.record("oversight_verified", objects=view.logged())
    return render_template("oversight/verify.html", view=view, upload_error=None)


@bp.route("/discipline/checkpoints/sign", methods=["POST"])
@access.roles(DISCIPLINE)
def sign_checkpoint():
    """Sign the current head of the log now, so that a download covers the log up to this moment."""
    cp = log.checkpoint()
    audit.record("oversight_checkpoint_signed", objects={"seq": cp.seq, "head_hash": cp.head_hash, "key_id": cp.key_id})
    flash(
        f"已对第 {cp.seq} 条记录处的链头签名。请立即“下载检查点文件”，保存在系统之外（如纪检监察室保管的移动存储介质），并打印签字存档。",
        "success",
    )
    return redirect(url_for(".verify"), code=303)


@bp.route("/discipline/checkpoints.json")
@access.roles(DISCIPLINE)
def export_checkpoints():
    """Download every signed checkpoint and the public key as JSON, to keep outside the system."""
    doc, problems = console.export_document()
    if not doc["checkpoints"]:
        flash("还没有签名检查点，没有可下载的内容。请先点击“立即签名检查点”。", "warning")
        return redirect(url_for(".verify"), code=303)
    audit.record(
        "oversight_checkpoints_exported",
        objects={
            "checkpoints": len(doc["checkpoints"]),
            "last_seq": doc["checkpoints"][-1]["seq"],
            "left_out": [p.seq for p in problems],
        },
    )
    stamp = clock.now().astimezone(console.zone())
    body = BytesIO((json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return send_file(
        body, mimetype="application/json", as_attachment=True,
        download_name=f"ssj-checkpoints-{stamp:%Y%m%d-%H%M}.json",
    )


@bp.route("/discipline/checkpoints/print")
@access.roles(DISCIPLINE)
def print_checkpoints():
    """The latest signed checkpoints on A4, to sign, date and keep on paper."""
    recent = console.recent_checkpoints(console.PRINT_RECENT)
    keys = log.keyring()
    audit.record(
        "oversight_checkpoints_printed",
        objects={"checkpoints": len(recent), "last_seq": recent[0].seq if recent else None},
    )
    return render_template(
        "oversight/checkpoints_print.html",
        recent=recent,
        key_id=keys.signing_key_id,
        public_key=log_verify.raw_public_key(keys.verify_key).hex(),
        printed_by=current_user,
        printed_at=clock.now(),
    )


# --- investigations 立案核查 (SPEC §5) ------------------------------------------------------------


def _refused(exc: investigations.Refused, endpoint: str):
    access.mark_refused(exc.reason)
    flash(exc.message, "error")
    return redirect(url_for(endpoint), code=303)


@bp.route("/discipline/investigations", methods=["GET", "POST"])
@access.roles(DISCIPLINE)
def investigation_list():
    """立案核查: open one naming enterprises and a reason; see each one's approval and expiry."""
    form = investigations.OpenForm()
    status = 200
    if request.method == "POST":
        form = investigations.OpenForm.parse(request.form)
        if not form.errors:
            inv = investigations.open_investigation(current_user, form)
            flash(f"已提交立案核查第 {inv.id} 号，待本部门局领导（您以外的人）批准后生效。", "success")
            return redirect(url_for(".investigation_list"), code=303)
        status = 422
    else:
        audit.record("investigations_viewed")
    items = investigations.of_department(current_user.department_id)
    return render_template(
        "oversight/investigations.html", form=form, items=items,
        state_of=investigations.state_of, codes_of=investigations.codes_of,
        STATE_ZH=investigations.STATE_ZH, max_days=investigations.MAX_DAYS,
    ), status


@bp.route("/discipline/investigations/<int:inv_id>/close", methods=["POST"])
@access.roles(DISCIPLINE)
@access.load(inv_id=get_investigation)
def investigation_close(inv):
    """End an investigation before its expiry, once the check is done."""
    try:
        investigations.close(inv, current_user)
    except investigations.Refused as exc:
        return _refused(exc, ".investigation_list")
    flash(f"立案核查第 {inv.id} 号已结束。", "success")
    return redirect(url_for(".investigation_list"), code=303)


@bp.route("/oversight/leadership")
@access.roles(SUPERVISOR)
def leadership():
    """局领导的监督提示: investigations to approve, and the discipline office's enterprise searches."""
    r = console.FlagRange.from_args(request.args)
    view = None
    if not r.errors:
        view = console.compute_flags(r, _scope(), kinds=("enterprise_searches",))
    items = investigations.of_department(current_user.department_id)
    names = investigations.names_of({c for inv in items for c in investigations.codes_of(inv)})
    pending_grants = [(g, grants.describe(g)) for g in grants.pending_in_department(current_user.department_id)]
    audit.record("investigations_viewed", objects={"since": r.since, "until": r.until,
                                                   "counts": view.counts() if view else None,
                                                   "pending_grants": len(pending_grants)})
    return render_template(
        "oversight/leadership.html", range=r, view=view, items=items, names=names, grants=pending_grants,
        state_of=investigations.state_of, codes_of=investigations.codes_of, STATE_ZH=investigations.STATE_ZH,
    ), (422 if r.errors else 200)


@bp.route("/oversight/grants/<int:grant_id>/decide", methods=["POST"])
@access.roles(SUPERVISOR)
@access.load(grant_id=get_grant)
def grant_decide(grant):
    """Approve or decline an account change that gives sealed access (a supervisor other than grantee and requester)."""
    approve = request.form.get("decision") == "approve"
    try:
        grants.decide(grant, current_user, approve, request.form.get("note", ""))
    except grants.GrantRefused as exc:
        access.mark_refused(exc.reason)
        flash(exc.message, "error")
        return redirect(url_for(".leadership"), code=303)
    flash(f"已{'批准' if approve else '不同意'} {grant.user.username} 的账号授权。", "success")
    return redirect(url_for(".leadership"), code=303)


@bp.route("/oversight/investigations/<int:inv_id>/decide", methods=["POST"])
@access.roles(SUPERVISOR)
@access.load(inv_id=get_investigation)
def investigation_decide(inv):
    """Approve or decline an investigation (a supervisor other than the requester)."""
    approve = request.form.get("decision") == "approve"
    try:
        investigations.decide(inv, current_user, approve, request.form.get("note", ""))
    except investigations.Refused as exc:
        return _refused(exc, ".leadership")
    if approve:
        flash(f"已批准立案核查第 {inv.id} 号，有效期至 {inv.expires_at.astimezone(console.zone()):%Y-%m-%d %H:%M}。", "success")
    else:
        flash(f"未批准立案核查第 {inv.id} 号。", "success")
    return redirect(url_for(".leadership"), code=303)


# --- the oversight dashboard 监管看板 ----------------------------------------------------------

SCOPE_REFUSALS = {
    "other_section": "科室负责人和科室工作人员只能查看本科室的监管看板。请从导航栏的“监管看板”进入本科室的看板。",
    "other_department": "只能查看本部门的监管看板：所选科室不属于您所在的部门。请从页面上的科室列表中选择。",
    "no_section": "您的账号没有所属科室，无法确定要显示哪个科室的数据。请联系系统管理员设置所属科室。",
}


def _dashboard_charts(d: dash.Dashboard) -> dict:
    ratio_items = [
        charts.Item(
            f"{m.code} {m.name}",
            m.lowest_ratio * 100 if m.lowest_ratio is not None else 0,
            m.lowest_text if m.rounds else "未抽取",
            "bar bar-below" if m.below else "bar bar-ok",
        )
        for m in d.matters
    ]
    r = d.reports
    return {
        "ratios": charts.hbar_chart(ratio_items, reference=1, reference_caption="细则第七条：每次不低于 1%"),
        "reports": charts.stacked_bar([
            charts.Segment("按期提交", r.on_time, "seg-ok"),
            charts.Segment("逾期提交", r.late, "seg-late"),
            charts.Segment("逾期未交", r.overdue, "seg-overdue"),
            charts.Segment("未到期", r.pending + r.undated, "seg-pending"),
        ]),
        "results": charts.hbar_chart(
            [charts.Item(label, n, f"{n} 户", "bar bar-result") for label, n in d.results.by_category]
        ),
        "coverage": charts.hbar_chart(
            [charts.Item(t.name, t.targets, "0 户（无检查对象）" if t.zero else f"{t.targets} 户",
                          "bar bar-zero" if t.zero else "bar bar-town")
             for t in d.coverage.townships],
            maximum=1,
        ),
    }


@bp.route("/oversight/dashboard")
@access.roles(SUPERVISOR, SECTION_HEAD, STAFF, DISCIPLINE)
def dashboard():
    """监管看板: one year's figures against Art 7, 9, 10, 15, 18 and 19, for the department or one section."""
    today = clock.today()
    year, error = dash.parse_year(request.args.get("year"), today)
    raw_section = (request.args.get("section") or "").strip()
    section_id = int(raw_section) if raw_section.isdigit() else None
    if raw_section and section_id is None:
        error = error or "科室选择无效，请从列表中选择科室。"
    try:
        scope = dash.scope_for(current_user, section_id)
    except dash.ScopeRefused as exc:
        access.mark_refused(exc.reason)
        return render_template("errors/error.html", status=403, title="没有权限", text=SCOPE_REFUSALS[exc.reason]), 403
    context = dict(scope=scope, year=year, error=error, years=dash.year_choices(scope, today), d=None, charts=None)
    status = 422 if error else 200
    if not error:
        d = dash.build(scope, year, today)
        context.update(d=d, charts=_dashboard_charts(d))
        audit.record("oversight_dashboard_viewed", objects=dash.logged(d))
    template = "oversight/_dashboard.html" if _wants_fragment() and status == 200 else "oversight/dashboard.html"
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    response.vary.add("HX-History-Restore-Request")
    return response
