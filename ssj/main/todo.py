"""The to-do items of plans, draws and inspectors' own work (SPEC §9), registered with ssj.todo.

Providers only read plaintext state (statuses, dates, counts) — never sealed
content — so the to-do page itself reveals nothing that the person could not
already see.
"""
from __future__ import annotations

from datetime import date

from flask import url_for
from sqlalchemy import func, select

from ..auth.roles import INSPECTOR, SECTION_HEAD, STAFF, SUPERVISOR
from ..extensions import db
from ..models import AnnualPlan, Assignment, DrawAttempt, InspectionRecord, Inspector, Section, Task
from ..todo import TodoItem, provider


@provider
def plans_to_decide(user, today: date) -> list[TodoItem]:
    if not user.has_role(SUPERVISOR):
        return []
    rows = db.session.execute(
        select(AnnualPlan)
        .join(Section, Section.id == AnnualPlan.section_id)
        .where(
            AnnualPlan.status == "submitted",
            Section.department_id == user.department_id,
            AnnualPlan.submitted_by_id != user.id,
        )
        .order_by(AnnualPlan.year, AnnualPlan.id)
    ).scalars()
    return [
        TodoItem(
            f"审批 {p.section.name} {p.year} 年度抽查计划",
            "科室已提交年度抽查计划，请审核是否符合细则第七条后批准或退回。",
            url_for("plans.plan", plan_id=p.id),
            article="细则第七条、第十八条",
        )
        for p in rows
    ]


@provider
def plan_for_this_year(user, today: date) -> list[TodoItem]:
    if not user.has_role(STAFF, SECTION_HEAD) or user.section_id is None:
        return []
    plan = db.session.execute(
        select(AnnualPlan).where(AnnualPlan.section_id == user.section_id, AnnualPlan.year == today.year)
    ).scalar_one_or_none()
    if plan is not None and plan.status in ("submitted", "approved"):
        return []
    if plan is None:
        return [TodoItem(
            f"制定 {today.year} 年度抽查计划",
            "本科室还没有本年度的抽查计划。计划经局领导批准后，抽查任务才在计划内（细则第十八条）。",
            url_for("plans.plan_new"), article="细则第七条、第十八条",
        )]
    state = "已被退回，请按审批意见修改后重新提交" if plan.status == "returned" else "尚未提交审批"
    return [TodoItem(f"{today.year} 年度抽查计划{state}", "计划批准前，本科室的抽查任务均为计划外。",
                     url_for("plans.plan", plan_id=plan.id), article="细则第十八条")]


@provider
def tasks_to_draw(user, today: date) -> list[TodoItem]:
    if not user.has_role(STAFF, SECTION_HEAD) or user.section_id is None:
        return []
    rows = db.session.execute(
        select(Task).where(Task.section_id == user.section_id, Task.status.in_(("planned", "drawing")))
        .order_by(Task.planned_start, Task.id)
    ).scalars()
    items = []
    for t in rows:
        verb = "继续摇号" if t.status == "drawing" else "组织摇号"
        items.append(TodoItem(
            f"{verb}：{t.name}",
            "随机抽取检查对象和执法检查人员，须有科室以外的见证人在场（细则第五条、第六条）。",
            url_for("ceremony.draw", task_id=t.id), due=t.planned_start, article="细则第五条、第六条",
        ))
    return items


@provider
def redraws_to_decide(user, today: date) -> list[TodoItem]:
    if not user.has_role(SUPERVISOR):
        return []
    rows = db.session.execute(
        select(DrawAttempt)
        .join(Task, Task.id == DrawAttempt.task_id)
        .join(Section, Section.id == Task.section_id)
        .where(
            Section.department_id == user.department_id,
            DrawAttempt.state != "void",
            DrawAttempt.void_requested_at.is_not(None),
            DrawAttempt.void_requested_by_id != user.id,
        )
    ).scalars()
    return [
        TodoItem(
            f"审批重新摇号申请：{a.task.name}（第 {a.number} 次）",
            "重新摇号须说明理由并经局领导批准，原结果作废但保留在记录中（细则第九条“全程留痕”）。",
            url_for("ceremony.draw", task_id=a.task_id), article="细则第九条",
        )
        for a in rows
    ]


@provider
def my_inspections(user, today: date) -> list[TodoItem]:
    if not user.has_role(INSPECTOR):
        return []
    inspector_id = db.session.execute(select(Inspector.id).where(Inspector.user_id == user.id)).scalar()
    if inspector_id is None:
        return []
    # A target whose record the team has submitted is no longer waiting for this inspector.
    submitted = select(InspectionRecord.id).where(
        InspectionRecord.task_id == Assignment.task_id,
        InspectionRecord.position == Assignment.position,
        InspectionRecord.state == "submitted",
    ).exists()
    count = db.session.execute(
        select(func.count()).select_from(Assignment).join(Task, Task.id == Assignment.task_id).where(
            Assignment.inspector_id == inspector_id,
            Assignment.active.is_(True),
            Task.status.in_(("sealed", "inspecting")),
            ~submitted,
        )
    ).scalar_one()
    if not count:
        return []
    return [TodoItem(
        f"您有 {count} 户检查对象待检查",
        "名单在公开前保密：不得私自制作、传递、复制相关资料（细则第十二条）。",
        url_for("ceremony.my_inspections"), article="细则第十二条",
    )]
