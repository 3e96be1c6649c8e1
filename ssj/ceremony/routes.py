"""Pages of the draw ceremony (Art 5, 6, 9), the sealed lists and recusals (Art 5, 12).

Routes stay thin: load through `policy` (404/403, denials logged), check
the form, call `service`, render. Each ceremony step is a plain form that
posts and redirects back to the ceremony page, so it works without
JavaScript; the projector view polls with htmx and also works by reload.
Pages with sealed content are `no-store` (set for every signed-in page by
ssj.security.headers) and their prints and exports carry a watermark.
"""
from __future__ import annotations

import json
from datetime import datetime
from io import BytesIO

from flask import flash, g, make_response, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from .. import clock
from ..auth.roles import DISCIPLINE, INSPECTOR, PLANNERS, SECTION_HEAD, STAFF, SUPERVISOR
from ..extensions import db
from ..models import Inspector
from ..security import access
from . import bp, exports, policy, service
from . import record as record_view
from ..templating import watermark
from .forms import REASON_LIMIT, DigitsForm, ReasonForm, WitnessForm

WATCHERS = (STAFF, SECTION_HEAD, SUPERVISOR, DISCIPLINE)
LIST_READERS = (STAFF, SECTION_HEAD, SUPERVISOR)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


bp.context_processor(record_view.template_helpers)


def _local(value: datetime) -> str:
    return clock.show(value)


# --- the ceremony page -----------------------------------------------------------


def _page(task, status: int = 200, error: str | None = None, witness=None, reason=None, decision=None):
    attempt = service.current_attempt(task)
    return render_template(
        "ceremony/draw.html",
        task=task,
        attempt=attempt,
        summary=service.summary(attempt) if attempt else None,
        samples=json.loads(attempt.sample_summary_json) if attempt and attempt.sample_summary_json else None,
        step=service.current_step(attempt),
        attempts=service.attempts_view(task),
        problems=service.entropy_problems(attempt) if attempt and attempt.state == "committed" else [],
        digits=service.digits_entered(attempt) if attempt else 0,
        may_organize=policy.may_organize(current_user, task),
        may_read_list=policy.may_read_list(current_user, task),
        may_decide=attempt is not None
        and attempt.redraw_pending
        and policy.may_decide_redraw(current_user, task, attempt.void_requested_by_id),
        redrawable=task.status in service.REDRAWABLE,
        witness=witness or WitnessForm(),
        reason=reason or ReasonForm(),
        decision=decision or ReasonForm(),
        error=error,
    ), status


def _posted_attempt(task):
    """The current attempt, provided the form was made for it (a stale page must not act on a newer attempt)."""
    attempt = service.current_attempt(task)
    sent = request.form.get("attempt", "")
    if attempt is None or sent != str(attempt.number):
        raise service.CeremonyError("页面已过期：抽取进度已有变化。请刷新页面，核对后再操作。")
    return attempt


def _back(task, anchor: str):
    return redirect(url_for("ceremony.draw", task_id=task.id, _anchor=anchor))


@bp.route("/tasks/<int:task_id>/draw")
@access.roles(*WATCHERS)
@access.load(task_id=policy.get_task_to_watch)
def draw(task):
    """摇号: the ceremony page, one step after another."""
    return _page(task)


@bp.route("/tasks/<int:task_id>/draw/freeze", methods=["POST"])
@access.roles(*PLANNERS)
@access.load(task_id=policy.get_task_to_organize)
def freeze(task):
    """Step 1: freeze the pools of a new numbered attempt."""
    try:
        if request.form.get("attempt", "") != "new":
            raise service.CeremonyError("页面已过期：抽取进度已有变化。请刷新页面，核对后再操作。")
        attempt = service.freeze(task, current_user)
    except service.CeremonyError as exc:
        return _page(task, exc.status, error=str(exc))
    flash(f"第 {attempt.number} 次抽取：名单已冻结，摘要已公示。下一步请生成并公示随机数承诺。", "success")
    return _back(task, "step-2")


@bp.route("/tasks/<int:task_id>/draw/commit", methods=["POST"])
@access.roles(*PLANNERS)
@access.load(task_id=policy.get_task_to_organize)
def commit(task):
    """Step 2: generate the secret nonce and publish its commitment."""
    try:
        service.commit(_posted_attempt(task))
    except service.CeremonyError as exc:
        return _page(task, exc.status, error=str(exc))
    flash("随机数承诺已生成。请先向在场人员展示并打印承诺值，再请见证人掷骰。", "success")
    return _back(task, "step-2")


@bp.route("/tasks/<int:task_id>/draw/witnesses", methods=["POST"])
@access.roles(*PLANNERS)
@access.load(task_id=policy.get_task_to_organize)
def add_witness(task):
    """Step 3 on the ceremony screen: a witness re-enters their own password, then their digits."""
    form = WitnessForm.from_request(request.form)
    form.password, password = "", form.password  # never echoed back into the page
    try:
        attempt = _posted_attempt(task)
        problem = service.witness_step_problem(attempt)
        if problem:
            raise service.CeremonyError(problem)
        if not request.form.get("username", "").strip() and (request.form.get("name") or request.form.get("digits")):
            # The v1 form: the organiser typing someone's name and dice.
            service.refuse_witness(attempt, "typed_by_organiser", tried=None)
            access.mark_refused("typed_by_organiser")
            g.keep_changes = True
            return _page(task, 403, error="组织人不能替见证人录入点数：请见证人本人输入自己的用户名和密码后录入，"
                                          "或由见证人本人登录后在“见证人录入”页录入。", witness=form)
        form.password = password
        valid = form.validate(service.digits_entered(attempt))
        form.password = ""
        if not valid:
            return _page(task, 422, error="见证人信息有误，请按提示修改后重新提交。", witness=form)
        person = service.confirm_witness(attempt, form.username, password)
        witness = service.add_witness(attempt, person, form.clean, entered_by=current_user, identified_by="password")
    except service.CeremonyError as exc:
        if exc.status == 403:
            # Refusals are logged (service.refuse_witness), and a wrong
            # password counts towards the witness's lockout: keep both.
            access.mark_refused("witness_refused")
            g.keep_changes = True
        return _page(task, exc.status, error=str(exc), witness=form)
    flash(f"已录入见证人 {witness.name}（{witness.affiliation}）本人确认的 {len(witness.digits)} 位数字。", "success")
    return _back(task, "step-3")


@bp.route("/tasks/<int:task_id>/draw/witness", methods=["GET", "POST"])
@access.signed_in
@access.load(task_id=policy.get_task_to_witness)
def witness_entry(task):
    """见证人录入: a witness, signed in as themselves, types their own digits."""
    attempt = service.current_attempt(task)
    form = DigitsForm()
    error = None
    status = 200
    if request.method == "POST":
        form = DigitsForm.from_request(request.form)
        try:
            attempt = _posted_attempt(task)
            problem = service.witness_step_problem(attempt)
            if problem:
                raise service.CeremonyError(problem)
            if form.validate(service.digits_entered(attempt)):
                witness = service.add_witness(
                    attempt, current_user, form.clean, entered_by=current_user, identified_by="session"
                )
                flash(f"已录入您的 {len(witness.digits)} 位数字，谢谢。请在摇号大屏上核对。", "success")
                return redirect(url_for("ceremony.witness_entry", task_id=task.id))
            status, error = 422, form.errors["digits"]
        except service.CeremonyError as exc:
            if exc.status == 403:
                access.mark_refused("witness_refused")
                g.keep_changes = True
            status, error = exc.status, str(exc)
    problem = None
    if attempt is not None:
        problem = service.witness_step_problem(attempt) or policy.witness_problem(current_user, task, attempt)
    return render_template(
        "ceremony/witness.html", task=task, attempt=attempt, form=form, error=error, problem=problem,
        digits=service.digits_entered(attempt) if attempt else 0,
    ), status


@bp.route("/tasks/<int:task_id>/draw/run", methods=["POST"])
@access.roles(*PLANNERS)
@access.load(task_id=policy.get_task_to_organize)
def run(task):
    """Step 4: run the draw once and seal the result."""
    try:
        attempt = _posted_attempt(task)
        service.run(attempt, current_user)
    except service.CeremonyError as exc:
        # A draw that ran and stopped (too few inspectors) stays on the
        # record with its entropy: keep those changes despite the 422.
        g.keep_changes = True
        return _page(task, exc.status, error=str(exc))
    flash("抽取完成，结果已加密封存。请打印抽取记录，由组织人和见证人签字。", "success")
    return _back(task, "step-4")


@bp.route("/tasks/<int:task_id>/draw/redraw", methods=["POST"])
@access.roles(*PLANNERS)
@access.load(task_id=policy.get_task_to_organize)
def request_redraw(task):
    """Ask for this attempt to be voided and the draw redone, with a written reason."""
    form = ReasonForm.from_request(request.form)
    try:
        attempt = _posted_attempt(task)
        if not form.validate("请写明为什么需要重新抽取。原因会写入公开的抽取记录，并由局领导审批。"):
            return _page(task, 422, error=form.errors["reason"], reason=form)
        service.request_redraw(attempt, current_user, form.reason)
    except service.CeremonyError as exc:
        return _page(task, exc.status, error=str(exc), reason=form)
    flash("已提交重新抽取申请，请局领导审批。审批前本次抽取不能继续操作。", "success")
    return _back(task, "redraw")


@bp.route("/tasks/<int:task_id>/draw/redraw/decide", methods=["POST"])
@access.roles(SUPERVISOR)
@access.load(task_id=policy.get_task_to_watch)
def decide_redraw(task):
    """A supervisor approves or turns down a redraw request."""
    form = ReasonForm.from_request(request.form, "note")
    decision = request.form.get("decision", "")
    try:
        attempt = _posted_attempt(task)
        if not attempt.redraw_pending:
            raise service.CeremonyError("没有等待审批的重新抽取申请。")
        if not policy.may_decide_redraw(current_user, task, attempt.void_requested_by_id):
            access.mark_refused("own_request" if current_user.id == attempt.void_requested_by_id else "not_supervisor")
            return _page(
                task, 403,
                error="重新抽取须由提出申请以外的本部门局领导审批：您不能审批自己提出的申请。"
                if current_user.id == attempt.void_requested_by_id
                else "只有本部门的局领导可以审批重新抽取。",
                decision=form,
            )
        if decision not in ("approve", "decline"):
            return _page(task, 422, error="请选择“批准重新抽取”或“不同意”。", decision=form)
        if decision == "decline" and not form.validate("不同意时请写明意见，告诉组织人应如何处理。"):
            return _page(task, 422, error=form.errors["reason"], decision=form)
        if len(form.reason) > REASON_LIMIT:
            return _page(task, 422, error=f"审批意见最多 {REASON_LIMIT} 个字。", decision=form)
        service.decide_redraw(attempt, current_user, decision == "approve", form.reason)
    except service.CeremonyError as exc:
        return _page(task, exc.status, error=str(exc), decision=form)
    if decision == "approve":
        flash(f"已批准：第 {attempt.number} 次抽取作废并留在记录中。组织人可核对任务设置后从第 1 步重新开始。", "success")
    else:
        flash("已不同意重新抽取，本次抽取继续有效。", "success")
    return _back(task, "attempts")


# --- public facts: commitment, record, projector ---------------------------------------


@bp.route("/tasks/<int:task_id>/draw/commitment")
@access.roles(*WATCHERS)
@access.load(task_id=policy.get_task_to_watch)
def commitment(task):
    """The nonce commitment alone, large, for showing and printing before the dice."""
    attempt = service.current_attempt(task)
    return render_template("ceremony/commitment.html", task=task, attempt=attempt, printed_by=current_user,
                           printed_at=clock.now())


@bp.route("/tasks/<int:task_id>/draw/record")
@access.roles(*WATCHERS)
@access.load(task_id=policy.get_task_to_watch)
def record(task):
    """抽取记录: every attempt's public facts on A4, without the selected names."""
    return record_view.render_record(task, current_user, clock.now())


@bp.route("/tasks/<int:task_id>/draw/screen")
@access.roles(*WATCHERS)
@access.load(task_id=policy.get_task_to_watch)
def screen(task):
    """The projector view: the current step's public facts in large type, refreshed live."""
    attempt = service.current_attempt(task)
    context = dict(
        task=task,
        attempt=attempt,
        summary=service.summary(attempt) if attempt else None,
        samples=json.loads(attempt.sample_summary_json) if attempt and attempt.sample_summary_json else None,
        step=service.current_step(attempt),
        digits=service.digits_entered(attempt) if attempt else 0,
        needs_external=bool(attempt) and attempt.state == "committed" and not service.has_external_witness(attempt),
        updated_at=clock.now(),
        void_count=sum(1 for a in service.attempts_of(task) if a.state == "void"),
    )
    template = "ceremony/_screen.html" if request.headers.get("HX-Request") else "ceremony/screen.html"
    response = make_response(render_template(template, **context))
    response.vary.add("HX-Request")
    return response


# --- sealed content: need to know, logged first ---------------------------------------


@bp.route("/tasks/<int:task_id>/list")
@access.roles(*LIST_READERS, sealed="抽中名单")
@access.load(task_id=policy.get_task_list)
def sealed_list(task):
    """The task's drawn targets and teams, for its organizer, section head and supervisors."""
    listing = service.read_list(task, "task_list")
    return render_template("ceremony/list.html", task=task, listing=listing,
                           may_recuse=policy.may_organize(current_user, task) and policy.may_read_list(current_user, task))


@bp.route("/tasks/<int:task_id>/list/print")
@access.roles(*LIST_READERS, sealed="抽中名单打印页")
@access.load(task_id=policy.get_task_list)
def sealed_list_print(task):
    """The sealed list on A4, with the viewer's name and the time across every page."""
    listing = service.read_list(task, "print")
    return render_template("ceremony/list_print.html", task=task, listing=listing, mark=watermark())


@bp.route("/tasks/<int:task_id>/list.xlsx")
@access.roles(*LIST_READERS, sealed="抽中名单导出")
@access.load(task_id=policy.get_task_list)
def sealed_list_xlsx(task):
    """The sealed list as .xlsx, watermarked in a header row and the sheet's header and footer."""
    listing = service.read_list(task, "export")
    if listing is None:
        flash("本任务还没有封存的抽取结果，没有可导出的名单。", "warning")
        return redirect(url_for("ceremony.draw", task_id=task.id))
    # Built in memory: a temporary file would leave the list in plaintext on disk.
    body = BytesIO(exports.sealed_list_xlsx(listing, watermark()))
    stamp = clock.local_now()
    response = send_file(
        body, mimetype=XLSX_MIME, as_attachment=True,
        download_name=f"抽查名单-任务{task.id}-{stamp:%Y%m%d-%H%M}.xlsx",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/my/inspections")
@access.roles(INSPECTOR, sealed="我的检查任务")
def my_inspections():
    """我的检查任务: the signed-in inspector's own assignments, and nobody else's."""
    inspector = policy.my_inspector()
    items = service.my_assignments(inspector) if inspector is not None else []
    return render_template("ceremony/mine.html", inspector=inspector, items=items)


def _recusal_target(task, position: int, inspector_id: int):
    """(task, assignment) for a recusal: the inspector themself, or the organizer or head on their behalf."""
    policy.check_recusal(task, inspector_id)
    assignment = service.active_assignment(task, position, inspector_id)
    if assignment is None:
        access.refuse("no_such_assignment", 404)
    return task, assignment


@bp.route("/tasks/<int:task_id>/positions/<int:position>/inspectors/<int:inspector_id>/recuse", methods=["GET", "POST"])
@access.roles(STAFF, SECTION_HEAD, INSPECTOR, sealed="回避申请")
@access.load(task_id=policy.get_task_in_reach)
def recuse(task, position: int, inspector_id: int):
    """Declare a conflict after the draw: the next inspector in the frozen ranking takes the place (Art 5)."""
    task, assignment = _recusal_target(task, position, inspector_id)
    inspector = db.session.get(Inspector, inspector_id)
    self_service = inspector.user_id == current_user.id
    back = url_for("ceremony.my_inspections") if self_service else url_for("ceremony.sealed_list", task_id=task.id)
    if request.method == "GET":
        return render_template("ceremony/recuse.html", task=task, position=position, inspector=inspector,
                               form=ReasonForm(), back=back)
    form = ReasonForm.from_request(request.form)
    if not form.validate("请写明回避原因，例如“本人配偶在该单位任职”。原因会加密保存，公开前只有有权人员能看到。"):
        return render_template("ceremony/recuse.html", task=task, position=position, inspector=inspector,
                               form=form, back=back), 422
    try:
        service.recuse(task, assignment, form.reason, current_user)
    except service.CeremonyError as exc:
        return render_template("ceremony/recuse.html", task=task, position=position, inspector=inspector,
                               form=form, back=back, error=str(exc)), exc.status
    flash(f"已办理回避：{inspector.name} 退出第 {position} 号对象的检查组，替补人员已按抽取时冻结的排序产生。", "success")
    return redirect(back)
