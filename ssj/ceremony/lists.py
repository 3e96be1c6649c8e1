"""The sealed lists, read on a need to know (SPEC §4; Art 12).

Part of the ceremony's service (see ceremony/service.py); split out of it along its sections (issue #15).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Optional

from sqlalchemy import select

from ..draws import algorithm as alg
from ..extensions import db
from ..models import Assignment, DrawAttempt, Inspector, Task
from ..models.draws import Recusal
from ..sealing.service import read_sealed
from .attempts import sealed_attempt
from .drawing import _hold_data_key, _inspectors_by_staff_no, _target_details


# --- need-to-know reads (SPEC §4) ---------------------------------------------------------


def _reveal(
    task_id: int,
    kind: str,
    record_id: str | int,
    blob: bytes,
    *,
    purpose: str,
    codes: Callable[[Any], list[str]],
    positions: Callable[[Any], list[int]],
) -> Any:
    """Sealed content for a person to see: through read_sealed, decrypted once and logged before it is served."""
    return read_sealed(task_id, kind, record_id, blob, purpose=purpose, credit_codes=codes, positions=positions)


def _recusals(attempt: DrawAttempt) -> list[Recusal]:
    return list(
        db.session.execute(
            select(Recusal).where(Recusal.attempt_id == attempt.id).order_by(Recusal.number)
        ).scalars()
    )


def _replacement(value: dict) -> alg.Replacement:
    return alg.Replacement(value["target"], value["out"], value["in"], value["reason"])


@dataclass
class Member:
    staff_no: str
    name: str
    section: str
    inspector_id: int


@dataclass
class ListedTarget:
    position: int
    stratum: str
    index_in_stratum: int
    ticket: str
    credit_code: str
    name: str
    township: str
    address: str
    legal_rep: str
    contact: str
    industry: str
    team: list[Member]


@dataclass
class ListedRecusal:
    number: int
    position: int
    out: Member
    in_: Member
    reason: str
    declared_by: str
    declared_at: datetime


@dataclass
class SealedList:
    task: Task
    attempt: DrawAttempt
    targets: list[ListedTarget]
    recusals: list[ListedRecusal] = field(default_factory=list)


def _member(i: Inspector) -> Member:
    return Member(i.staff_no, i.name, i.section.name if i.section else "", i.id)


def read_list(task: Task, purpose: str) -> Optional[SealedList]:
    """The task's drawn targets and current teams, for the organizer, head or a supervisor.

    One logged read of the result (every position and code), one per
    recusal; directory facts (name, address, …) come from the target
    directory by code, which is not sealed.
    """
    attempt = sealed_attempt(task)
    if attempt is None:
        return None
    key_row = _hold_data_key(task.id)  # noqa: F841
    result = _reveal(
        task.id, "result", attempt.id, attempt.result_sealed,
        purpose=purpose,
        codes=lambda r: [t["target"] for t in r["teams"]],
        positions=lambda r: list(range(1, len(r["teams"]) + 1)),
    )
    recusal_rows = _recusals(attempt)
    replacements = []
    for row in recusal_rows:
        replacements.append(
            _reveal(
                task.id, "replacement", row.record_id, row.sealed,
                purpose=purpose, codes=lambda v: [v["target"]], positions=lambda v, p=row.position: [p],
            )
        )
    drawn = [alg.Team(t["target"], tuple(t["inspectors"])) for t in result["teams"]]
    teams = alg.apply_replacements(drawn, [_replacement(v) for v in replacements])
    people = _inspectors_by_staff_no(s for t in teams for s in t.inspectors)
    details = _target_details(task.section.department_id, [t.target for t in teams])
    placed = [(s["name"], n, sel) for s in result["strata"] for n, sel in enumerate(s["selected"], 1)]
    targets = []
    for position, (team, (stratum, index, sel)) in enumerate(zip(teams, placed), 1):
        facts = details.get(team.target, {})
        targets.append(
            ListedTarget(
                position=position,
                stratum=stratum,
                index_in_stratum=index,
                ticket=sel["ticket"],
                credit_code=team.target,
                name=facts.get("name", "（名录中已无此对象）"),
                township=facts.get("township", ""),
                address=facts.get("address", ""),
                legal_rep=facts.get("legal_rep", ""),
                contact=facts.get("contact", ""),
                industry=facts.get("industry", ""),
                team=[_member(people[s]) for s in team.inspectors],
            )
        )
    listed_recusals = [
        ListedRecusal(
            number=row.number,
            position=row.position,
            out=_member(row.out_inspector),
            in_=_member(row.in_inspector),
            reason=value["reason"],
            declared_by=row.declared_by.display_name,
            declared_at=row.declared_at,
        )
        for row, value in zip(recusal_rows, replacements)
    ]
    return SealedList(task, attempt, targets, listed_recusals)


@dataclass
class MyAssignment:
    task: Task
    position: int
    facts: dict
    inspector_id: int


def my_assignments(inspector: Inspector) -> list[MyAssignment]:
    """An inspector's own active assignments in sealed draws, each read logged (SPEC §4)."""
    rows = db.session.execute(
        select(Assignment)
        .join(DrawAttempt, Assignment.attempt_id == DrawAttempt.id)
        .where(Assignment.inspector_id == inspector.id, Assignment.active.is_(True), DrawAttempt.state == "sealed")
        .order_by(Assignment.task_id.desc(), Assignment.position)
    ).scalars().all()
    held = [_hold_data_key(task_id) for task_id in {a.task_id for a in rows}]  # noqa: F841
    out = []
    for a in rows:
        facts = _reveal(
            a.task_id, "assignment", a.record_id, a.target_sealed,
            purpose="own_assignment",
            codes=lambda v: [v["credit_code"]],
            positions=lambda v, p=a.position: [p],
        )
        out.append(MyAssignment(db.session.get(Task, a.task_id), a.position, facts, inspector.id))
    return out


def active_assignment(task: Task, position: int, inspector_id: int) -> Optional[Assignment]:
    attempt = sealed_attempt(task)
    if attempt is None:
        return None
    return db.session.execute(
        select(Assignment).where(
            Assignment.attempt_id == attempt.id,
            Assignment.position == position,
            Assignment.inspector_id == inspector_id,
            Assignment.active.is_(True),
        )
    ).scalar_one_or_none()
