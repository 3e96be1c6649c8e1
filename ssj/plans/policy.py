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

from flask_login import current_user

from ..auth.roles import SECTION_HEAD, STAFF, SUPERVISOR
from ..extensions import db
from ..models import AnnualPlan, Task
from ..security.access import not_found, refuse

PLANNERS = (STAFF, SECTION_HEAD)


def in_section(user, section_id: int) -> bool:
    return user.has_role(*PLANNERS) and user.section_id is not None and user.section_id == section_id


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
    from ..ceremony.policy import may_organize  # Art 5: the 大队 organises every section's draw

    return in_section(user, task.section_id) or may_organize(user, task) or (
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
    plan = db.session.get(AnnualPlan, plan_id)
    if plan is None:
        not_found()
    if plan.section.department_id != current_user.department_id:
        refuse("other_department", 404)
    if for_edit and not may_edit_plan(current_user, plan):
        refuse("not_own_section")
    return plan


def get_task(task_id: int, for_edit: bool = False) -> Task:
    task = db.session.get(Task, task_id)
    if task is None:
        not_found()
    if task.section.department_id != current_user.department_id:
        refuse("other_department", 404)
    if not may_see_task(current_user, task):
        refuse("not_own_section")
    if for_edit and not may_edit_task(current_user, task):
        refuse("not_own_section")
    return task
