"""Who may read and write which inspection record, notice, evidence and report (SPEC §4, §7; Art 8, 9, 12).

A drawn task is loaded through `get_drawn_task`, scoped like every task
(`ssj.ceremony.policy.get_task_in_reach`: another department's task does
not exist for the user, unless they are assigned to it). Within it, a
position is readable by its own active team members and by the people who
may read the whole sealed list (organizer, head of its section, supervisor
of its department); only its team writes. Admin and discipline never read.
Every refusal goes through `ssj.security.access.refuse`.
"""
from __future__ import annotations

from typing import Optional

from flask_login import current_user

from ..auth.roles import ADMIN, DISCIPLINE, INSPECTOR
from ..ceremony import policy as ceremony_policy
from ..ceremony import service as ceremony
from ..models import Assignment, Task
from ..security.access import not_found, refuse
from .service import WORKING_STATES, RecordError


def my_assignment(task: Task, position: int) -> Optional[Assignment]:
    if not current_user.has_role(INSPECTOR):
        return None
    me = ceremony_policy.my_inspector()
    return ceremony.active_assignment(task, position, me.id) if me is not None else None


def may_read_all(user, task: Task) -> bool:
    """Organizer, section head, supervisor: the same people who may read the sealed list."""
    return ceremony_policy.may_read_list(user, task)


def get_drawn_task(task_id: int) -> Task:
    """A task within the user's reach that has a sealed draw; otherwise it does not exist for them."""
    task = ceremony_policy.get_task_in_reach(task_id)
    if ceremony.sealed_attempt(task) is None:
        not_found()
    return task


def get_task_overview(task_id: int) -> Task:
    """A drawn task whose every record this user may read."""
    task = get_drawn_task(task_id)
    if not may_read_all(current_user, task):
        refuse("no_need_to_know", 404 if not ceremony_policy.in_department(current_user, task) else 403)
    return task


def position_for_reading(task: Task, position: int) -> Optional[Assignment]:
    """The user's own assignment on the position, or None for a need-to-know reader; refuses others."""
    if current_user.has_role(ADMIN, DISCIPLINE):
        refuse("no_need_to_know")
    mine = my_assignment(task, position)
    if mine is not None or may_read_all(current_user, task):
        return mine
    refuse("not_own_assignment")


def position_for_writing(task: Task, position: int) -> Assignment:
    """Only an active member of the position's team writes its record, follow-up and evidence."""
    mine = None if current_user.has_role(ADMIN, DISCIPLINE) else my_assignment(task, position)
    if mine is None:
        refuse("not_own_assignment")
    if task.status not in WORKING_STATES:
        raise RecordError(f"任务已进入“{task.status_label}”阶段，检查记录不能再修改。", 409)
    return mine
