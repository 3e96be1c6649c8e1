"""The inspection notice 检查通知书 and the checklist 检查表 of one drawn target (SPEC §7; Art 8, 9, 12).

Art 8 has the team inspect "依据随机抽查事项清单载明的抽查内容": before an
on-site or written inspection the unit receives a notice saying what will
be checked, on what legal basis, which documents to prepare and when; on
the day the team works down the matters' content items on a checklist.
Both name the drawn unit, so both are sealed content until publication
(Art 12, SPEC §4):

- the notice is one sealed JSON blob per (task, position), kind "notice",
  record id "task:position:notice" — never the target — under the task's
  data key, like the inspection record; it carries a copy of the unit's
  directory facts so that every later read can log the credit code's HMAC;
- every page that shows the unit reads it through `read_sealed` (via
  `service._reveal` or the ceremony's `_reveal`), so the access-log entry,
  with its purpose, position and HMAC, is written before anything is served.

Who: the position's active team writes the notice, and so may the task's
organizer or the head of its section (they often prepare notices for the
whole round); those and a supervisor of the department read and print.
Everyone else is refused exactly as on the record page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Optional

from flask_login import current_user
from sqlalchemy import func, select

from .. import clock
from .. import audit, concurrency
from ..auth.roles import SECTION_HEAD, STAFF
from ..ceremony import service as ceremony
from ..extensions import db
from ..models import Assignment, InspectionNotice, Inspector, Matter, Task, TaskMatter
from ..sealing.service import seal_json
from ..security.access import not_found, refuse
from . import policy, service
from .service import METHODS, WORKING_STATES, RecordError

KIND = "notice"
TEXT_LIMIT = 5_000
_TIME = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")
_PHONE = re.compile(r"^[0-9+\-－ （）()转]{7,30}$")
_WEEKDAYS = "一二三四五六日"
# Section names end in what kind of office they are; the notice number keeps the rest.
_OFFICE_SUFFIXES = ("办公室", "大队", "中心", "股", "科", "室", "局")


def notice_record_id(task_id: int, position: int) -> str:
    return f"{task_id}:{position}:notice"


# --- who may do what -----------------------------------------------------------------------


def may_write(task: Task, mine: Optional[Assignment]) -> bool:
    """The position's team, or the organizer / head of the section (not a supervisor alone)."""
    if mine is not None:
        return True
    return current_user.has_role(STAFF, SECTION_HEAD) and policy.may_read_all(current_user, task)


def position_for_notice_writing(task: Task, position: int) -> Optional[Assignment]:
    """The own assignment or None, for someone who may write this position's notice; refuses others."""
    mine = policy.position_for_reading(task, position)
    if not may_write(task, mine):
        refuse("not_own_assignment")
    if task.status not in WORKING_STATES:
        raise RecordError(f"任务已进入“{task.status_label}”阶段，检查通知书不能再修改，只能查看和打印。", 409)
    return mine


def _position_assignment(task: Task, position: int, mine: Optional[Assignment]) -> Assignment:
    """The reader's own assignment, or any active one of the position: each holds the target's facts."""
    if mine is not None:
        return mine
    attempt = ceremony.sealed_attempt(task)
    row = db.session.execute(
        select(Assignment).where(
            Assignment.attempt_id == attempt.id, Assignment.position == position, Assignment.active.is_(True)
        ).order_by(Assignment.id).limit(1)
    ).scalar_one_or_none()
    if row is None:
        not_found()  # no such position in this draw
    return row


def target_facts(task: Task, position: int, mine: Optional[Assignment], purpose: str) -> dict:
    """The drawn unit's directory facts, read from a sealed assignment (logged with `purpose`)."""
    return service.target_facts(task, _position_assignment(task, position, mine), purpose)


def team(task: Task, position: int) -> list[Inspector]:
    """The position's current team (after any recusal), for names and certificate numbers."""
    attempt = ceremony.sealed_attempt(task)
    return list(db.session.execute(
        select(Inspector).join(Assignment, Assignment.inspector_id == Inspector.id)
        .where(Assignment.attempt_id == attempt.id, Assignment.position == position, Assignment.active.is_(True))
        .order_by(Inspector.staff_no)
    ).scalars())


# --- what the task's matters say -----------------------------------------------------------


@dataclass
class MatterSheet:
    code: str
    name: str
    legal_basis: str
    method: str
    items: list[str]  # content items not already listed under an earlier matter


def matters(task: Task) -> list[Matter]:
    return list(db.session.execute(
        select(Matter).join(TaskMatter, TaskMatter.matter_id == Matter.id)
        .where(TaskMatter.task_id == task.id).order_by(Matter.code)
    ).scalars())


def matter_sheets(task: Task) -> list[MatterSheet]:
    """The task's matters with their content items; an item shared by two matters is checked once."""
    seen: set[str] = set()
    out = []
    for m in matters(task):
        items = [i for i in m.content_items if i not in seen]
        seen.update(items)
        out.append(MatterSheet(m.code, m.name, m.legal_basis, m.method, items))
    return out


def default_documents(task: Task) -> list[str]:
    """The 需备查的材料 of every matter of the task, each once, in matter order."""
    out: list[str] = []
    for m in matters(task):
        for d in m.document_items:
            if d not in out:
                out.append(d)
    return out


def section_short(section_name: str) -> str:
    """劳动保障监察大队 → 劳动监察, 社会保险股 → 社会保险: the office part of a notice number."""
    name = section_name.strip()
    for suffix in _OFFICE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return name if len(name) <= 4 else name[:2] + name[-2:]


def suggest_number(task: Task, today: date) -> str:
    """"<科室简称>检通〔年〕N号", N one more than the section's notices written this year.

    Counted from the clear columns (task, creation time), so no notice is
    decrypted to number the next one; the number stays editable because
    bureaus number their documents by their own registers.
    """
    start = datetime(today.year, 1, 1, tzinfo=timezone.utc)
    end = datetime(today.year + 1, 1, 1, tzinfo=timezone.utc)
    count = db.session.scalar(
        select(func.count(InspectionNotice.id)).join(Task, InspectionNotice.task_id == Task.id)
        .where(Task.section_id == task.section_id, InspectionNotice.created_at >= start,
               InspectionNotice.created_at < end)
    ) or 0
    return f"{section_short(task.section.name)}检通〔{today.year}〕{count + 1}号"


def cn_date(value: str | date | None) -> str:
    """2026-03-15 → 2026年3月15日（星期日）, as dates are written on official documents."""
    if not value:
        return ""
    d = value if isinstance(value, date) else clock.parse_date(value)
    if d is None:
        return str(value)
    return f"{d.year}年{d.month}月{d.day}日（星期{_WEEKDAYS[d.weekday()]}）"


# --- the form ------------------------------------------------------------------------------


def _parse_time(raw: str) -> Optional[time]:
    m = _TIME.match((raw or "").strip())
    return time(int(m.group(1)), int(m.group(2))) if m else None


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# The notice's fields as the person sees them, for "what changed" after a refused stale save.
NOTICE_LABELS = {"number": "通知书文号", "method": "检查方式", "inspect_date": "检查日期", "time_from": "开始时间",
                 "time_to": "结束时间", "place": "检查地点", "contact_person": "检查组联系人",
                 "contact_phone": "联系电话", "documents": "需准备的材料"}


@dataclass
class NoticeForm:
    number: str = ""
    method: str = "onsite"
    inspect_date: str = ""
    time_from: str = ""
    time_to: str = ""
    place: str = ""
    contact_person: str = ""
    contact_phone: str = ""
    documents: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    FIELDS = ("number", "method", "inspect_date", "time_from", "time_to", "place", "contact_person",
              "contact_phone", "documents")

    @classmethod
    def from_request(cls, form) -> "NoticeForm":
        return cls(**{f: (form.get(f) or "").strip() for f in cls.FIELDS})

    @classmethod
    def from_value(cls, value: dict) -> "NoticeForm":
        return cls(**{f: str(value.get(f) or "") for f in cls.FIELDS})

    @classmethod
    def prefilled(cls, task: Task, facts: dict, today: date) -> "NoticeForm":
        """A first draft: the matters' documents, the unit's address, the planned start, the writer as contact."""
        start = task.planned_start if task.planned_start and task.planned_start >= today else None
        method = "written" if {m.method for m in matters(task)} == {"written"} else "onsite"
        return cls(
            number=suggest_number(task, today),
            method=method,
            inspect_date=start.isoformat() if start else "",
            time_from="09:00",
            time_to="11:30",
            place=facts.get("address", "") if method == "onsite" else "",
            contact_person=current_user.display_name,
            documents="\n".join(default_documents(task)),
        )

    def changes_since(self, saved: dict, **who) -> dict:
        """The stale-save box: where the notice as saved now (`saved`, the page's own logged read)
        differs from what the person typed."""
        def shown(form: "NoticeForm") -> dict:
            values = {f: getattr(form, f) for f in self.FIELDS}
            values["method"] = METHODS.get(form.method, form.method)
            values["documents"] = form.document_items
            return values
        return concurrency.stale_box(NOTICE_LABELS, shown(NoticeForm.from_value(saved)), shown(self), **who)

    @property
    def document_items(self) -> list[str]:
        return _lines(self.documents)

    def validate(self) -> bool:
        e: dict[str, str] = {}
        if not self.number:
            e["number"] = "请填写通知书文号，例如“劳动监察检通〔2026〕3号”。"
        elif len(self.number) > 64:
            e["number"] = "通知书文号最多 64 个字。"
        if self.method not in METHODS:
            e["method"] = "请选择检查方式：现场检查或书面检查。"
        day = clock.parse_date(self.inspect_date)
        if not self.inspect_date:
            e["inspect_date"] = "请填写检查日期，格式如“2026-03-15”。"
        elif day is None:
            e["inspect_date"] = f"检查日期“{self.inspect_date}”不是有效日期，请按“2026-03-15”的格式填写。"
        start, end = _parse_time(self.time_from), _parse_time(self.time_to)
        for name, value, parsed in (("time_from", self.time_from, start), ("time_to", self.time_to, end)):
            if not value:
                e[name] = "请填写时间，格式如“09:00”。"
            elif parsed is None:
                e[name] = f"时间“{value}”格式不对，请按 24 小时制填写，如“09:00”或“14:30”。"
        if start and end and end <= start:
            e["time_to"] = f"结束时间 {self.time_to} 早于或等于开始时间 {self.time_from}，请核对。"
        if not self.place:
            e["place"] = "请填写检查地点（书面检查填写材料报送地点）。"
        elif len(self.place) > 200:
            e["place"] = "检查地点最多 200 个字。"
        if not self.contact_person:
            e["contact_person"] = "请填写检查组联系人姓名。"
        elif len(self.contact_person) > 32:
            e["contact_person"] = "联系人姓名最多 32 个字。"
        if not self.contact_phone:
            e["contact_phone"] = "请填写联系电话，以便被检查单位核实通知书。"
        elif not _PHONE.match(self.contact_phone):
            e["contact_phone"] = "联系电话只能包含数字、空格、“-”、“+”和括号，如“0394-5420000”或“13800000000”。"
        if not self.document_items:
            e["documents"] = "请至少填写一项需备查的材料，每行一项。"
        elif len(self.documents) > TEXT_LIMIT:
            e["documents"] = f"需备查的材料过长（不超过{TEXT_LIMIT}字），请精简。"
        self.errors = e
        return not e

    def value(self) -> dict:
        return {
            "number": self.number,
            "method": self.method,
            "inspect_date": clock.parse_date(self.inspect_date).isoformat(),
            "time_from": _parse_time(self.time_from).strftime("%H:%M"),
            "time_to": _parse_time(self.time_to).strftime("%H:%M"),
            "place": self.place,
            "contact_person": self.contact_person,
            "contact_phone": self.contact_phone,
            "documents": "\n".join(self.document_items),
        }

    def day_warning(self) -> Optional[str]:
        """A non-blocking note when the chosen day is a rest day or falls in a year without holiday data."""
        from ..calendar_admin.service import current_calendar

        day = clock.parse_date(self.inspect_date)
        if day is None:
            return None
        info = current_calendar().is_working_day(day)
        notes = list(info.warnings)
        if not info.working:
            notes.insert(0, f"{cn_date(day)}是{info.label}，不是工作日；确需在休息日检查的，可以照常保存。")
        return " ".join(notes) or None


# --- storing and reading -------------------------------------------------------------------


def get(task: Task, position: int) -> Optional[InspectionNotice]:
    return db.session.execute(
        select(InspectionNotice).where(InspectionNotice.task_id == task.id, InspectionNotice.position == position)
    ).scalar_one_or_none()


def read(row: InspectionNotice, purpose: str) -> dict:
    """The notice for a person to see: logged (purpose, position, HMAC) before it is returned."""
    return service._reveal(row.task_id, KIND, notice_record_id(row.task_id, row.position), row.sealed,
                           purpose, row.position)


def save(task: Task, position: int, form: NoticeForm, facts: dict) -> InspectionNotice:
    """Seal the validated notice under the task's key; a second save replaces it and counts a version."""
    now = clock.now()
    value = {
        **form.value(),
        "target": {k: facts.get(k, "") for k in ("credit_code", "name", "address", "legal_rep")},
        "written_by": current_user.display_name,
        "written_at": now.isoformat(timespec="seconds"),
    }
    row = get(task, position)
    if row is None:
        row = InspectionNotice(task_id=task.id, position=position, version=1, sealed=b"", created_at=now,
                               updated_by_id=current_user.id)
        db.session.add(row)
    else:
        row.version += 1
    row.sealed = seal_json(task.id, KIND, notice_record_id(task.id, position), value)
    row.updated_at = now
    row.updated_by_id = current_user.id
    db.session.flush()
    code = value["target"]["credit_code"]
    audit.record(
        "inspection_notice_save",
        task_id=task.id,
        objects={"position": position, "version": row.version,
                 "target_refs": [audit.sealed_ref(code, task_id=task.id)] if code else []},
    )
    return row
