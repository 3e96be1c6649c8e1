"""Pages of inspection records, notices and checklists, evidence, follow-up and reports (SPEC §7; Art 8, 9, 10, 12).

Thin views: load through `service` (404 for no such drawn task, 403 for
no need to know, both logged as denials), call the rules, render. Every
page here shows sealed content, read through logged reads; the security
headers make signed-in pages `no-store`. A refused form is re-rendered
with what the person typed and a Chinese message; whatever the view had
begun is undone first, and the re-render's own logged reads are kept.
"""
from __future__ import annotations


from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.roles import INSPECTOR, SECTION_HEAD, STAFF, SUPERVISOR
from ..ceremony import policy as ceremony_policy
from ..audit.refusals import refuse_change
from .. import concurrency
from ..concurrency import StaleEdit, submitted_version
from ..ceremony import service as ceremony
from ..templating import watermark
from ..extensions import db
from ..models import Section, Task
from ..security import access
from .. import clock
from . import bp, evidence, followup, printables, reports, service
from . import policy
from .service import HANDLINGS, METHODS, RESULT_CATEGORIES, RecordError, RecordForm

READERS = (STAFF, SECTION_HEAD, SUPERVISOR)
TEAM_OR_READERS = (*READERS, INSPECTOR)


@bp.context_processor
def inspection_helpers():
    return {"METHODS": METHODS, "RESULT_CATEGORIES": RESULT_CATEGORIES, "HANDLINGS": HANDLINGS,
            "FOLLOWUP_KINDS": followup.KINDS, "FOLLOWUP_ADD_KINDS": followup.ADD_KINDS, "ALLOWED_TEXT": evidence.ALLOWED_TEXT,
            "VIEWABLE": evidence.VIEWABLE}


def _refused(message: str, status: int, reason: str = "invalid_input"):
    # Undo anything begun and log the refusal with its reason; the page shown
    # instead adds its own logged reads.
    flash(message, "error")
    return refuse_change(reason, status)


# --- overviews ---------------------------------------------------------------------------


def _section_tasks() -> list[Task]:
    if not current_user.has_role(*READERS):
        return []
    stmt = (
        select(Task).join(Section, Task.section_id == Section.id)
        .where(Section.department_id == current_user.department_id,
               Task.status.in_(("sealed", "inspecting", "reported")))
        .order_by(Task.id.desc())
    )
    tasks = db.session.execute(stmt).scalars().all()
    return [t for t in tasks if policy.may_read_all(current_user, t)]


@bp.route("/inspections")
@access.roles(*TEAM_OR_READERS, sealed="检查记录首页")
def overview():
    """检查记录: the inspector's own targets, and the tasks whose records this person may read."""
    mine = []
    inspector = ceremony_policy.my_inspector() if current_user.has_role(INSPECTOR) else None
    if inspector is not None:
        for item in ceremony.my_assignments(inspector):
            row = service.get_record(item.task, item.position)
            mine.append({"item": item, "row": row})
    tasks = _section_tasks()
    flagged = {f.task_id for f in followup.overdue([t.id for t in tasks] + [m["item"].task.id for m in mine])}
    dues = {t.id: reports.final_report_due(t) for t in tasks}
    return render_template("inspections/overview.html", mine=mine, tasks=tasks, flagged=flagged, dues=dues)


@bp.route("/tasks/<int:task_id>/inspections")
@access.roles(*READERS, sealed="任务的检查记录")
@access.load(task_id=policy.get_task_overview)
def task(task):
    """A task's inspection records, report deadlines, overdue rectifications and final report."""
    rows = {r.position: r for r in service.records_of(task)}
    lines = []
    for position in service.positions_of(task):
        row = rows.get(position)
        value = service.read_record(row, "record_overview") if row else None
        due = reports.report_due(value) if value else None
        lines.append({"position": position, "row": row, "value": value, "due": due})
    final = reports.get(task)
    return render_template(
        "inspections/task.html", task=task, lines=lines, final=final,
        publish_due=reports.publish_due(task), overdue=followup.overdue([task.id]),
        final_due=reports.final_report_due(task),
        may_draft=reports.may_draft(current_user, task), may_approve=reports.may_approve(current_user, task, final),
    )


# --- one target's record -------------------------------------------------------------------


STALE_RECORD = ("您打开这份检查记录之后，同组的人已经保存了新的内容，您这次的修改没有保存。"
                "下面列出现在保存的内容与您填写的不同之处；您填写的内容仍在表单中，请核对后再保存或提交。")


def _record_page(task, position, mine, form=None, status=200, stale=False, recheck=None):
    """`recheck`: (follow-up id, what was typed, whether stale) after a refused re-check: the typed
    values go back into that order's form, and a stale one gets its own what-changed box."""
    row = service.get_record(task, position)
    value = service.read_record(row) if row else None
    if stale and form is not None:
        stale = service.changes_since(value or {}, form, by=(value or {}).get("written_by"),
                                      at=clock.show((value or {}).get("written_at")),
                                      state=row.state_label if row else "")
    facts = value["target"] if value else (service.target_facts(task, mine) if mine else {})
    code = facts.get("credit_code")
    if form is None:
        form = RecordForm.from_value(value) if value else RecordForm(items=[], errors={})
    history = service.read_history(row) if row else []
    followups = [(f, followup.read(f, code)) for f in followup.of_position(task, position)]
    kept_recheck = None
    if recheck is not None:
        followup_id, typed, was_stale = recheck
        kept_recheck = {"id": followup_id, **typed, "stale": None}
        if was_stale:
            kept_recheck["stale"] = next((followup.recheck_changes(f, v, typed) for f, v in followups
                                          if f.id == followup_id), None)
    writable = mine is not None and task.status in service.WORKING_STATES
    body = render_template(
        "inspections/record.html", task=task, position=position, row=row, value=value, facts=facts, form=form,
        history=history, files=evidence.listing(task, position, code), followups=followups, writable=writable,
        items=service.content_items(task), due=reports.report_due(value) if value else None, today=clock.today(),
        stale=stale, kept_recheck=kept_recheck,
    )
    return make_response(body, status)


@bp.route("/tasks/<int:task_id>/positions/<int:position>/record", methods=["GET", "POST"])
@access.roles(*TEAM_OR_READERS, sealed="检查记录")
@access.load(task_id=policy.get_drawn_task)
def record(task, position: int):
    """The inspection record of one drawn target: team members write it, need-to-know readers read it."""
    if request.method == "GET":
        mine = policy.position_for_reading(task, position)
        return _record_page(task, position, mine)
    action = request.form.get("action", "save")
    if action not in ("save", "submit", "correct"):
        action = "save"
    form = RecordForm.from_request(request.form)
    try:
        mine = policy.position_for_writing(task, position)
    except RecordError as exc:
        mine = policy.position_for_reading(task, position)
        return _record_page(task, position, mine, form, _refused(str(exc), exc.status, exc.reason))
    upload = request.files.get("evidence")
    attached = upload is not None and bool(upload.filename)
    again = "所选的证据文件也请重新选择。" if attached else ""
    if not form.validate(task, final=action != "save", correcting=action == "correct"):
        return _record_page(task, position, mine, form,
                            _refused("检查记录没有保存，请按红字提示修改后重新提交。" + again, 422))
    try:
        with concurrency.guarded():  # autoflush may meet the other save before save's own flush
            service.save(task, mine, form, action, submitted_version(request.form))
            if action != "save":
                followup.track_from_record(task, position, form.value())
        if attached:
            # The file travels with the record (one request, one commit): uploading a
            # photo no longer means leaving, and losing, what was typed (SPEC §9).
            evidence.add(task, position, upload.filename, upload.read(), request.form.get("evidence_note", ""))
    except StaleEdit:
        return _record_page(task, position, mine, form, _refused(STALE_RECORD, 409, "stale_version"), stale=True)
    except RecordError as exc:
        return _record_page(task, position, mine, form, _refused(str(exc) + again, exc.status, exc.reason))
    flash({"save": "草稿已保存。", "submit": "检查记录已提交。之后如需修改，请使用“更正”并写明原因。",
           "correct": "更正已保存，原版本已留存。"}[action] + ("证据文件已加密保存。" if attached else ""), "success")
    return redirect(url_for("inspections.record", task_id=task.id, position=position))


@bp.route("/tasks/<int:task_id>/positions/<int:position>/report")
@access.roles(*TEAM_OR_READERS, sealed="检查报告")
@access.load(task_id=policy.get_drawn_task)
def report_print(task, position: int):
    """The Art 9 inspection report of one target on A4, watermarked with the viewer and the time."""
    policy.position_for_reading(task, position)
    row = service.get_record(task, position)
    if row is None:
        flash("这个检查对象还没有检查记录，无法生成检查报告。", "warning")
        return redirect(url_for("inspections.record", task_id=task.id, position=position))
    value = service.read_record(row, "report_print")
    code = value["target"].get("credit_code")
    followups = [followup.read(f, code) for f in followup.of_position(task, position)]
    return render_template("inspections/report_print.html", task=task, position=position, row=row, value=value,
                           followups=followups, mark=watermark())


# --- before the inspection: notice and checklist (Art 8, 9, 12) ------------------------------


STALE_NOTICE = ("您打开这份检查通知书之后，别人已经保存了新的内容，您这次的修改没有保存。"
                "下面列出现在保存的内容与您填写的不同之处；您填写的内容仍在表单中，请核对后再保存。")


def _notice_page(task, position, mine, form=None, status=200, stale=False):
    row = printables.get(task, position)
    value = printables.read(row, "notice_form") if row else None
    if stale and form is not None:
        stale = form.changes_since(value or {}, by=(value or {}).get("written_by"),
                                   at=clock.show((value or {}).get("written_at")))
    facts = value["target"] if value else printables.target_facts(task, position, mine, "notice_form")
    writable = printables.may_write(task, mine) and task.status in service.WORKING_STATES
    if form is None:
        form = printables.NoticeForm.from_value(value) if value else printables.NoticeForm.prefilled(
            task, facts, clock.today())
    body = render_template(
        "inspections/notice.html", task=task, position=position, row=row, value=value, facts=facts, form=form,
        writable=writable, warning=form.day_warning() if writable else None, stale=stale,
        default_documents=printables.default_documents(task),
    )
    return make_response(body, status)


@bp.route("/tasks/<int:task_id>/positions/<int:position>/notice", methods=["GET", "POST"])
@access.roles(*TEAM_OR_READERS, sealed="检查通知书")
@access.load(task_id=policy.get_drawn_task)
def notice(task, position: int):
    """The inspection notice of one drawn target: the team or the organizer fills it in, sealed."""
    if request.method == "GET":
        mine = policy.position_for_reading(task, position)
        return _notice_page(task, position, mine)
    form = printables.NoticeForm.from_request(request.form)
    try:
        mine = printables.position_for_notice_writing(task, position)
    except RecordError as exc:
        mine = policy.position_for_reading(task, position)
        return _notice_page(task, position, mine, form, _refused(str(exc), exc.status, exc.reason))
    if not form.validate():
        return _notice_page(task, position, mine, form, _refused("检查通知书没有保存，请按红字提示修改后重新保存。", 422))
    facts = printables.target_facts(task, position, mine, "notice_write")
    try:
        with concurrency.guarded():
            concurrency.check(printables.get(task, position), submitted_version(request.form))
            printables.save(task, position, form, facts)
    except StaleEdit:
        return _notice_page(task, position, mine, form, _refused(STALE_NOTICE, 409, "stale_version"), stale=True)
    flash("检查通知书已加密保存，可以打印了。", "success")
    return redirect(url_for("inspections.notice", task_id=task.id, position=position))


@bp.route("/tasks/<int:task_id>/positions/<int:position>/notice/print")
@access.roles(*TEAM_OR_READERS, sealed="检查通知书打印页")
@access.load(task_id=policy.get_drawn_task)
def notice_print(task, position: int):
    """The inspection notice with its 送达回证 on A4, watermarked with the viewer and the time."""
    policy.position_for_reading(task, position)
    row = printables.get(task, position)
    if row is None:
        flash("这个检查对象还没有检查通知书，请先填写并保存，再打印。", "warning")
        return redirect(url_for("inspections.notice", task_id=task.id, position=position))
    value = printables.read(row, "print_notice")
    return render_template(
        "inspections/notice_print.html", task=task, position=position, row=row, value=value,
        sheets=printables.matter_sheets(task), team=printables.team(task, position),
        cn_date=printables.cn_date, mark=watermark(),
    )


@bp.route("/tasks/<int:task_id>/positions/<int:position>/checklist")
@access.roles(*TEAM_OR_READERS, sealed="检查清单打印页")
@access.load(task_id=policy.get_drawn_task)
def checklist_print(task, position: int):
    """The checklist of the task's content items for one drawn target on A4, watermarked."""
    mine = policy.position_for_reading(task, position)
    row = printables.get(task, position)
    # One logged read either way: the notice (with its date) when there is one, else the assignment.
    notice_value = printables.read(row, "print_checklist") if row else None
    facts = notice_value["target"] if notice_value else printables.target_facts(task, position, mine,
                                                                                 "print_checklist")
    return render_template(
        "inspections/checklist_print.html", task=task, position=position, facts=facts, notice=notice_value,
        sheets=printables.matter_sheets(task), team=printables.team(task, position),
        cn_date=printables.cn_date, mark=watermark(),
    )


# --- evidence ------------------------------------------------------------------------------


@bp.route("/tasks/<int:task_id>/positions/<int:position>/evidence", methods=["POST"])
@access.roles(INSPECTOR, sealed="上传证据")
@access.load(task_id=policy.get_drawn_task)
def evidence_upload(task, position: int):
    """Upload an evidence file; it is encrypted before it touches the disk."""
    try:
        mine = policy.position_for_writing(task, position)
        upload = request.files.get("file")
        body = upload.read() if upload else b""
        evidence.add(task, position, upload.filename if upload else "", body, request.form.get("note", ""))
    except RecordError as exc:
        mine = policy.position_for_reading(task, position)
        return _record_page(task, position, mine, None, _refused(str(exc), exc.status, exc.reason))
    flash("证据文件已加密保存。", "success")
    return redirect(url_for("inspections.record", task_id=task.id, position=position) + "#evidence")


@bp.route("/tasks/<int:task_id>/positions/<int:position>/evidence/<evidence_id>")
@access.roles(*TEAM_OR_READERS, sealed="证据文件")
@access.load(task_id=policy.get_drawn_task)
def evidence_download(task, position: int, evidence_id: str):
    """Download one evidence file (or, with ?view=1, show a photo or video), logged before it is served; never cached."""
    policy.position_for_reading(task, position)
    row = evidence.get(task, position, evidence_id)
    if row is None:
        access.refuse("no_such_evidence", 404)
    meta, body = evidence.read_file(row, service.target_code(task, position))
    response = make_response(body)
    response.headers["Content-Type"] = meta["mime"]
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    ext = evidence.ext_of(meta)
    # The served name is neutral: the original may name the enterprise and
    # would then sit in the browser's download history.
    shown = request.args.get("view") == "1" and meta["mime"] in evidence.VIEWABLE
    response.headers["Content-Disposition"] = (
        f'{"inline" if shown else "attachment"}; filename="evidence-{task.id}-{position}-{row.id[:8]}.{ext}"'
    )
    return response


# --- follow-up (Art 10) ----------------------------------------------------------------------


@bp.route("/tasks/<int:task_id>/positions/<int:position>/followups", methods=["POST"])
@access.roles(INSPECTOR, sealed="后续处理")
@access.load(task_id=policy.get_drawn_task)
def followup_add(task, position: int):
    """Record a handling measure: rectification order, penalty, transfer or advisory letter (Art 10)."""
    try:
        mine = policy.position_for_writing(task, position)
        followup.add(task, position, request.form)
    except RecordError as exc:
        mine = policy.position_for_reading(task, position)
        return _record_page(task, position, mine, None, _refused(str(exc), exc.status, exc.reason))
    flash("处理措施已记录。", "success")
    return redirect(url_for("inspections.record", task_id=task.id, position=position) + "#followups")


STALE_RECHECK = ("您打开页面之后，别人已经记录了这项责令改正的复查，或更正了检查记录中的改正期限，您这次的复查没有保存。"
                 "下面列出现在保存的内容与您填写的不同之处；您填写的内容仍在页面上，请核对后再操作。")


@bp.route("/tasks/<int:task_id>/positions/<int:position>/followups/<int:followup_id>/recheck", methods=["POST"])
@access.roles(INSPECTOR, sealed="复查")
@access.load(task_id=policy.get_drawn_task)
def followup_recheck(task, position: int, followup_id: int):
    """Record the re-check of a rectification order (Art 10)."""
    mine = policy.position_for_reading(task, position)
    row = followup.get(task, position, followup_id)
    if row is None:
        access.refuse("no_such_followup", 404)
    typed = followup.recheck_typed(request.form)
    try:
        if mine is None:
            access.refuse("not_own_assignment")
        with concurrency.guarded():
            concurrency.check(row, submitted_version(request.form))
            followup.recheck(task, row, request.form)
    except StaleEdit:
        status = _refused(STALE_RECHECK, 409, "stale_version")
        return _record_page(task, position, mine, None, status, recheck=(followup_id, typed, True))
    except RecordError as exc:
        status = _refused(str(exc), exc.status, exc.reason)
        return _record_page(task, position, mine, None, status, recheck=(followup_id, typed, False))
    flash("复查结果已记录。", "success")
    return redirect(url_for("inspections.record", task_id=task.id, position=position) + "#followups")


# --- the section's final report (Art 9) ------------------------------------------------------


STALE_REPORT = ("您打开总结报告之后，别人已经重新起草或审核了它，您这次的操作没有保存。"
                "请阅读下面现在的报告后再操作；您起草的正文仍在表单中。")


def _final_values(task):
    values = []
    for row in service.records_of(task):
        if row.state == "submitted":
            v = service.read_record(row, "final_report_source")
            v["_position"] = row.position
            values.append(v)
    return values


@bp.route("/tasks/<int:task_id>/final-report", methods=["GET", "POST"])
@access.roles(*READERS, sealed="总结报告")
@access.load(task_id=policy.get_task_overview)
def final_report(task):
    """The section's final report to the bureau's leadership: drafted by staff, approved by the head."""
    row = reports.get(task)
    if request.method == "POST":
        text = request.form.get("text", "")
        if not reports.may_draft(current_user, task):
            access.refuse("not_own_section")
        try:
            with concurrency.guarded():
                concurrency.check(row, submitted_version(request.form))
                reports.draft(task, _final_values(task), len(service.positions_of(task)), text)
        except StaleEdit:
            status = _refused(STALE_REPORT, 409, "stale_version")
            row = reports.get(task)
            value = reports.read(row) if row else None
            stale = concurrency.stale_box(
                {"text": "总体情况与处理意见"}, {"text": (value or {}).get("text", "")}, {"text": text},
                by=row.drafted_by.display_name if row else None, at=clock.show(row.drafted_at) if row else None,
                state=row.state_label if row else None)
            return render_template("inspections/final_report.html", task=task, row=row, value=value, text=text,
                                   may_draft=True, may_approve=False, mark=watermark(), stale=stale), status
        except RecordError as exc:
            status = _refused(str(exc), exc.status, exc.reason)
            return render_template("inspections/final_report.html", task=task, row=row, value=None, text=text,
                                   may_draft=True, may_approve=False, mark=watermark()), status
        flash("总结报告已起草，请本科室负责人（起草人以外）审核。", "success")
        return redirect(url_for("inspections.final_report", task_id=task.id))
    value = reports.read(row) if row else None
    return render_template("inspections/final_report.html", task=task, row=row, value=value,
                           text=value["text"] if value else "", may_draft=reports.may_draft(current_user, task),
                           may_approve=reports.may_approve(current_user, task, row),
                           may_acknowledge=reports.may_acknowledge(current_user, task, row), mark=watermark())


@bp.route("/tasks/<int:task_id>/final-report/acknowledge", methods=["POST"])
@access.roles(SUPERVISOR, sealed="阅知总结报告")
@access.load(task_id=policy.get_task_overview)
def final_report_acknowledge(task):
    """A supervisor signs the section's approved final report as read (Art 9: 报局党组); logged."""
    try:
        reports.acknowledge(task, reports.get(task))
    except RecordError as exc:
        status = _refused(str(exc), exc.status, exc.reason)
        row = reports.get(task)
        value = reports.read(row) if row else None
        return render_template("inspections/final_report.html", task=task, row=row, value=value,
                               text=value["text"] if value else "", may_draft=False, may_approve=False,
                               may_acknowledge=False, mark=watermark()), status
    flash("已阅，阅知人和时间已记录。", "success")
    return redirect(url_for("inspections.final_report", task_id=task.id))


@bp.route("/tasks/<int:task_id>/final-report/approve", methods=["POST"])
@access.roles(SECTION_HEAD, sealed="审核总结报告")
@access.load(task_id=policy.get_task_overview)
def final_report_approve(task):
    """The head of the section (not the drafter) approves the final report; the task becomes 已报告."""
    try:
        with concurrency.guarded():
            row = reports.get(task)
            # The head approves the text they read: a redraft since then is refused, not approved unseen.
            concurrency.check(row, submitted_version(request.form))
            reports.approve(task, row)
    except (StaleEdit, RecordError) as exc:
        if isinstance(exc, StaleEdit):
            status = _refused(STALE_REPORT, 409, "stale_version")
        else:
            status = _refused(str(exc), exc.status, exc.reason)
        if status == 403:
            access.mark_refused("drafter_cannot_approve")
        row = reports.get(task)
        value = reports.read(row) if row else None
        return render_template("inspections/final_report.html", task=task, row=row, value=value,
                               text=value["text"] if value else "", may_draft=reports.may_draft(current_user, task),
                               may_approve=False, mark=watermark()), status
    flash("总结报告已审核，任务进入“已报告”阶段。", "success")
    return redirect(url_for("inspections.final_report", task_id=task.id))
