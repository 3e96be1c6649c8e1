"""A redraw: a written public reason and a supervisor's approval (SPEC §3; Art 9).

Part of the ceremony's service (see ceremony/service.py); split out of it along its sections (issue #15).
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select, update

from .. import audit
from ..extensions import db
from ..models import Assignment, DrawAttempt, Target, Task, User
from ..plans.service import Scope
from .attempts import CeremonyError, REDRAWABLE, _CREDIT_CODE_LIKE, _claim, _now, _ref


# --- redraw: a written reason and a supervisor's approval (Art 9) ------------------------


def reason_problem(task: Task, text: str) -> Optional[str]:
    """Refuse a public reason that names a candidate target, so the record cannot leak one.

    Checked against every code and name in the task's scope, drawn or not:
    refusing only drawn names would tell the writer which ones were drawn.
    """
    if _CREDIT_CODE_LIKE.search(text):
        return "原因将写入公开的抽取记录，不能包含统一社会信用代码或类似的 18 位编码，请改用文字说明。"
    names = db.session.execute(select(Target.name).where(*Scope.of_task(task).conditions())).scalars()
    for name in names:
        if len(name) >= 4 and name in text:
            return "原因将写入公开的抽取记录，不能出现检查对象的名称（公开前名单保密，细则第十二条），请改用不指明单位的说法。"
    return None


def request_redraw(attempt: DrawAttempt, user: User, reason: str) -> None:
    task = attempt.task
    if attempt.state == "void":
        raise CeremonyError("这次抽取已经作废。")
    if attempt.redraw_pending:
        raise CeremonyError("已经有一份重新抽取的申请在等待局领导审批。")
    if task.status not in REDRAWABLE:
        raise CeremonyError(f"任务已进入“{task.status_label}”阶段，不能再重新抽取。")
    problem = reason_problem(task, reason)
    if problem:
        raise CeremonyError(problem, 422)
    attempt.void_reason = reason
    attempt.void_requested_by_id = user.id
    attempt.void_requested_at = _now()
    audit.record("redraw_requested", reason=reason, task_id=task.id, objects={**_ref(task, attempt), "state": attempt.state})


def decide_redraw(attempt: DrawAttempt, user: User, approve: bool, note: str) -> None:
    """A supervisor voids the attempt (a new one may then start from step 1) or turns the request down."""
    task = attempt.task
    if not attempt.redraw_pending:
        raise CeremonyError("没有等待审批的重新抽取申请。")
    if note:
        problem = reason_problem(task, note)
        if problem:
            raise CeremonyError(problem, 422)
    if not approve:
        audit.record(
            "redraw_declined",
            reason=note,
            task_id=task.id,
            objects={**_ref(task, attempt), "requested_by": attempt.void_requested_by.username, "request": attempt.void_reason},
        )
        attempt.void_reason = None
        attempt.void_requested_by_id = None
        attempt.void_requested_at = None
        return
    previous = attempt.state
    _claim(attempt, previous, state="void", void_approved_by_id=user.id, void_approved_at=_now())
    db.session.execute(
        update(Assignment).where(Assignment.attempt_id == attempt.id).values(active=False)
    )
    # Settings may be corrected before the next attempt freezes them again;
    # every attempt's frozen hashes stay on the record for comparison.
    task.status = "planned"
    audit.record(
        "redraw_approved",
        reason=note or None,
        task_id=task.id,
        objects={
            **_ref(task, attempt),
            "state_before": previous,
            "requested_by": attempt.void_requested_by.username,
            "request": attempt.void_reason,
        },
    )
