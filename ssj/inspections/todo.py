"""To-do items of inspections (SPEC §7, §9; Art 9, 10): overdue rectification orders for
the team and the section, the section's report deadline, a final report awaiting approval.

Like every to-do provider these read plaintext only — statuses, positions,
deadlines — so the to-do page names no target.
"""
from __future__ import annotations

from datetime import date

from flask import url_for
from sqlalchemy import and_, or_, select

from ..auth.roles import INSPECTOR, SECTION_HEAD, STAFF, SUPERVISOR
from ..extensions import db
from ..todo import TodoItem, provider
from ..models import Assignment, FinalReport, FollowUp, Inspector, Section, Task
from .reports import report_due_date


@provider
def overdue_rectifications(user, today: date) -> list[TodoItem]:
    """Open 责令改正 orders past their deadline: the position's team and the task's section."""
    if not user.has_role(INSPECTOR, STAFF, SECTION_HEAD):
        return []
    mine = select(Assignment.task_id, Assignment.position).join(Inspector, Assignment.inspector_id == Inspector.id).where(
        Inspector.user_id == user.id, Assignment.active.is_(True))
    own = {(t, p) for t, p in db.session.execute(mine).all()} if user.has_role(INSPECTOR) else set()
    planner = user.has_role(STAFF, SECTION_HEAD) and user.section_id is not None
    if not own and not planner:
        return []
    # Only the orders this user is asked about, with their tasks, in one query: the whole
    # county's overdue orders, each task loaded on its own, grew with every department's.
    reach = [Task.section_id == user.section_id] if planner else []
    if own:
        reach.append(mine.where(Assignment.task_id == FollowUp.task_id, Assignment.position == FollowUp.position).exists())
    stmt = (select(FollowUp, Task).join(Task, Task.id == FollowUp.task_id)
            .where(FollowUp.closed.is_(False), FollowUp.deadline.is_not(None), FollowUp.deadline < today, or_(*reach)))
    items = []
    for f, task in db.session.execute(stmt.order_by(FollowUp.deadline, FollowUp.id)).all():
        url = (url_for("inspections.record", task_id=f.task_id, position=f.position) if (f.task_id, f.position) in own
               else url_for("inspections.task", task_id=f.task_id))
        items.append(TodoItem(
            f"复查逾期的责令改正：{task.name} 第 {f.position} 号对象",
            "改正期限已过，尚未记录复查结果。请组织复查并记录结果（细则第十条）。",
            url, due=f.deadline, article="细则第十条",
        ))
    return items


@provider
def section_reports(user, today: date) -> list[TodoItem]:
    """The section's final report: due 5 working days after the planned end; approval by another head."""
    if not user.has_role(STAFF, SECTION_HEAD) or user.section_id is None:
        return []
    rows = db.session.execute(
        select(Task, FinalReport).outerjoin(FinalReport, and_(FinalReport.task_id == Task.id))
        .where(Task.section_id == user.section_id, Task.status.in_(("sealed", "inspecting")))
        .order_by(Task.id)
    ).all()
    items = []
    for task, report in rows:
        if report is not None and report.state == "draft" and user.has_role(SECTION_HEAD) and report.drafted_by_id != user.id:
            items.append(TodoItem(f"审核总结报告：{task.name}", "本科室工作人员已起草总结报告，请审核后报局领导（细则第九条）。",
                                  url_for("inspections.final_report", task_id=task.id), article="细则第九条"))
        elif report is None and task.planned_end is not None:
            due = report_due_date(task.planned_end).due
            items.append(TodoItem(f"形成检查报告：{task.name}",
                                  "检查结束后5个工作日内形成检查报告，科室汇总后报局领导（细则第九条）。",
                                  url_for("inspections.task", task_id=task.id), due=due, article="细则第九条"))
    return items


@provider
def reports_for_leadership(user, today: date) -> list[TodoItem]:
    """Art 9 "报局党组": the section's approved final report waits for a supervisor of the department to read it."""
    if not user.has_role(SUPERVISOR):
        return []
    rows = db.session.execute(
        select(Task).join(FinalReport, FinalReport.task_id == Task.id).join(Section, Task.section_id == Section.id)
        .where(Section.department_id == user.department_id, FinalReport.state == "approved",
               FinalReport.acknowledged_at.is_(None))
        .order_by(Task.id)
    ).scalars()
    return [TodoItem(f"阅知总结报告：{task.name}", "科室已审核通过抽查总结报告并报局领导。请阅看后点“已阅”，系统记录阅知人和时间。",
                     url_for("inspections.final_report", task_id=task.id), article="细则第九条") for task in rows]
