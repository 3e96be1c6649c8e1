"""Report deadlines and the section's final report (SPEC §7; Art 9).

Art 9: the inspection report of each target is due within five working
days of the end of its inspection, counted in Chinese working days by
`current_calendar()` (holidays, 调休, a visible warning for an unknown
year). The section then forms the final report for the bureau's
leadership, drafted by staff and approved by the head of the section —
a different person — which marks the task "reported". Results are
published on the task's 结果公开日期 (never sooner than the planned end
plus the report's 5 working days, plans.forms).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Optional

from flask_login import current_user

from .. import clock
from .. import audit
from ..auth.roles import SECTION_HEAD, STAFF, SUPERVISOR
from ..calendar_admin.service import current_calendar
from ..extensions import db
from ..models import FinalReport, Task
from ..sealing.service import read_sealed, seal_json
from ..deadlines import report_due_date  # noqa: F401  (named here too: the record page's deadlines)
from ..workdays import Calendar, Countdown, DueDate
from .service import HANDLINGS, RESULT_CATEGORIES, RecordError, ended_on


@dataclass
class Due:
    ended: date
    due: date
    countdown: Countdown
    warnings: list[str]

    @property
    def overdue(self) -> bool:
        return self.countdown.overdue


def _due(ended: date, d: DueDate, cal: Calendar, today: date | None) -> Due:
    """A due date with its countdown from the bureau's today (the one clock)."""
    cd = cal.working_days_left(today or clock.today(), d.due)
    warnings = list(dict.fromkeys([*d.warnings, *cd.warnings]))
    return Due(ended, d.due, cd, warnings)


def report_due(value: dict, today: date | None = None) -> Optional[Due]:
    ended = ended_on(value)
    if ended is None:
        return None
    cal = current_calendar()
    return _due(ended, report_due_date(ended, cal), cal, today)


def publish_due(task: Task, today: date | None = None) -> Optional[Due]:
    """The task's 结果公开日期 with its countdown: the one publication date every page names."""
    if task.publish_date is None:
        return None
    cal = current_calendar()
    cd = cal.working_days_left(today or clock.today(), task.publish_date)
    return Due(task.planned_end or task.publish_date, task.publish_date, cd, list(cd.warnings))


def final_report_due(task: Task, today: date | None = None) -> Optional[Due]:
    """The section's report deadline by the task's planned end (plaintext), for to-do flags.

    Per-target deadlines need the sealed end dates; this one can be shown on
    lists without decrypting anything. None once the final report is approved.
    """
    if task.planned_end is None or task.status not in ("sealed", "inspecting"):
        return None
    cal = current_calendar()
    return _due(task.planned_end, report_due_date(task.planned_end, cal), cal, today)


def summary(values: list[dict], positions: int) -> dict:
    """Counts by result category and handling, and the problems found, from submitted records."""
    results = Counter(v.get("result") or "（未填写）" for v in values)
    handlings = Counter(HANDLINGS.get(v.get("handling") or "none", "") for v in values)
    problems = [
        {"position": v["_position"], "name": (v.get("target") or {}).get("name", ""),
         "findings": v.get("findings", ""), "result": v.get("result", ""),
         "handling": HANDLINGS.get(v.get("handling") or "none", "")}
        for v in values if v.get("result") not in ("未发现问题", "", None)
    ]
    return {
        "positions": positions,
        "submitted": len(values),
        "by_result": [[c, results.get(c, 0)] for c in RESULT_CATEGORIES],
        "by_handling": [[label, handlings.get(label, 0)] for label in HANDLINGS.values()],
        "problems": problems,
    }


def get(task: Task) -> Optional[FinalReport]:
    return db.session.get(FinalReport, task.id)


def read(row: FinalReport, purpose: str = "final_report") -> dict:
    return read_sealed(
        row.task_id, "final_report", row.task_id, row.sealed, purpose=purpose,
        credit_codes=lambda v: [p["credit_code"] for p in v["summary"]["problems"] if p.get("credit_code")],
        positions=lambda v: [p["position"] for p in v["summary"]["problems"]],
    )


def draft(task: Task, values: list[dict], positions: int, text: str) -> FinalReport:
    """Staff of the section (re)draft the final report from the submitted records."""
    if task.status not in ("inspecting", "sealed"):
        raise RecordError(f"任务处于“{task.status_label}”阶段，不能再起草总结报告。", 409)
    if not text.strip():
        raise RecordError("请填写总结报告正文：检查总体情况、发现的主要问题和处理意见。")
    if len(values) < positions:
        raise RecordError(f"还有 {positions - len(values)} 个检查对象的检查记录没有提交，全部提交后才能起草总结报告。", 409)
    s = summary(values, positions)
    for p, v in zip(s["problems"], [v for v in values if v.get("result") not in ("未发现问题", "", None)]):
        p["credit_code"] = (v.get("target") or {}).get("credit_code", "")
    row = get(task)
    if row is None:
        row = FinalReport(task_id=task.id, sealed=b"", drafted_by_id=current_user.id)
        db.session.add(row)
    row.state = "draft"
    row.drafted_by_id = current_user.id
    row.drafted_at = clock.now()
    row.approved_by_id = None
    row.approved_at = None
    row.sealed = seal_json(task.id, "final_report", task.id, {"summary": s, "text": text.strip()[:20000],
                                                                "drafted_by": current_user.display_name})
    db.session.flush()
    audit.record("final_report_draft", task_id=task.id, objects={"submitted": len(values)})
    return row


def may_draft(user, task: Task) -> bool:
    return user.has_role(STAFF, SECTION_HEAD) and user.section_id == task.section_id


def may_approve(user, task: Task, row: Optional[FinalReport]) -> bool:
    return (row is not None and row.state == "draft" and user.has_role(SECTION_HEAD)
            and user.section_id == task.section_id and user.id != row.drafted_by_id)


def approve(task: Task, row: Optional[FinalReport]) -> None:
    if row is None or row.state != "draft":
        raise RecordError("没有待审核的总结报告。", 409)
    if row.drafted_by_id == current_user.id:
        raise RecordError("总结报告须由起草人以外的科室负责人审核。请由本科室另一位负责人审核。", 403)
    if not may_approve(current_user, task, row):
        raise RecordError("只有本科室负责人可以审核总结报告。", 403)
    row.state = "approved"
    row.approved_by_id = current_user.id
    row.approved_at = clock.now()
    task.status = "reported"
    audit.record("final_report_approve", task_id=task.id, objects={"drafted_by": row.drafted_by_id})


def may_acknowledge(user, task: Task, row: Optional[FinalReport]) -> bool:
    """A supervisor of the task's department may sign the approved report as read (Art 9 "报局党组")."""
    return (row is not None and row.state == "approved" and row.acknowledged_at is None
            and user.has_role(SUPERVISOR) and user.department_id == task.section.department_id)


def acknowledge(task: Task, row: Optional[FinalReport]) -> None:
    """The leadership has read the section's approved final report; logged with who and when."""
    if row is None or row.state != "approved":
        raise RecordError("总结报告还没有经科室负责人审核通过，暂不需要阅知。", 409)
    if row.acknowledged_at is not None:
        raise RecordError(f"这份总结报告已由{row.acknowledged_by.display_name}于 {clock.show(row.acknowledged_at)} 阅知。", 409)
    if not may_acknowledge(current_user, task, row):
        raise RecordError("只有本部门局领导可以阅知总结报告。", 403)
    row.acknowledged_by_id = current_user.id
    row.acknowledged_at = clock.now()
    audit.record("final_report_acknowledged", task_id=task.id, objects={"approved_by": row.approved_by_id})
