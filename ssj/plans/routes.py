"""Pages for annual plans (Art 7, 18) and inspection tasks (Art 5, 11, 16, 18), and the public plan list (Art 13).

Routes stay thin: load through `policy`, validate through `forms`, change
through `service`, render. The task list and the pool preview return
their fragment to htmx and the full page otherwise, from one template.
"""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from .. import clock, concurrency
from ..audit.refusals import refuse_change
from ..auth.roles import PLANNERS, SECTION_HEAD, STAFF, SUPERVISOR
from ..listing import paginate, render_list, wants_fragment
from ..extensions import db
from ..concurrency import StaleEdit, submitted_version
from ..models import AnnualPlan, Section, Task
from ..models.draws import PLAN_STATUSES, STRATUM_KINDS, TASK_STATUSES
from ..security import access
from . import bp, rules, service
from .forms import SIZE_FILTERS, NewPlanForm, PlanForm, TaskForm
from .policy import (
    get_plan,
    get_plan_to_edit,
    get_task,
    get_task_to_edit,
    may_decide_plan,
    may_edit_plan,
    may_edit_task,
    require_section,
)

READERS = (STAFF, SECTION_HEAD, SUPERVISOR)


@bp.app_context_processor
def plan_helpers():
    return {
        "PLAN_STATUSES": PLAN_STATUSES,
        "TASK_STATUSES": TASK_STATUSES,
        "STRATUM_KINDS": STRATUM_KINDS,
        "SIZE_FILTERS": SIZE_FILTERS,
        "STRATUM_RULE_TEXT": rules.STRATUM_RULE_TEXT,
    }


# --- annual plans -------------------------------------------------------------


@bp.route("/plans")
@access.roles(*READERS)
def plans():
    """年度抽查计划: the section's plans, or the whole department's for a supervisor."""
    plans = service.visible_plans(current_user)
    return render_template(
        "plans/plans.html",
        plans=plans,
        shortfall_counts={p.id: len(service.item_shortfalls(p)) for p in plans},
        may_create=current_user.has_role(*PLANNERS) and current_user.section_id is not None,
    )


@bp.route("/plans/new", methods=["GET", "POST"])
@access.roles(*PLANNERS)
def plan_new():
    """Start the section's annual plan for a year, one line per active matter."""
    section_id = require_section()
    this_year = clock.today().year
    years = [this_year, this_year + 1]
    if request.method == "GET":
        return render_template("plans/plan_new.html", form=NewPlanForm(year=str(this_year)), years=years)
    form = NewPlanForm(year=request.form.get("year", "").strip())
    if not form.validate(service.taken_years(section_id)):
        return render_template("plans/plan_new.html", form=form, years=years), 422
    if not service.active_matters(section_id):
        form.errors["year"] = "本科室还没有状态为“有效”的抽查事项。请先在“事项清单”中录入事项，再制定年度计划（细则第四条、第七条）。"
        return render_template("plans/plan_new.html", form=form, years=years), 422
    plan = service.create_plan(section_id, int(form.year), current_user)
    flash(f"已建立 {plan.year} 年度抽查计划草稿，已按事项清单预填频次和比例，请逐项核对后保存。", "success")
    return redirect(url_for("plans.plan_edit", plan_id=plan.id))


@bp.route("/plans/<int:plan_id>")
@access.roles(*READERS)
@access.load(plan_id=get_plan)
def plan(plan):
    """One annual plan with its Art 7 check per matter, its status and the decision."""
    return _plan_page(plan)


def _plan_page(p, status: int = 200, error: str | None = None, problems: list[str] | None = None,
               note: str = "", stale=None):
    return render_template(
        "plans/plan.html",
        plan=p,
        note=note,
        stale=stale,
        items=sorted(p.items, key=lambda i: i.matter.code),
        shortfalls=service.item_shortfalls(p),
        problems=problems if problems is not None else (service.submission_problems(p) if p.editable else []),
        may_edit=may_edit_plan(current_user, p),
        may_decide=may_decide_plan(current_user, p),
        own_submission=current_user.id == p.submitted_by_id,
        error=error,
    ), status


STALE_DECISION = ("您打开这份计划之后，别人已经修改、提交或审批了它，您这次的操作没有执行。"
                  "下面列出现在的状态与您打开时的不同之处，请核对上面现在的计划后再操作；您填写的意见仍在表单中。")
DECISION_LABELS = {"status": "计划状态", "content": "计划事项", "decision_note": "审批意见"}


def _claim_for_decision(plan: AnnualPlan, *statuses: str, note: str = ""):
    """Submit, approve, return or reopen the plan the person read: the row is claimed with
    UPDATE ... WHERE row_version = :seen AND status IN (...); a plan changed since is refused
    (409, what changed, the typed note kept, a stale_version refusal entry). None when claimed."""
    try:
        concurrency.claim(plan, submitted_version(request.form), AnnualPlan.status.in_(statuses))
    except StaleEdit:
        return _stale_decision(plan, note)
    return None


def _changed_since_read(plan: AnnualPlan, note: str = ""):
    """Before the state checks: a plan changed since the person read it gets the stale page, not
    a bare "wrong state" message. None when the form's version is the plan's."""
    try:
        concurrency.check(plan, submitted_version(request.form))
    except StaleEdit:
        return _stale_decision(plan, note)
    return None


def _stale_decision(plan: AnnualPlan, note: str):
    status = refuse_change("stale_version", 409)
    current = get_plan(plan.id)
    seen_status = request.form.get("seen_status", "")
    stale = concurrency.stale_box(
        DECISION_LABELS,
        {"status": current.status_label, "decision_note": current.decision_note,
         # the same state, yet another version: the lines were edited (they are shown on the page)
         "content": "已有新的修改，见上面的计划事项" if seen_status == current.status else ""},
        {"status": PLAN_STATUSES.get(seen_status, seen_status), "content": "",
         "decision_note": note or current.decision_note},
        typed_heading="您打开时看到的 / 您填写的")
    return _plan_page(current, status, error=STALE_DECISION, note=note, stale=stale)


STALE = ("您打开表单之后，别人已经保存了修改（或已提交、已摇号），您这次的修改没有保存。"
         "下面列出现在保存的内容与您填写的不同之处；您填写的内容仍在表单中，请核对后再保存。")


def _plan_form_page(p, form: PlanForm, status: int = 200, stale=None):
    return render_template("plans/plan_form.html", plan=p, form=form, stale=stale), status


def _stale_plan(current: AnnualPlan, typed: PlanForm) -> dict:
    labels, saved = PlanForm.from_plan(current, service.matters_missing_from(current)).shown()
    typed_labels, typed_values = typed.shown()
    return concurrency.stale_box({**labels, **typed_labels}, saved, typed_values, state=current.status_label)


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@access.roles(*PLANNERS)
@access.load(plan_id=get_plan_to_edit)
def plan_edit(plan):
    """Change the rounds, ratio, months and reasons of a draft or returned plan."""
    if not plan.editable:
        flash(f"该计划{plan.status_label}，不能修改。已批准的计划如需调整，请局领导“退回修改”后再改。", "warning")
        return redirect(url_for("plans.plan", plan_id=plan.id))
    missing = service.matters_missing_from(plan)
    if request.method == "GET":
        return _plan_form_page(plan, PlanForm.from_plan(plan, missing))
    form = PlanForm.from_request(request.form, plan, missing)
    if not form.validate():
        return _plan_form_page(plan, form, refuse_change("invalid_input", 422))
    try:
        concurrency.claim(plan, submitted_version(request.form), AnnualPlan.status.in_(("draft", "returned")))
    except StaleEdit:
        status = refuse_change("stale_version", 409)
        flash(STALE, "error")
        current = get_plan_to_edit(plan.id)
        return _plan_form_page(current, form, status, _stale_plan(current, form))
    changed = service.save_plan(plan, form)
    flash(f"已保存，修改了 {changed} 处。" if changed else "没有需要保存的修改。", "success" if changed else "info")
    return redirect(url_for("plans.plan", plan_id=plan.id))


@bp.route("/plans/<int:plan_id>/submit", methods=["POST"])
@access.roles(*PLANNERS)
@access.load(plan_id=get_plan_to_edit)
def plan_submit(plan):
    """Send the plan to a supervisor; shortfalls against Art 7 need a written reason first."""
    changed = _changed_since_read(plan)
    if changed is not None:
        return changed
    if not plan.editable:
        return _plan_page(plan, 409, error=f"该计划{plan.status_label}，不需要再次提交。")
    problems = service.submission_problems(plan)
    if problems:
        return _plan_page(plan, 422, error="计划还不能提交，请先处理下列问题：", problems=problems)
    refused = _claim_for_decision(plan, "draft", "returned")
    if refused is not None:
        return refused
    service.submit_plan(plan, current_user)
    flash(f"已提交 {plan.year} 年度抽查计划，等待局领导审批。", "success")
    return redirect(url_for("plans.plan", plan_id=plan.id))


@bp.route("/plans/<int:plan_id>/decide", methods=["POST"])
@access.roles(SUPERVISOR)
@access.load(plan_id=get_plan)
def plan_decide(plan):
    """A supervisor approves a submitted plan or returns it with a note."""
    if current_user.id == plan.submitted_by_id:
        access.mark_refused("own_submission")
        return _plan_page(plan, 403, error="您是该计划的提交人，不能审批自己提交的计划。请由其他局领导审批。")
    changed = _changed_since_read(plan, request.form.get("note", "").strip())
    if changed is not None:
        return changed
    if plan.status != "submitted":
        return _plan_page(plan, 409, error=f"该计划当前状态为“{plan.status_label}”，只有“待审批”的计划可以审批。")
    decision = request.form.get("decision", "")
    note = request.form.get("note", "").strip()
    if decision not in ("approve", "return"):
        return _plan_page(plan, 422, error="请选择“批准”或“退回修改”。")
    if decision == "return" and not note:
        return _plan_page(plan, 422, error="退回修改时请写明意见，告诉科室需要改什么。", note=note)
    if len(note) > 2000:
        return _plan_page(plan, 422, error="审批意见最多 2000 个字。", note=note)
    refused = _claim_for_decision(plan, "submitted", note=note)
    if refused is not None:
        return refused
    service.decide_plan(plan, current_user, decision == "approve", note)
    flash("已批准该年度抽查计划，计划将在公开页面公布。" if decision == "approve" else "已退回修改，科室将看到您的意见。", "success")
    return redirect(url_for("plans.plan", plan_id=plan.id))


@bp.route("/plans/<int:plan_id>/reopen", methods=["POST"])
@access.roles(SUPERVISOR)
@access.load(plan_id=get_plan)
def plan_reopen(plan):
    """A supervisor returns an approved plan to its section so that a new version can be made."""
    changed = _changed_since_read(plan, request.form.get("note", "").strip())
    if changed is not None:
        return changed
    if plan.status != "approved":
        return _plan_page(plan, 409, error="只有已批准的计划需要退回修改。")
    note = request.form.get("note", "").strip()
    if not note:
        return _plan_page(plan, 422, error="请写明退回修改的原因，例如“上级调整了抽查比例”。原因将记入访问日志。")
    if len(note) > 2000:
        return _plan_page(plan, 422, error="退回原因最多 2000 个字。", note=note)
    refused = _claim_for_decision(plan, "approved", note=note)
    if refused is not None:
        return refused
    service.reopen_plan(plan, current_user, note)
    flash("已将计划退回科室修改，原因已记入访问日志；修改后需重新提交审批。", "success")
    return redirect(url_for("plans.plan", plan_id=plan.id))


@bp.route("/public/plans")
@access.public
def public_plans():
    """Approved annual plans of every section, for the public (一公开)."""
    year = request.args.get("year", "").strip()
    plans = service.approved_plans(int(year) if year.isdigit() else None)
    return render_template("plans/public_plans.html", plans=plans, year=year)


# --- tasks --------------------------------------------------------------------


@bp.route("/tasks")
@access.roles(*READERS)
def tasks():
    """抽查任务: the section's tasks, or the whole department's for a supervisor."""
    filters = service.TaskFilters.from_args(request.args)
    stmt, count = service.tasks_query(current_user, filters)
    page = paginate(stmt, count)
    context = dict(page=page, filters=filters, filtered=filters.filtered)
    if not wants_fragment():
        context.update(
            years=service.task_years(current_user),
            may_create=current_user.has_role(*PLANNERS) and current_user.section_id is not None,
        )
    return render_list("plans/tasks.html", "plans/_tasks_results.html", **context)


def _task_form_page(form: TaskForm, task, choices, status: int = 200, stale=None):
    return render_template(
        "plans/task_form.html",
        form=form,
        task=task,
        choices=choices,
        stale=stale,
        section=task.section if task else db.session.get(Section, current_user.section_id),
    ), status


def _stale_task(current: Task, typed: TaskForm, choices) -> dict:
    matters = {tm.matter_id: f"{tm.matter.code} {tm.matter.name}" for tm in current.matters}
    names = {
        "matter_ids": {**matters, **{m.id: f"{m.code} {m.name}" for m in choices.matters.values()}},
        "township_ids": {t.id: t.name for t in choices.townships.values()},
        "partner_ids": {d.id: d.name for d in choices.partners.values()},
        "size_filter": SIZE_FILTERS,
    }
    labels, saved = TaskForm.from_task(current).shown(names)
    return concurrency.stale_box(labels, saved, typed.shown(names)[1], state=current.status_label)


def _count_pools(department_id: int):
    def count(form: TaskForm, kinds):
        return service.pool_sizes(service.Scope.of_form(form, department_id), kinds)

    return count


def _count_county(department_id: int):
    def count(form: TaskForm, kinds):
        return service.county_sizes(service.Scope.of_form(form, department_id), kinds)

    return count


def _validated(form: TaskForm, section: Section, task=None):
    year = int(form.year) if form.year.isdigit() else None
    choices = service.task_choices(section, year, task)
    valid = form.validate(choices, _count_pools(section.department_id), _count_county(section.department_id))
    return valid, choices


@bp.route("/tasks/new", methods=["GET", "POST"])
@access.roles(*PLANNERS)
def task_new():
    """Set up a new inspection task of the user's section."""
    section = db.session.get(Section, require_section())
    if request.method == "GET":
        year = clock.today().year
        form = TaskForm.blank(year, service.default_general_ratio(section.id, year))
        return _task_form_page(form, None, service.task_choices(section, year))
    form = TaskForm.from_request(request.form)
    ok, choices = _validated(form, section)
    if not ok:
        return _task_form_page(form, None, choices, 422)
    task = service.save_task(form, None, section, choices, current_user)
    flash(f"已建立抽查任务“{task.name}”。请查看下方的抽取范围预览，确认无误后再组织摇号。", "success")
    if task.out_of_plan:
        flash("注意：本任务属于计划外检查（细则第十八条），已记录您填写的原因。", "warning")
    return redirect(url_for("plans.task", task_id=task.id))


# Until its draw is frozen a task's page is about the pools the draw will start from. After
# it, the frozen pools are in the draw record, and the live preview (a pass over the whole
# directory, most of the page's cost) is computed only when asked for.
LIVE_PREVIEW_STATES = ("planned", "drawing")


def _task_page(task, status: int = 200, error: str | None = None):
    plan, uncovered = service.live_plan_coverage(task)
    live = task.status in LIVE_PREVIEW_STATES or request.args.get("preview") == "1"
    return render_template(
        "plans/task.html",
        task=task,
        preview=service.preview(task, clock.today()) if live else None,
        live_plan=plan,
        live_uncovered=uncovered,
        township_names=service.township_names(task.township_id_list),
        may_edit=may_edit_task(current_user, task) and task.editable,
        error=error,
    ), status


@bp.route("/tasks/<int:task_id>")
@access.roles(*READERS)
@access.load(task_id=get_task)
def task(task):
    """One task: its settings and a live preview of the pools a draw would use today."""
    return _task_page(task)


@bp.route("/tasks/<int:task_id>/preview")
@access.roles(*READERS)
@access.load(task_id=get_task)
def task_preview(task):
    """The pool preview alone, recomputed now (htmx), or the whole task page."""
    if not wants_fragment():
        return redirect(url_for("plans.task", task_id=task.id))
    response = make_response(
        render_template("plans/_preview.html", task=task, preview=service.preview(task, clock.today()))
    )
    response.vary.add("HX-Request")
    return response


@bp.route("/tasks/<int:task_id>/edit", methods=["GET", "POST"])
@access.roles(*PLANNERS)
@access.load(task_id=get_task_to_edit)
def task_edit(task):
    """Change a task's settings while it is still planned (before any draw)."""
    if not task.editable:
        message = f"任务已进入“{task.status_label}”阶段，设置已随摇号锁定，不能再修改（细则第九条“全程留痕”）。"
        if request.method == "GET":
            flash(message, "warning")
            return redirect(url_for("plans.task", task_id=task.id))
        return _task_page(task, 409, error=message)
    if request.method == "GET":
        form = TaskForm.from_task(task)
        return _task_form_page(form, task, service.task_choices(task.section, task.year, task))
    form = TaskForm.from_request(request.form)
    ok, choices = _validated(form, task.section, task)
    if not ok:
        return _task_form_page(form, task, choices, refuse_change("invalid_input", 422))
    try:
        concurrency.claim(task, submitted_version(request.form), Task.status == "planned")
    except StaleEdit:
        status = refuse_change("stale_version", 409)
        flash(STALE, "error")
        task = get_task_to_edit(task.id)
        choices = service.task_choices(task.section, task.year, task)
        return _task_form_page(form, task, choices, status, _stale_task(task, form, choices))
    service.save_task(form, task, task.section, choices, current_user)
    flash("已保存任务设置。", "success")
    if task.out_of_plan:
        flash("注意：本任务属于计划外检查（细则第十八条），已记录您填写的原因。", "warning")
    return redirect(url_for("plans.task", task_id=task.id))

