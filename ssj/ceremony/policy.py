"""Who may run, watch and read which part of a task's draw (SPEC §1, §4; Art 3, 12).

One loader per purpose answers both questions, as in ssj.plans.policy: a
task of another department does not exist for this user (404, so ids
cannot be probed), one they may not use for this purpose is refused (403).
Either way the attempt is logged as denied (`g.denied`), so the discipline
office sees who tried to read a list they had no business with.

Need to know for the sealed list (SPEC §4): the task's organizer and the
head of its section, and the supervisors of its department. Holding the
admin or discipline role vetoes it even next to another role: those
offices exist to watch the others and "never read sealed lists".
"""
from __future__ import annotations

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from ..auth.roles import ADMIN, DISCIPLINE, SECTION_HEAD, STAFF, SUPERVISOR
from ..extensions import db
from ..models import Inspector, Task

PLANNERS = (STAFF, SECTION_HEAD)
VETO = (ADMIN, DISCIPLINE)


def in_section(user, task: Task) -> bool:
    return user.has_role(*PLANNERS) and user.section_id is not None and user.section_id == task.section_id


def in_department(user, task: Task) -> bool:
    return user.department_id == task.section.department_id


def is_supervisor_of(user, task: Task) -> bool:
    return user.has_role(SUPERVISOR) and in_department(user, task)


def may_organize(user, task: Task) -> bool:
    """Run the ceremony's steps and ask for a redraw: the section's staff and head."""
    return in_section(user, task)


def may_watch(user, task: Task) -> bool:
    """See the ceremony's public facts and its record (no names are on them)."""
    return in_section(user, task) or is_supervisor_of(user, task) or (
        user.has_role(DISCIPLINE) and in_department(user, task)
    )


def may_read_list(user, task: Task) -> bool:
    """The task's whole sealed list: organizer, head of its section, a supervisor of its department."""
    if user.has_role(*VETO):
        return False
    organizer = user.id == task.organizer_id and in_section(user, task)
    head = user.has_role(SECTION_HEAD) and user.section_id == task.section_id
    return organizer or head or is_supervisor_of(user, task)


def may_decide_redraw(user, task: Task, requested_by_id: int | None) -> bool:
    """A supervisor of the task's department who is not the person asking."""
    return is_supervisor_of(user, task) and requested_by_id is not None and user.id != requested_by_id


def refuse(reason: str, status: int = 403):
    g.denied = True
    g.denial_reason = reason
    abort(status)


def _load(task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    if task is None:
        abort(404)
    if not in_department(current_user, task) and not own_inspector_on(task):
        refuse("other_department", 404)
    return task


def get_task_to_watch(task_id: int) -> Task:
    task = _load(task_id)
    if not may_watch(current_user, task):
        refuse("not_own_section")
    return task


def get_task_to_organize(task_id: int) -> Task:
    task = _load(task_id)
    if not may_organize(current_user, task):
        refuse("not_own_section")
    return task


def get_task_list(task_id: int) -> Task:
    task = _load(task_id)
    if not may_read_list(current_user, task):
        refuse("no_need_to_know")
    return task


def my_inspector(user=None) -> Inspector | None:
    """The directory entry of the signed-in inspector (Inspector.user_id), if any."""
    user = user or current_user
    return db.session.execute(select(Inspector).where(Inspector.user_id == user.id)).scalar_one_or_none()


def own_inspector_on(task: Task) -> bool:
    """A partner department's inspector reaches a joint task only through their own assignment."""
    from ..models import Assignment

    inspector = my_inspector() if current_user.has_role("inspector") else None
    if inspector is None:
        return False
    return db.session.execute(
        select(Assignment.id).where(
            Assignment.task_id == task.id, Assignment.inspector_id == inspector.id, Assignment.active.is_(True)
        ).limit(1)
    ).first() is not None


def get_task_for_recusal(task_id: int, inspector_id: int) -> Task:
    """The inspector declaring their own conflict, or the organizer or section head on their behalf."""
    task = _load(task_id)
    me = my_inspector() if current_user.has_role("inspector") else None
    if me is not None and me.id == inspector_id:
        return task
    if may_organize(current_user, task) and may_read_list(current_user, task):
        return task
    refuse("not_own_assignment")
