"""Publication's items on the to-do page (SPEC §4 "Publication", §9; Art 13 及时公开).

Publication takes two people, and each of them must learn that it is their
turn: the organizer or the section head once the publish date has come,
and a supervisor of the department once a request waits for them. Without
these items a request could sit unseen, and results that Art 13 wants
published promptly would not be.

Like every provider these read plaintext only — task names, statuses and
dates — so the to-do page names no drawn target.
"""
from __future__ import annotations

from datetime import date

from flask import url_for
from sqlalchemy import select

from ..auth.roles import SECTION_HEAD, STAFF, SUPERVISOR
from ..ceremony import policy as ceremony_policy
from ..extensions import db
from ..todo import TodoItem, provider
from ..models import PublicationRequest, Section, Task
from . import service


@provider
def publications_to_request(user, today: date) -> list[TodoItem]:
    """Tasks of the person's section whose publish date has come and that nobody has put forward yet."""
    if not user.has_role(STAFF, SECTION_HEAD) or user.section_id is None or user.has_role(*ceremony_policy.VETO):
        return []
    tasks = db.session.execute(
        select(Task).where(Task.section_id == user.section_id, Task.status.in_(service.REQUESTABLE),
                           Task.publish_date.is_not(None), Task.publish_date <= today)
        .order_by(Task.publish_date, Task.id)
    ).scalars()
    return [
        TodoItem(
            f"申请公开结果：{task.name}",
            f"结果公开日期 {task.publish_date.isoformat()} 已到。请申请公开检查结果，由本部门局领导审批后公示（细则第十三条）。",
            url_for("publication.task_page", task_id=task.id), article="细则第十三条",
        )
        for task in tasks
        if service.may_request(user, task)
    ]


@provider
def publications_to_approve(user, today: date) -> list[TodoItem]:
    """Requests waiting for a supervisor of the task's department, other than the one who asked."""
    if not user.has_role(SUPERVISOR) or user.has_role(*ceremony_policy.VETO):
        return []
    rows = db.session.execute(
        select(Task, PublicationRequest)
        .join(PublicationRequest, PublicationRequest.task_id == Task.id)
        .join(Section, Task.section_id == Section.id)
        .where(Section.department_id == user.department_id, PublicationRequest.state == "pending",
               PublicationRequest.requested_by_id != user.id)
        .order_by(PublicationRequest.requested_at, Task.id)
    ).all()
    return [
        TodoItem(
            f"审批公开：{task.name}",
            f"{req.requested_by.display_name} 申请公开抽查结果。请核对后输入本人密码批准，批准后立即公示（细则第十三条）。",
            url_for("publication.task_page", task_id=task.id), article="细则第十三条",
        )
        for task, req in rows
    ]
