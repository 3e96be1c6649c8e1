"""Follow-up of what an inspection found (SPEC §7; Art 10): rectification orders with a
deadline and re-check, penalties with their decision number, transfers to judicial
organs and advisory letters.

What was ordered of whom is sealed (kind "followup"); the rectification
deadline and whether the order was re-checked are plaintext so overdue
orders can be flagged on to-do pages without decrypting anything.
"""
from __future__ import annotations

from datetime import date
from typing import Optional

from flask_login import current_user
from sqlalchemy import select

from .. import audit, clock, concurrency
from ..extensions import db
from ..models import FollowUp, Task
from ..sealing.service import open_json, read_sealed, seal_json
from .service import HANDLINGS, RecordError

KINDS = {k: v for k, v in HANDLINGS.items() if k != "none"}
# The further measures the form below the record adds. A 责令改正 is ordered in the record
# itself, with its one deadline, and tracked from there (track_from_record): entering the
# deadline a second time is how it used to go untracked.
ADD_KINDS = {k: v for k, v in KINDS.items() if k != "rectify"}
FROM_RECORD = "record"


def followup_record_id(row: FollowUp) -> str:
    return f"{row.task_id}:{row.position}:{row.id}"


def add(task: Task, position: int, form) -> FollowUp:
    kind = (form.get("kind") or "").strip()
    deadline = clock.parse_date(form.get("deadline", ""))
    decision_no = (form.get("decision_no") or "").strip()
    detail = (form.get("detail") or "").strip()
    if kind == "rectify":
        raise RecordError("责令改正请在上方检查记录的“处理”中选择并填写改正期限，提交后系统自动跟踪复查（细则第十条）。")
    if kind not in KINDS:
        raise RecordError("请选择处理方式：行政处罚、移送司法机关或劳动保障监察建议书。")
    if kind == "penalty" and not decision_no:
        raise RecordError("行政处罚须填写处罚决定书文号。")
    if len(detail) > 5000:
        raise RecordError("说明过长（不超过5000字），请精简。")
    row = FollowUp(task_id=task.id, position=position, sealed=b"", deadline=deadline if kind == "rectify" else None,
                   closed=kind != "rectify", created_by_id=current_user.id)
    db.session.add(row)
    db.session.flush()  # the id is part of the seal's record id
    row.sealed = seal_json(task.id, "followup", followup_record_id(row), {
        "kind": kind, "deadline": deadline.isoformat() if deadline else "", "decision_no": decision_no,
        "detail": detail, "recheck_date": "", "recheck_outcome": "", "by": current_user.display_name,
    })
    audit.record("followup_add", task_id=task.id, objects={"position": position, "followup": row.id, "kind": kind})
    return row


def track_from_record(task: Task, position: int, value: dict) -> Optional[FollowUp]:
    """Art 10: the record's 责令改正 and its deadline become the tracked order, re-checked later.

    Called whenever a record is submitted or corrected. The order is the one with
    source "record" for this position: created on the first submission, its deadline
    and detail kept in step with corrections while it is open; a correction that drops
    the order closes it with a note (nothing is deleted).
    """
    deadline = clock.parse_date(value.get("rectify_deadline", "")) if value.get("handling") == "rectify" else None
    current = None
    for row in of_position(task, position):
        # An unlogged peek inside a logged write: which of this position's orders is the record's.
        if open_json(task.id, "followup", followup_record_id(row), row.sealed).get("source") == FROM_RECORD:
            current = row
    if current is None and deadline is None:
        return None
    if current is None:
        current = FollowUp(task_id=task.id, position=position, sealed=b"", deadline=deadline, closed=False,
                           created_by_id=current_user.id)
        db.session.add(current)
        db.session.flush()
        old = {"kind": "rectify", "decision_no": "", "recheck_date": "", "recheck_outcome": "", "source": FROM_RECORD}
        action = "followup_add"
    else:
        old = open_json(task.id, "followup", followup_record_id(current), current.sealed)
        if current.closed and old.get("recheck_date"):
            return current  # re-checked already: the record's later corrections do not reopen it
        action = "followup_update"
    if deadline is None:
        old.update(recheck_outcome="检查记录已更正为不再责令改正，本项不再跟踪。")
        current.closed = True
    else:
        old.update(deadline=deadline.isoformat(), detail=(value.get("handling_detail") or "")[:5000],
                   by=current_user.display_name)
        current.deadline, current.closed = deadline, False
    current.sealed = seal_json(task.id, "followup", followup_record_id(current), old)
    concurrency.flush()  # a re-check saved meanwhile makes this UPDATE match nothing: the correction is refused
    audit.record(action, task_id=task.id, objects={"position": position, "followup": current.id, "kind": "rectify",
                                                   "source": FROM_RECORD})
    return current


# The re-check form's fields as the person sees them, for "what changed" after a refused stale save.
RECHECK_LABELS = {"deadline": "改正期限", "recheck_date": "复查日期", "recheck_outcome": "复查结果"}


def recheck_typed(form) -> dict:
    """What the person typed into a re-check form (and the deadline it showed them), kept after a refusal."""
    fields = {"deadline": "seen_deadline", "recheck_date": "recheck_date", "recheck_outcome": "recheck_outcome"}
    return {name: (form.get(field) or "").strip() for name, field in fields.items()}


def recheck(task: Task, row: FollowUp, form) -> None:
    """Record the re-check of a rectification order; it closes the order.

    A closed order (re-checked, or no longer ordered by the record) is not re-checked
    again: the first re-check stands, as a submitted record does."""
    if row.closed:
        raise RecordError("这项责令改正已经复查，或检查记录已更正为不再责令改正，不能再记录复查。", 409,
                          "followup_closed")
    when = clock.parse_date(form.get("recheck_date", ""))
    outcome = (form.get("recheck_outcome") or "").strip()
    if when is None:
        raise RecordError("请填写复查日期（格式如 2026-03-15）。")
    if when > clock.today():
        raise RecordError("复查日期不能晚于今天。")
    if not outcome:
        raise RecordError("请填写复查结果，例如“已按期改正，补发工资已到账”。")
    value = open_json(task.id, "followup", followup_record_id(row), row.sealed)
    value.update(recheck_date=when.isoformat(), recheck_outcome=outcome[:5000], recheck_by=current_user.display_name)
    # The log entry first: it takes the chain head, which a record correction (head, record,
    # this order) also takes before this order's row; the other way round the two deadlocked on
    # PostgreSQL. Nothing is pending yet, so taking the head flushes nothing of this order.
    audit.record("followup_recheck", task_id=task.id, objects={"position": row.position, "followup": row.id})
    row.sealed = seal_json(task.id, "followup", followup_record_id(row), value)
    row.closed = True
    concurrency.flush()  # a re-check or correction saved since the form was loaded makes this UPDATE match nothing


def recheck_changes(row: FollowUp, value: dict, typed: dict) -> dict:
    """The stale-save box of a re-check form: the order as saved now (`value`, from the page's own
    logged read) beside what the person typed and the deadline their form showed."""
    saved = {name: value.get(name, "") for name in RECHECK_LABELS}
    if not row.closed:
        state = "待复查"
    else:
        state = "已复查" if value.get("recheck_date") else "不再跟踪"
    by = value.get("recheck_by") if value.get("recheck_date") else value.get("by")
    return concurrency.stale_box(RECHECK_LABELS, saved, typed, by=by or None, state=state)


def of_position(task: Task, position: int) -> list[FollowUp]:
    return list(db.session.execute(
        select(FollowUp).where(FollowUp.task_id == task.id, FollowUp.position == position).order_by(FollowUp.id)
    ).scalars())


def get(task: Task, position: int, followup_id: int) -> Optional[FollowUp]:
    row = db.session.get(FollowUp, followup_id)
    return row if row is not None and row.task_id == task.id and row.position == position else None


def read(row: FollowUp, code: Optional[str]) -> dict:
    return read_sealed(row.task_id, "followup", followup_record_id(row), row.sealed, purpose="followup",
                       credit_codes=[code] if code else [], positions=[row.position])


def overdue(task_ids: list[int], today: date | None = None) -> list[FollowUp]:
    """Open rectification orders past their deadline, by plaintext columns only."""
    if not task_ids:
        return []
    today = today or clock.today()
    return list(db.session.execute(
        select(FollowUp).where(FollowUp.task_id.in_(task_ids), FollowUp.closed.is_(False),
                               FollowUp.deadline.is_not(None), FollowUp.deadline < today)
        .order_by(FollowUp.deadline)
    ).scalars())
