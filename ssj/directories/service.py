"""Changing the four directories and explaining them (SPEC §2; Art 4, 5, 6, 7).

Views call these after a form has validated. Each change is added to the
request's unit of work with a specific access-log entry (the after_request
hook commits both together). Matter changes go only through
`versions.apply_matter_changes`, so every change is kept (Art 4 "动态更新").

Log entries about a target name it by `sealed_ref(credit_code, task_id=None)`, never by
its id or code: once a draw has happened, who looked at which enterprise
could hint at the sealed list (SPEC §4, §5).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Optional


from .. import clock
from .. import audit
from ..extensions import db
from ..models import Conflict, Inspector, Matter, Section, Target, User
from ..models.directories import MATTER_METHODS, MATTER_STATUSES
from .forms import ART7_MIN_FREQUENCY, ConflictForm, InspectorForm, MatterForm, TargetForm, ratio_below_art7
from .versions import apply_matter_changes



# --- matters ---------------------------------------------------------------


def save_matter(form: MatterForm, matter: Optional[Matter], user: User) -> tuple[Matter, dict]:
    values = form.values()
    kind = "create" if matter is None else "update"
    if matter is None:
        values["section_id"] = user.section_id  # a section creates matters only for itself
    matter, changes = apply_matter_changes(matter, values, user, kind)
    if changes:
        audit.record(
            f"matter_{kind}d",
            objects={"matter": matter.id, "code": matter.code, "version": matter.version, "fields": sorted(changes)},
        )
    return matter, changes


FIELD_LABELS = {
    "code": "事项编码",
    "name": "事项名称",
    "legal_basis": "抽查依据",
    "content": "抽查内容",
    "documents": "需备查的材料",
    "ratio_percent": "抽查比例",
    "frequency": "抽查频次",
    "method": "检查方式",
    "section_id": "责任科室",
    "status": "状态",
}
CHANGE_KINDS = {"create": "新建", "update": "修改", "import": "Excel 导入"}


@dataclass
class FieldChange:
    label: str
    old: Optional[str]  # None: the field was empty (e.g. before the matter was created)
    new: Optional[str]
    added: list[str] = field(default_factory=list)  # content items, for the content field
    removed: list[str] = field(default_factory=list)


@dataclass
class VersionView:
    version: int
    changed_at: datetime
    who: str
    kind: str
    changes: list[FieldChange]


def _shown(name: str, value: Any, sections: dict[int, str]) -> Optional[str]:
    if value is None or value == "":
        return None
    if name == "method":
        return MATTER_METHODS.get(value, value)
    if name == "status":
        return MATTER_STATUSES.get(value, value)
    if name == "section_id":
        return sections.get(value, f"科室 #{value}")
    if name == "ratio_percent":
        return f"{value}%"
    if name == "frequency":
        return f"{value} 次/年"
    return str(value)


def _items(text: Optional[str]) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def version_history(matter: Matter) -> list[VersionView]:
    """Every version of a matter, newest first, field by field old → new."""
    sections = {s.id: s.full_name for s in db.session.query(Section).all()}
    views = []
    for v in matter.versions:
        changes = json.loads(v.changes_json)
        shown = []
        for name in FIELD_LABELS:
            if name not in changes:
                continue
            old, new = changes[name]
            change = FieldChange(FIELD_LABELS[name], _shown(name, old, sections), _shown(name, new, sections))
            if name in ("content", "documents"):
                before, after = _items(old), _items(new)
                change.added = [i for i in after if i not in before]
                change.removed = [i for i in before if i not in after]
            shown.append(change)
        who = v.changed_by.display_name if v.changed_by else "（系统）"
        views.append(VersionView(v.version, v.changed_at, who, CHANGE_KINDS.get(v.change_kind, v.change_kind), shown))
    return views


def art7_shortfalls(matter: Matter) -> list[str]:
    """Where a matter falls short of Art 7's defaults, in words for the page."""
    notes = []
    if ratio_below_art7(matter.ratio_percent):
        notes.append(f"抽查比例 {matter.ratio_percent}% 低于细则第七条规定的 1%（仅小微企业等情形可适当减少）。")
    if matter.frequency < ART7_MIN_FREQUENCY:
        notes.append(f"抽查频次每年 {matter.frequency} 次，少于细则第七条规定的每年 3 次。")
    return notes


# --- inspectors ------------------------------------------------------------


def eligibility(inspector: Inspector, day: date) -> tuple[bool, list[str]]:
    """Whether the inspector can be drawn today (SPEC §2) and, if not, every reason why."""
    reasons = []
    if inspector.status == "left":
        reasons.append("已调离")
    elif inspector.status == "leave":
        reasons.append("休假或借调中")
    elif inspector.status != "active":
        reasons.append("状态不是在岗")
    if inspector.cert_expiry < day:
        reasons.append(f"执法证已于 {inspector.cert_expiry.isoformat()} 过期")
    return not reasons, reasons


def save_inspector(form: InspectorForm, inspector: Optional[Inspector], user: User) -> tuple[Inspector, list[str]]:
    values = form.values()
    if inspector is None:
        inspector = Inspector(department_id=user.department_id, staff_no=form.staff_no, **values)
        db.session.add(inspector)
        changed = ["staff_no", *values]
        action = "inspector_created"
    else:
        changed = [k for k, v in values.items() if getattr(inspector, k) != v]
        if not changed:
            return inspector, []
        for k in changed:
            setattr(inspector, k, values[k])
        action = "inspector_updated"
    inspector.updated_at = clock.now()
    db.session.flush()
    audit.record(action, objects={"inspector": inspector.id, "staff_no": inspector.staff_no, "fields": sorted(changed)})
    return inspector, changed


# --- targets ---------------------------------------------------------------


def target_ref(target: Target) -> dict[str, str]:
    return {"target_ref": audit.sealed_ref(target.credit_code, task_id=None)}


def log_target(action: str, target: Target, **extra) -> None:
    audit.record(action, objects={**target_ref(target), **extra})


def save_target(form: TargetForm, target: Optional[Target], user: User) -> tuple[Target, list[str]]:
    values = form.values()
    if target is None:
        target = Target(department_id=user.department_id, credit_code=form.credit_code, **values)
        db.session.add(target)
        changed = ["credit_code", *values]
        action = "target_created"
    else:
        changed = [k for k, v in values.items() if getattr(target, k) != v]
        if not changed:
            log_target("target_unchanged", target)
            return target, []
        for k in changed:
            setattr(target, k, values[k])
        action = "target_updated"
    target.updated_at = clock.now()
    db.session.flush()
    log_target(action, target, fields=sorted(changed))
    return target, changed


# --- conflicts -------------------------------------------------------------


def record_conflict(form: ConflictForm, user: User, by_self: bool) -> Conflict:
    conflict = Conflict(
        inspector_id=form.inspector.id,
        target_id=form.target.id,
        kind=form.kind,
        reason=form.reason,
        declared_by_id=user.id,
        declared_at=clock.now(),
    )
    db.session.add(conflict)
    db.session.flush()
    audit.record(
        "conflict_declared" if by_self else "conflict_recorded",
        objects={"inspector": form.inspector.staff_no, "kind": form.kind, **target_ref(form.target)},
    )
    return conflict


def withdraw_conflict(conflict: Conflict, reason: str, user: User) -> None:
    """Delete a conflict; the log keeps what it was, who withdrew it and why (Art 9 全程留痕)."""
    audit.record(
        "conflict_withdrawn",
        reason=reason,
        objects={
            "inspector": conflict.inspector.staff_no,
            "kind": conflict.kind,
            "declared_by": conflict.declared_by.username if conflict.declared_by else None,
            "declared_at": conflict.declared_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **target_ref(conflict.target),
        },
    )
    db.session.delete(conflict)
    db.session.flush()
