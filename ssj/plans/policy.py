"""Who may see and change which plan or task (SPEC §1, §3; Art 7, 18).

One loader per object answers both questions, the flaskr way: a plan or
task of another department does not exist for this user (404, so ids
cannot be probed); one they may not change, or (for tasks) not see, is
refused (403). Plans and tasks belong to a section: its staff and head
draw them up; the department's supervisors approve plans and see every
task. A task is need-to-know (its scope hints at who may be drawn), so
other sections do not see it; a plan becomes public once approved, so the
department may read it at any stage.
"""
from __future__ import annotations

from flask import current_app, g, has_request_context
from flask_login import current_user
from sqlalchemy import select

from ..auth.roles import PLANNERS, SUPERVISOR
from ..extensions import db
from ..models import AnnualPlan, Section, Task
from ..security.access import in_department, refuse



def in_section(user, section_id: int) -> bool:
    return user.has_role(*PLANNERS) and user.section_id is not None and user.section_id == section_id


# --- who organises a task's draw (Art 5, SPEC §3) ----------------------------------------------
# The 劳动保障监察大队 leads the draw of every section's task and the responsible
# section cooperates. The task lists and pages here follow this rule, and the
# ceremony's rules (ceremony.policy) build on it: the ceremony depends on the
# plans area, never the other way round (issue #15).


def lead_section_id(task: Task) -> int | None:
    """The 劳动保障监察大队 of the task's department, which leads every draw (Art 5).

    Looked up once per request and department: a page asks several policies (may read the
    list, may organise) that each need it.
    """
    code = current_app.config["DRAW_LEAD_SECTION_CODE"]
    department_id = task.section.department_id
    known = g.setdefault("_ssj_lead_sections", {}) if has_request_context() else {}
    if (department_id, code) not in known:
        known[department_id, code] = db.session.execute(
            select(Section.id).where(Section.department_id == department_id, Section.code == code)
        ).scalar_one_or_none()
    return known[department_id, code]


def leads_draws(user) -> bool:
    """A planner of the 大队, which organises the draws of every section of its department (Art 5)."""
    return (
        user.has_role(*PLANNERS)
        and user.section is not None
        and user.section.code == current_app.config["DRAW_LEAD_SECTION_CODE"]
    )


def organising_section_ids(task: Task) -> set[int]:
    """The responsible section and the 大队: the sections that organise the task's draw."""
    lead = lead_section_id(task)
    return {task.section_id} | ({lead} if lead is not None else set())


def organises_draw(user, task: Task) -> bool:
    """A planner (staff or head) of one of the task's organising sections: may run its ceremony."""
    return user.has_role(*PLANNERS) and user.section_id is not None and user.section_id in organising_section_ids(task)


def may_edit_plan(user, plan: AnnualPlan) -> bool:
    return in_section(user, plan.section_id)


def may_decide_plan(user, plan: AnnualPlan) -> bool:
    """A supervisor of the plan's department, other than the person who submitted it."""
    return (
        user.has_role(SUPERVISOR)
        and user.department_id == plan.section.department_id
        and user.id != plan.submitted_by_id
    )


def may_see_task(user, task: Task) -> bool:
    # Art 5: the 大队 organises every section's draw.
    return in_section(user, task.section_id) or organises_draw(user, task) or (
        user.has_role(SUPERVISOR) and user.department_id == task.section.department_id
    )


def may_edit_task(user, task: Task) -> bool:
    return in_section(user, task.section_id)


def require_section() -> int:
    """The user's section: plans and tasks are always made for one's own section."""
    if current_user.section_id is None:
        refuse("no_section")
    return current_user.section_id


def get_plan_to_edit(plan_id: int) -> AnnualPlan:
    return get_plan(plan_id, for_edit=True)


def get_task_to_edit(task_id: int) -> Task:
    return get_task(task_id, for_edit=True)


def get_plan(plan_id: int, for_edit: bool = False) -> AnnualPlan:
    plan = in_department(AnnualPlan, plan_id, lambda p: p.section.department_id)
    if for_edit and not may_edit_plan(current_user, plan):
        refuse("not_own_section")
    return plan


def get_task(task_id: int, for_edit: bool = False) -> Task:
    task = in_department(Task, task_id, lambda t: t.section.department_id)
    if not may_see_task(current_user, task):
        refuse("not_own_section")
    if for_edit and not may_edit_task(current_user, task):
        refuse("not_own_section")
    return task
