"""Inspection records per drawn target: draft, submit, correct with history (SPEC §7; Art 8, 9).

A record is one sealed JSON blob per (task, position), kind "record". It
carries a copy of the target's directory facts taken from the writer's own
assignment, so every later read can log the HMAC of the credit code
without reopening the draw. Once submitted it changes only by a correction
with a reason; each replaced version is kept sealed.

Who: the active team members of that position write; they, the task's
organizer, the head of its section and a supervisor read (the need-to-know
of SPEC §4, as `ssj.ceremony.policy.may_read_list` decides it). Admin and
discipline never read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Optional

from flask_login import current_user
from sqlalchemy import select

from .. import audit, clock, concurrency
from ..ceremony import service as ceremony
from ..extensions import db
from ..models import Assignment, InspectionRecord, InspectionRecordVersion, Task
from ..sealing.service import open_json, read_sealed, seal_json

METHODS = {"onsite": "现场检查", "written": "书面检查"}
RESULT_CATEGORIES = [
    "未发现问题",
    "发现问题已责令改正",
    "发现问题待后续处理（立案查处）",
    "未发现开展本次抽查涉及的经营活动",
    "不配合检查情节严重",
    "通过登记的住所（经营场所）无法联系",
    "检查对象已注销/吊销/撤销/迁出",
]
HANDLINGS = {
    "none": "无需处理",
    "rectify": "责令改正",
    "penalty": "行政处罚",
    "judicial": "移送司法机关",
    "advice": "劳动保障监察建议书",
}
WORKING_STATES = ("sealed", "inspecting")
TEXT_LIMIT = 20_000


class RecordError(ValueError):
    """A Chinese message for the person; nothing was changed. `reason` names it in the access log."""

    def __init__(self, message: str, status: int = 422, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason or ("invalid_input" if status == 422 else "rule")


# The record's fields as the person sees them, for "what changed" after a refused stale save.
FIELD_LABELS = {
    "method": "检查方式", "started": "检查开始日期", "ended": "检查结束日期", "items": "检查内容",
    "findings": "发现的问题", "onsite_record": "现场检查笔录", "evaluation": "评价", "result": "检查结果",
    "handling": "处理方式", "handling_detail": "处理情况", "rectify_deadline": "改正期限",
    "decision_no": "处罚决定书文号",
}


def changes_since(saved: dict, form: "RecordForm", **who) -> dict:
    """The stale-save box: where the record as saved now differs from what the person typed."""
    def shown(value: dict) -> dict:
        return {**value, "method": METHODS.get(value.get("method"), value.get("method")),
                "handling": HANDLINGS.get(value.get("handling"), value.get("handling"))}
    return concurrency.stale_box(FIELD_LABELS, shown(saved), shown(form.value()), **who)


def record_id(task_id: int, position: int) -> str:
    return f"{task_id}:{position}"


def version_id(task_id: int, position: int, version: int) -> str:
    return f"{task_id}:{position}:v{version}"


# --- who may do what: ssj.inspections.policy ------------------------------------------------


# --- reading -------------------------------------------------------------------------------


def _target_code(value: dict) -> list[str]:
    code = (value.get("target") or {}).get("credit_code")
    return [code] if code else []


def _reveal(task_id: int, kind: str, rid: str, blob: bytes, purpose: str, position: int) -> Any:
    """A record (or notice) for the person: decrypted once, logged with its target's HMAC, then returned."""
    return read_sealed(task_id, kind, rid, blob, purpose=purpose, credit_codes=_target_code, positions=[position])


def target_facts(task: Task, assignment: Assignment, purpose: str = "record_target") -> dict:
    """The target's directory facts, from the writer's own sealed assignment (logged)."""
    return read_sealed(
        task.id, "assignment", assignment.record_id, assignment.target_sealed,
        purpose=purpose, credit_codes=lambda v: [v["credit_code"]], positions=[assignment.position],
    )


def target_code(task: Task, position: int) -> Optional[str]:
    """The credit code in the position's record, for a log entry's HMAC only (server-side, never shown)."""
    row = get_record(task, position)
    if row is None:
        return None
    value = open_json(task.id, "record", record_id(task.id, position), row.sealed)
    return (value.get("target") or {}).get("credit_code")


def get_record(task: Task, position: int) -> Optional[InspectionRecord]:
    return db.session.execute(
        select(InspectionRecord).where(InspectionRecord.task_id == task.id, InspectionRecord.position == position)
    ).scalar_one_or_none()


def read_record(row: InspectionRecord, purpose: str = "record") -> dict:
    return _reveal(row.task_id, "record", record_id(row.task_id, row.position), row.sealed, purpose, row.position)


@dataclass
class PastVersion:
    version: int
    replaced_at: datetime
    value: dict


def read_history(row: InspectionRecord) -> list[PastVersion]:
    out = []
    for v in row.versions:
        value = _reveal(row.task_id, "record_version", version_id(row.task_id, row.position, v.version), v.sealed,
                        "record_history", row.position)
        out.append(PastVersion(v.version, v.replaced_at, value))
    return out


def records_of(task: Task) -> list[InspectionRecord]:
    return list(db.session.execute(
        select(InspectionRecord).where(InspectionRecord.task_id == task.id).order_by(InspectionRecord.position)
    ).scalars())


def positions_of(task: Task) -> list[int]:
    attempt = ceremony.sealed_attempt(task)
    return list(db.session.execute(
        select(Assignment.position).where(Assignment.attempt_id == attempt.id).distinct().order_by(Assignment.position)
    ).scalars())


def content_items(task: Task) -> list[str]:
    items: list[str] = []
    for tm in task.matters:
        for item in tm.matter.content_items:
            if item not in items:
                items.append(item)
    return items


# --- the form ------------------------------------------------------------------------------


@dataclass
class RecordForm:
    method: str = ""
    started: str = ""
    ended: str = ""
    items: list[str] | None = None
    findings: str = ""
    onsite_record: str = ""
    evaluation: str = ""
    result: str = ""
    handling: str = "none"
    handling_detail: str = ""
    rectify_deadline: str = ""
    decision_no: str = ""
    reason: str = ""
    errors: dict[str, str] | None = None

    FIELDS = ("method", "started", "ended", "findings", "onsite_record", "evaluation", "result", "handling",
              "handling_detail", "rectify_deadline", "decision_no", "reason")

    @classmethod
    def from_request(cls, form) -> "RecordForm":
        values = {f: (form.get(f) or "").strip() for f in cls.FIELDS}
        values["handling"] = values["handling"] or "none"
        return cls(**values, items=form.getlist("items"), errors={})

    @classmethod
    def from_value(cls, value: dict) -> "RecordForm":
        return cls(**{f: value.get(f, "") or "" for f in cls.FIELDS if f != "reason"} | {"handling": value.get("handling") or "none"},
                   items=list(value.get("items") or []), errors={})

    def validate(self, task: Task, final: bool, correcting: bool = False) -> bool:
        """Drafts may be incomplete; a submission or correction must be whole."""
        e: dict[str, str] = {}
        known = set(content_items(task))
        if any(i not in known for i in self.items or []):
            e["items"] = "勾选的检查内容不在本任务事项的检查内容中，请刷新页面后重新勾选。"
        for name in ("started", "ended", "rectify_deadline"):
            raw = getattr(self, name)
            if raw and clock.parse_date(raw) is None:
                e[name] = "日期格式不对，请按“2026-03-15”的格式填写。"
        s, t = clock.parse_date(self.started), clock.parse_date(self.ended)
        if s and t and t < s:
            e["ended"] = "检查结束日期早于开始日期，请核对。"
        for name in ("findings", "onsite_record", "evaluation", "handling_detail"):
            if len(getattr(self, name)) > TEXT_LIMIT:
                e[name] = f"内容过长（不超过{TEXT_LIMIT}字），请精简或作为证据文件上传。"
        if self.method and self.method not in METHODS:
            e["method"] = "请选择检查方式：现场检查或书面检查。"
        if self.result and self.result not in RESULT_CATEGORIES:
            e["result"] = "请从列表中选择检查结果。"
        if self.handling not in HANDLINGS:
            e["handling"] = "请从列表中选择处理方式。"
        if final:
            if not self.method:
                e["method"] = "请选择检查方式：现场检查或书面检查。"
            if not s:
                e.setdefault("started", "请填写检查开始日期。")
            if not t:
                e.setdefault("ended", "请填写检查结束日期（报告期限从这一天起算5个工作日）。")
            if t and t > clock.today():
                e["ended"] = "检查结束日期不能晚于今天；检查尚未结束时请先保存草稿。"
            if not self.items:
                e["items"] = "请至少勾选一项检查内容。"
            if self.method == "onsite" and not self.onsite_record:
                e["onsite_record"] = "现场检查须填写现场检查笔录。"
            if not self.result:
                e["result"] = "请选择检查结果。"
            if self.handling == "rectify" and not clock.parse_date(self.rectify_deadline):
                e.setdefault("rectify_deadline", "责令改正须填写改正期限。")
            if self.handling == "penalty" and not self.decision_no:
                e["decision_no"] = "行政处罚须填写处罚决定书文号。"
        if correcting and not self.reason:
            e["reason"] = "请写明更正原因，例如“笔录中检查日期填错”。原因会与旧版本一起保存。"
        self.errors = e
        return not e

    def value(self) -> dict:
        return {
            "method": self.method,
            "started": self.started,
            "ended": self.ended,
            "items": list(self.items or []),
            "findings": self.findings,
            "onsite_record": self.onsite_record,
            "evaluation": self.evaluation,
            "result": self.result,
            "handling": self.handling,
            "handling_detail": self.handling_detail,
            "rectify_deadline": self.rectify_deadline,
            "decision_no": self.decision_no,
        }


# --- writing -------------------------------------------------------------------------------


def _now() -> datetime:
    return clock.now()


def _stamp(value: dict, facts: dict, team: list[str]) -> dict:
    return {
        **value,
        "target": {k: facts.get(k, "") for k in ("credit_code", "name", "address", "legal_rep", "township")},
        "team": team,
        "written_by": current_user.display_name,
        "written_at": _now().isoformat(timespec="seconds"),
    }


def save(task: Task, assignment: Assignment, form: RecordForm, action: str,
         loaded_version: Optional[int]) -> InspectionRecord:
    """Save a draft (`save`), submit it (`submit`) or correct a submitted record (`correct`).

    `loaded_version` is the row_version the person's form was loaded at: a save
    over someone else's newer save raises StaleEdit and writes nothing."""
    row = get_record(task, assignment.position)
    concurrency.check(row, loaded_version)
    if action == "correct":
        if row is None or row.state != "submitted":
            raise RecordError("只有已提交的检查记录才需要更正；草稿可以直接修改。", 409)
    elif row is not None and row.state == "submitted":
        raise RecordError("检查记录已提交，不能直接修改。如需修改，请使用“更正”并写明原因。", 409,
                          "submitted_record")
    facts = target_facts(task, assignment, "record_write")
    value = _stamp(form.value(), facts, list(facts.get("team") or []))
    rid = record_id(task.id, assignment.position)
    if row is None:
        row = InspectionRecord(task_id=task.id, position=assignment.position, version=1, sealed=b"")
        db.session.add(row)
    elif action == "correct":
        old = open_json(task.id, "record", rid, row.sealed)
        row.versions.append(InspectionRecordVersion(
            version=row.version, sealed=seal_json(task.id, "record_version", version_id(task.id, row.position, row.version), old)
        ))
        row.version += 1
        value["correction_reason"] = form.reason
    if action in ("submit", "correct"):
        row.state = "submitted"
        row.submitted_at = row.submitted_at or _now()
    row.sealed = seal_json(task.id, "record", rid, value)
    row.ended_on = clock.parse_date(form.ended)
    row.updated_at = _now()
    concurrency.flush()  # a save that landed since `check` makes this UPDATE match nothing
    if task.status == "sealed":
        task.status = "inspecting"  # the first record starts the inspection phase
        db.session.flush()
    audit.record(
        f"inspection_record_{action}",
        task_id=task.id,
        objects={"position": row.position, "version": row.version, "state": row.state,
                 "target_refs": [audit.sealed_ref(facts["credit_code"], task_id=task.id)] if facts.get("credit_code") else []},
    )
    return row


def ended_on(value: dict) -> Optional[date]:
    return clock.parse_date(value.get("ended", ""))
