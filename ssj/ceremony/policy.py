"""Who may run, watch and read which part of a task's draw (SPEC §1, §4; Art 3, 12).

One loader per purpose answers both questions, as in ssj.plans.policy: a
task of another department does not exist for this user (404, so ids
cannot be probed), one they may not use for this purpose is refused (403).
Either way the attempt is logged as denied (`ssj.security.access.refuse`), so the discipline
office sees who tried to read a list they had no business with.

Who organises (Art 5, SPEC §3): the 劳动保障监察大队 leads the draw of
every section's task and the responsible section cooperates, so the
planners of both sections run the ceremony ("organising sections"). That
rule is in ssj.plans.policy, which lists and shows tasks by it; the ceremony
depends on the plans area, never the other way round (issue #15).

Need to know for the sealed list (SPEC §4): the task's organizer, the
大队 organiser who ran its sealed draw, the heads of both organising
sections, and the supervisors of its department. Holding the admin or
discipline role vetoes it even next to another role: those offices exist
to watch the others and "never read sealed lists".

Witnesses (SPEC §3 step 3) are people, not text: a signed-in user who is
not an organiser of the task types their own digits, and the record keeps
who they are. The discipline office may witness; it still never reads lists.
"""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from ..auth.roles import ADMIN, DISCIPLINE, SECTION_HEAD, SUPERVISOR
from ..extensions import db
from ..models import Assignment, DrawAttempt, Inspector, Task, User
from ..plans.policy import (  # noqa: F401  (named here too: the ceremony's callers ask ceremony.policy)
    PLANNERS, lead_section_id, leads_draws, organises_draw, organising_section_ids,
)
from ..security.access import not_found, refuse

VETO = (ADMIN, DISCIPLINE)


def in_section(user, task: Task) -> bool:
    """A planner (staff or head) of one of the task's organising sections."""
    return organises_draw(user, task)


def in_department(user, task: Task) -> bool:
    return user.department_id == task.section.department_id


def is_supervisor_of(user, task: Task) -> bool:
    return user.has_role(SUPERVISOR) and in_department(user, task)


def may_organize(user, task: Task) -> bool:
    """Run the ceremony's steps and ask for a redraw: the planners of both organising sections."""
    return in_section(user, task)


def may_watch(user, task: Task) -> bool:
    """See the ceremony's public facts and its record (no names are on them)."""
    return in_section(user, task) or is_supervisor_of(user, task) or (
        user.has_role(DISCIPLINE) and in_department(user, task)
    )


def draw_operator_ids(task: Task) -> set[int]:
    """Who froze an attempt of the task that is sealed: the organiser who ran the draw."""
    return set(
        db.session.execute(
            select(DrawAttempt.operator_id).where(DrawAttempt.task_id == task.id, DrawAttempt.state == "sealed")
        ).scalars()
    )


def may_read_list(user, task: Task) -> bool:
    """The whole sealed list: the task's organisers in both organising sections, their heads, a supervisor."""
    if user.has_role(*VETO):
        return False
    if not in_section(user, task):
        return is_supervisor_of(user, task)
    if user.has_role(SECTION_HEAD):
        return True
    return user.id == task.organizer_id or user.id in draw_operator_ids(task)


def witness_problem(user: User, task: Task, attempt: DrawAttempt) -> str | None:
    """Why `user` may not witness this attempt, in Chinese; None if they may.

    The organiser of the task and whoever runs the ceremony are never
    witnesses: the dice exist so that the result does not rest on them
    alone. Each person witnesses an attempt once. The department does not
    matter: a witness only adds public entropy and sees no list.
    """
    if not user.enabled:
        return "该账号已停用，不能作为见证人。"
    if user.id in (task.organizer_id, attempt.operator_id):
        return (
            f"{user.display_name}是本次抽取的组织人，不能作为见证人，也不能替见证人录入点数："
            "请见证人本人登录后录入，或在本页输入见证人本人的用户名和密码。"
        )
    if any(w.user_id == user.id for w in attempt.witnesses):
        return f"{user.display_name}已经录入过本次抽取的点数，每位见证人只录入一次。"
    return None


def is_external_witness(user: User, task: Task) -> bool:
    """From outside the organising sections (the discipline office counts; so does a leader without a section)."""
    return user.section_id is None or user.section_id not in organising_section_ids(task)


def may_decide_redraw(user, task: Task, requested_by_id: int | None) -> bool:
    """A supervisor of the task's department who is not the person asking."""
    return is_supervisor_of(user, task) and requested_by_id is not None and user.id != requested_by_id


def get_task_in_reach(task_id: int) -> Task:
    """A task of the user's department, or a joint task they are assigned to; otherwise it does not exist for them."""
    task = db.session.get(Task, task_id)
    if task is None:
        not_found()
    if not in_department(current_user, task) and not own_inspector_on(task):
        refuse("other_department", 404)
    return task


def get_task_to_watch(task_id: int) -> Task:
    task = get_task_in_reach(task_id)
    if not may_watch(current_user, task):
        refuse("not_own_section")
    return task


def get_task_to_organize(task_id: int) -> Task:
    task = get_task_in_reach(task_id)
    if not may_organize(current_user, task):
        refuse("not_own_section")
    return task


def get_task_to_witness(task_id: int) -> Task:
    """A witness's own page: any signed-in user of the task's or a partner department.

    Others (another department) witness by re-entering their password on
    the ceremony screen; to them the page does not exist (404).
    """
    task = db.session.get(Task, task_id)
    if task is None:
        not_found()
    departments = {task.section.department_id, *(p.department_id for p in task.partners)}
    if current_user.department_id not in departments:
        refuse("other_department", 404)
    return task


def get_task_list(task_id: int) -> Task:
    task = get_task_in_reach(task_id)
    if not may_read_list(current_user, task):
        refuse("no_need_to_know")
    return task


def my_inspector(user=None) -> Inspector | None:
    """The directory entry of the signed-in inspector (Inspector.user_id), if any."""
    user = user or current_user
    return db.session.execute(select(Inspector).where(Inspector.user_id == user.id)).scalar_one_or_none()


def own_inspector_on(task: Task) -> bool:
    """A partner department's inspector reaches a joint task only through their own assignment."""
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
    task = get_task_in_reach(task_id)
    check_recusal(task, inspector_id)
    return task


def check_recusal(task: Task, inspector_id: int) -> None:
    """The inspector declaring their own conflict, or the organizer or section head on their behalf."""
    me = my_inspector() if current_user.has_role("inspector") else None
    if me is not None and me.id == inspector_id:
        return
    if may_organize(current_user, task) and may_read_list(current_user, task):
        return
    refuse("not_own_assignment")
