"""Investigations 立案核查: the only way the office searches still-sealed tasks by enterprise (SPEC §5; Art 12, 14, 17).

Asking "who looked at enterprise X?" across sealed tasks would, repeated
over the directory, rebuild every sealed list. So the office states which
enterprises and why; a supervisor of its department — another person —
approves; the approval runs for a fixed number of days; every step is
logged and shown on the leadership's page. Only then does the console's
enterprise search (`console.enterprise_scope`) reach sealed tasks, and only
for the enterprises named.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping, Optional

from sqlalchemy import select

from .. import audit, clock, creditcode
from ..auth.roles import SUPERVISOR
from ..extensions import db
from ..models import Investigation, Target

MAX_CODES = 20
MAX_DAYS = 30
DEFAULT_DAYS = 14
MIN_REASON = 10
STATE_ZH = {"pending": "待局领导审批", "approved": "已批准", "declined": "未批准", "closed": "已结束", "expired": "已过期"}


class Refused(Exception):
    """A step the rules do not allow; `reason` goes in the log, `message` to the person."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def _now() -> datetime:
    return clock.now()


def state_of(inv: Investigation, now: Optional[datetime] = None) -> str:
    if inv.state == "approved" and inv.expires_at is not None and inv.expires_at <= (now or _now()):
        return "expired"
    return inv.state


def codes_of(inv: Investigation) -> list[str]:
    return json.loads(inv.codes_json)


def refs_of(codes) -> list[str]:
    """The enterprises as the log names them (never the codes themselves)."""
    return sorted(audit.sealed_ref(c, task_id=None) for c in codes)


@dataclass
class OpenForm:
    codes: list[str] = field(default_factory=list)
    reason: str = ""
    days: int = DEFAULT_DAYS
    raw_codes: str = ""
    raw_days: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> "OpenForm":
        f = cls(raw_codes=form.get("codes") or "", reason=(form.get("reason") or "").strip(),
                raw_days=(form.get("days") or str(DEFAULT_DAYS)).strip())
        seen: list[str] = []
        for part in re.split(r"[\s,，、;；]+", f.raw_codes):
            code = creditcode.normalise(part)
            if not code:
                continue
            problem = creditcode.problem(code)
            if problem:
                f.errors["codes"] = f"“{part}”：{problem}。请核对后重新输入（每行一个 18 位代码）。"
                break
            if code not in seen:
                seen.append(code)
        f.codes = sorted(seen)
        if not f.codes and "codes" not in f.errors:
            f.errors["codes"] = "请至少填写一个要核查的企业的统一社会信用代码。"
        elif len(f.codes) > MAX_CODES:
            f.errors["codes"] = f"一次立案核查最多 {MAX_CODES} 个企业；更多企业请分别立案并说明各自的理由。"
        if len(f.reason) < MIN_REASON:
            f.errors["reason"] = f"请写明立案核查的事由（至少 {MIN_REASON} 个字），例如收到的举报或发现的异常，局领导据此审批。"
        if not f.raw_days.isdigit() or not 1 <= int(f.raw_days) <= MAX_DAYS:
            f.errors["days"] = f"有效期应为 1 至 {MAX_DAYS} 天的整数，自局领导批准时起算。"
        else:
            f.days = int(f.raw_days)
        return f


def open_investigation(user, form: OpenForm) -> Investigation:
    inv = Investigation(
        department_id=user.department_id,
        codes_json=json.dumps(form.codes),
        reason=form.reason,
        days=form.days,
        state="pending",
        requested_by_id=user.id,
        requested_at=_now(),
        decision_note="",
    )
    db.session.add(inv)
    db.session.flush()
    # The reason is free text and may name an enterprise: it stays in the
    # table, which the leadership reads; the log names the enterprises by reference.
    audit.record("investigation_opened", objects={"investigation": inv.id, "enterprise_refs": refs_of(form.codes),
                                                  "days": inv.days})
    return inv


def decide(inv: Investigation, user, approve: bool, note: str) -> Investigation:
    """A supervisor of the office's department, not the requester, approves or declines (two people)."""
    if not user.has_role(SUPERVISOR) or user.department_id != inv.department_id:
        raise Refused("not_supervisor_of_department", "只有本部门的局领导可以审批立案核查。")
    if user.id == inv.requested_by_id:
        raise Refused("own_request", "不能审批自己提出的立案核查，请由另一位局领导审批。")
    if inv.state != "pending":
        raise Refused("already_decided", "这项立案核查已经审批过，不能再次审批。")
    note = (note or "").strip()
    if not approve and not note:
        raise Refused("no_reason", "不同意时请写明理由，纪检监察室据此补充或撤回。")
    now = _now()
    inv.state = "approved" if approve else "declined"
    inv.decided_by_id = user.id
    inv.decided_at = now
    inv.decision_note = note
    inv.expires_at = now + timedelta(days=inv.days) if approve else None
    db.session.flush()
    audit.record(
        "investigation_approved" if approve else "investigation_declined",
        objects={"investigation": inv.id, "enterprise_refs": refs_of(codes_of(inv)),
                 "requested_by": inv.requested_by.username,
                 "expires_at": inv.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if inv.expires_at else None},
    )
    return inv


def close(inv: Investigation, user) -> Investigation:
    """The office ends an investigation before it expires (the check is done)."""
    if user.department_id != inv.department_id:
        raise Refused("other_department", "这项立案核查不属于您所在的部门。")
    if state_of(inv) not in ("pending", "approved"):
        raise Refused("already_decided", "这项立案核查已经结束。")
    inv.state = "closed"
    if inv.expires_at is None or inv.expires_at > _now():
        inv.expires_at = _now()
    db.session.flush()
    audit.record("investigation_closed", objects={"investigation": inv.id})
    return inv


def of_department(department_id: Optional[int]) -> list[Investigation]:
    return list(db.session.execute(
        select(Investigation).where(Investigation.department_id == department_id).order_by(Investigation.id.desc())
    ).scalars())


def names_of(codes) -> dict[str, str]:
    """The enterprises' names from the (plaintext, non-secret) directory, for the approver."""
    codes = list(codes)
    if not codes:
        return {}
    return dict(db.session.execute(select(Target.credit_code, Target.name).where(Target.credit_code.in_(codes))).all())
