"""Step 4 of the draw ceremony: the draw, sealed (SPEC §3; Art 5, 6, 12).

Part of the ceremony's service (see ceremony/service.py); split out of it along its sections (issue #15).
"""
from __future__ import annotations

from typing import Iterable, Optional

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import audit
from ..draws import algorithm as alg
from ..extensions import db
from ..models import Assignment, DrawAttempt, Inspector, Target, TaskKey, Township, User
from .. import clock
from ..sealing.service import open_json, seal_json
from .attempts import CeremonyError, _chunks, _claim, _now, _ref, _refuse_if_pending, canonical_json, result_commitment
from .pools import art16_exclusion
from .witnesses import entropy_problems


# --- step 4: the draw, sealed (Art 5, 6, 12) -------------------------------------------


def _target_details(department_id: int, codes: list[str]) -> dict[str, dict[str, str]]:
    """Directory facts of the drawn targets, read without loading ORM objects (nothing can be written back)."""
    out: dict[str, dict[str, str]] = {}
    for chunk in _chunks(codes):
        rows = db.session.execute(
            select(
                Target.credit_code, Target.name, Target.address, Target.legal_rep, Target.contact,
                Target.industry, Township.name,
            )
            .outerjoin(Township, Target.township_id == Township.id)
            .where(Target.department_id == department_id, Target.credit_code.in_(chunk))
        ).all()
        for code, name, address, legal_rep, contact, industry, township in rows:
            out[code] = {
                "credit_code": code,
                "name": name,
                "address": address or "",
                "legal_rep": legal_rep or "",
                "contact": contact or "",
                "industry": industry or "",
                "township": township or "",
            }
    return out


def _inspectors_by_staff_no(staff_nos: Iterable[str]) -> dict[str, Inspector]:
    wanted = sorted(set(staff_nos))
    found: dict[str, Inspector] = {}
    for chunk in _chunks(wanted):
        # With their sections: every team member is shown with theirs (no query per section).
        for i in db.session.execute(
            select(Inspector).options(joinedload(Inspector.section)).where(Inspector.staff_no.in_(chunk))
        ).scalars():
            found[i.staff_no] = i
    missing = set(wanted) - set(found)
    if missing:
        # The pool was frozen from this table; a row deleted since cannot be assigned.
        raise CeremonyError(
            f"执法人员名录中已找不到 {len(missing)} 名冻结时在册的人员（工号 {'、'.join(sorted(missing))}），"
            "无法生成检查任务。请恢复这些人员的记录，或申请重新抽取。"
        )
    return found


def run(attempt: DrawAttempt, user: User) -> None:
    """Step 4: run ssj-draw-v2 once; seal E, the result and the assignments, or record why it stopped.

    Raises CeremonyError on a failure to draw; the caller keeps the
    attempt's changes (entropy and failure), which are then on the record.
    """
    task = attempt.task
    _refuse_if_pending(attempt)
    if attempt.state == "frozen":
        raise CeremonyError("请先生成并公示随机数承诺（第 2 步），再由见证人掷骰，最后才能抽取。")
    if attempt.state != "committed" or attempt.entropy is not None:
        raise CeremonyError("本次抽取已经运行过，不能再次抽取（每次抽取只能运行一次）。如需重新抽取，请按本页下方的规定申请。")
    problems = entropy_problems(attempt)
    if problems:
        raise CeremonyError("还不能开始抽取：" + "".join(problems), 422)
    try:
        entropy = alg.normalize_entropy("".join(w.digits for w in attempt.witnesses))
    except alg.EntropyError as exc:
        raise CeremonyError(str(exc), 422) from None
    _claim(attempt, "committed", entropy=entropy)

    pools = open_json(task.id, "pools", attempt.id, attempt.pools_sealed)
    nonce_hex = open_json(task.id, "nonce", attempt.id, attempt.nonce_sealed)
    strata = [alg.Stratum(s["name"], s["pool"], s["ratio"], s["count"]) for s in pools["strata"]]
    # Art 16 inside the sealed step; sealed now, before the draw can stop,
    # so that what a failed (and later void) attempt drew stays recomputable.
    excluded = art16_exclusion(task, attempt, {c for s in strata for c in s.pool}, clock.today())
    attempt.exclusion_sealed = seal_json(task.id, "exclusion", attempt.id, excluded)
    try:
        seed = alg.make_seed(nonce_hex, entropy)
        result = alg.run_draw(
            strata, pools["inspectors"], seed, pools["team_size"], pools["cap"], pools["conflicts"], excluded
        )
        people = _inspectors_by_staff_no(i for t in result.teams for i in t.inspectors)
    except (alg.DrawError, CeremonyError) as exc:
        # The entropy is spent either way: record why nothing was sealed, so
        # the attempt reads as failed rather than as drawn with no result.
        attempt.failure = str(exc)
        attempt.failed_at = _now()
        audit.record(
            "draw_failed", outcome="error", reason=str(exc), task_id=task.id, objects=_ref(task, attempt)
        )
        raise CeremonyError(str(exc), 422) from None

    sealed = {
        "seed": result.seed,
        "strata": [
            {
                "name": r.stratum.name,
                "sample_size": r.sample_size,
                "selected": [{"id": s.id, "ticket": s.ticket} for s in r.selected],
                "skipped": [{"id": s.id, "ticket": s.ticket, "by_task": s.by_task} for s in r.skipped],
            }
            for r in result.strata
        ],
        "teams": [{"target": t.target, "inspectors": list(t.inspectors)} for t in result.teams],
    }
    codes = [t.target for t in result.teams]
    key_row = _hold_data_key(task.id)  # noqa: F841  (kept alive for the seals below)
    details = _target_details(task.section.department_id, codes)
    stratum_of = {s.id: r.stratum.name for r in result.strata for s in r.selected}
    for position, team in enumerate(result.teams, 1):
        facts = details.get(team.target) or {"credit_code": team.target, "name": "（名录中未找到该对象）"}
        value = {
            **facts,
            "position": position,
            "stratum": stratum_of[team.target],
            "team": [people[s].name for s in team.inspectors],
        }
        for staff_no in team.inspectors:
            a = Assignment(task_id=task.id, attempt_id=attempt.id, position=position, inspector_id=people[staff_no].id)
            a.target_sealed = seal_json(task.id, "assignment", a_record_id(attempt.id, position, a.inspector_id), value)
            db.session.add(a)
    attempt.result_sealed = seal_json(task.id, "result", attempt.id, sealed)
    attempt.result_commitment = result_commitment(nonce_hex, sealed)
    # A stratum whose pool ran out because of Art 16 skips drew fewer than k;
    # the record says so (SPEC §3), and only then: nothing else about skips.
    attempt.sample_summary_json = canonical_json(
        [
            {"name": r.stratum.name, "sample_size": r.sample_size}
            | ({"drawn": len(r.selected)} if len(r.selected) < r.sample_size else {})
            for r in result.strata
        ]
    )
    attempt.drawn_at = _now()
    attempt.state = "sealed"
    task.status = "sealed"
    db.session.flush()
    audit.record(
        "draw_sealed",
        task_id=task.id,
        objects={
            **_ref(task, attempt),
            "entropy": entropy,
            "result_commitment": attempt.result_commitment,
            "sample_sizes": [r.sample_size for r in result.strata],
            "assignments": sum(len(t.inspectors) for t in result.teams),
        },
    )


def _hold_data_key(task_id: int) -> Optional[TaskKey]:
    """Keep the task's key row referenced while sealing many records.

    seal_json looks the row up with session.get each time; the session's
    identity map holds rows only weakly, so without a reference each of
    thousands of seals would query (and autoflush) again.
    """
    return db.session.get(TaskKey, task_id)


def a_record_id(attempt_id: int, position: int, inspector_id: int) -> str:
    """Same text as Assignment.record_id, for a row not flushed yet."""
    return f"{attempt_id}:{position}:{inspector_id}"
