"""Recusal after the draw (SPEC §3; Art 5 回避).

Part of the ceremony's service (see ceremony/service.py); split out of it along its sections (issue #15).
"""
from __future__ import annotations

from sqlalchemy import select

from .. import audit
from ..draws import algorithm as alg
from ..extensions import db
from ..models import Assignment, Task, User
from ..models.draws import Recusal
from ..sealing.service import open_json, seal_json
from .attempts import CeremonyError, _now, _ref, sealed_attempt
from .drawing import _hold_data_key, _inspectors_by_staff_no, a_record_id
from .lists import _recusals, _replacement


# --- recusal after the draw (Art 5 回避) ------------------------------------------------


def recuse(task: Task, assignment: Assignment, reason: str, user: User) -> Recusal:
    """Replace the assignment's inspector with the next eligible one in the frozen ranking.

    The new member comes from `algorithm.replace_inspector` over the pools,
    conflicts and cap frozen at the draw, so the published bundle replays
    it. The recusal is sealed (it names the target and the reason may
    too); the access log gets the position, both staff numbers and the
    HMAC of the target's code, never the reason's text.
    """
    attempt = sealed_attempt(task)
    if attempt is None or assignment.attempt_id != attempt.id or not assignment.active:
        raise CeremonyError("这项检查任务已不在当前有效的抽取结果中。")
    if task.status not in ("sealed", "inspecting"):
        raise CeremonyError(f"任务已进入“{task.status_label}”阶段，不能再办理回避替换。")
    key_row = _hold_data_key(task.id)  # noqa: F841
    pools = open_json(task.id, "pools", attempt.id, attempt.pools_sealed)
    result = open_json(task.id, "result", attempt.id, attempt.result_sealed)
    earlier = _recusals(attempt)
    done = [_replacement(open_json(task.id, "replacement", r.record_id, r.sealed)) for r in earlier]
    drawn = [alg.Team(t["target"], tuple(t["inspectors"])) for t in result["teams"]]
    target = drawn[assignment.position - 1].target
    leaving = assignment.inspector
    try:
        rep = alg.replace_inspector(
            drawn, done, target, leaving.staff_no, reason,
            inspectors=pools["inspectors"], seed=result["seed"], cap=pools["cap"], conflicts=pools["conflicts"],
        )
    except alg.DrawError as exc:
        raise CeremonyError(str(exc), 422) from None
    team_now = alg.apply_replacements(drawn, [*done, rep])[assignment.position - 1].inspectors
    people = _inspectors_by_staff_no(team_now)
    joining = people[rep.in_]
    recusal = Recusal(
        task_id=task.id,
        attempt_id=attempt.id,
        number=len(earlier) + 1,
        position=assignment.position,
        out_inspector_id=leaving.id,
        in_inspector_id=joining.id,
        sealed=b"",  # sealed below, once the row has its number in the associated data
        declared_by_id=user.id,
        declared_at=_now(),
    )
    db.session.add(recusal)
    db.session.flush()
    recusal.sealed = seal_json(
        task.id, "replacement", recusal.record_id,
        {"target": rep.target, "out": rep.out, "in": rep.in_, "reason": rep.reason},
    )
    names = [people[s].name for s in team_now]
    facts = open_json(task.id, "assignment", assignment.record_id, assignment.target_sealed)
    facts["team"] = names
    assignment.active = False
    db.session.add(
        Assignment(
            task_id=task.id,
            attempt_id=attempt.id,
            position=assignment.position,
            inspector_id=joining.id,
            target_sealed=seal_json(
                task.id, "assignment", a_record_id(attempt.id, assignment.position, joining.id), facts
            ),
        )
    )
    # The rest of the team's copies name the new member too.
    for other in db.session.execute(
        select(Assignment).where(
            Assignment.attempt_id == attempt.id,
            Assignment.position == assignment.position,
            Assignment.active.is_(True),
            Assignment.id != assignment.id,
        )
    ).scalars():
        value = open_json(task.id, "assignment", other.record_id, other.target_sealed)
        value["team"] = names
        other.target_sealed = seal_json(task.id, "assignment", other.record_id, value)
    db.session.flush()
    audit.record(
        "recusal",
        task_id=task.id,
        objects={
            **_ref(task, attempt),
            "number": recusal.number,
            "positions": [assignment.position],
            "out": leaving.staff_no,
            "in": joining.staff_no,
            "target_refs": [audit.sealed_ref(target, task_id=task.id)],
            "self": leaving.user_id == user.id,
        },
    )
    return recusal
