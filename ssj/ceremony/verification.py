"""The draw's verification: the result commitment and the public bundle (SPEC §6; Art 13).

Part of the ceremony's service (see ceremony/service.py); split out of it along its sections (issue #15).
"""
from __future__ import annotations

from ..draws import algorithm as alg
from ..models import DrawAttempt, Task
from ..sealing.service import open_json
from .attempts import CeremonyError, attempts_of, result_commitment, sealed_attempt
from .drawing import _hold_data_key
from .lists import _recusals, _replacement


# --- verification (Art 13, used at publication) -----------------------------------------------


def commitment_holds(attempt: DrawAttempt) -> bool:
    """Whether the sealed result is the one committed to at the ceremony."""
    task_id = attempt.task_id
    nonce_hex = open_json(task_id, "nonce", attempt.id, attempt.nonce_sealed)
    result = open_json(task_id, "result", attempt.id, attempt.result_sealed)
    return result_commitment(nonce_hex, result) == attempt.result_commitment


def _attempt_record(task: Task, attempt: DrawAttempt) -> alg.AttemptRecord:
    """One attempt as far as it got, decrypted on the server for the bundle (nothing shown here)."""
    pools = open_json(task.id, "pools", attempt.id, attempt.pools_sealed)
    strata = [alg.Stratum(s["name"], s["pool"], s["ratio"], s["count"]) for s in pools["strata"]]
    nonce = bytes.fromhex(open_json(task.id, "nonce", attempt.id, attempt.nonce_sealed)) if attempt.nonce_sealed else None
    witnesses = [alg.WitnessEntry(w.name, w.affiliation, w.digits) for w in attempt.witnesses]
    selection = teams = seed = None
    replacements: list[alg.Replacement] = []
    if attempt.result_sealed is not None:
        result = open_json(task.id, "result", attempt.id, attempt.result_sealed)
        seed = result["seed"]
        by_name = {s.name: s for s in strata}
        selection = [
            alg.StratumResult(
                by_name[r["name"]],
                r["sample_size"],
                tuple(alg.Selected(x["id"], x["ticket"]) for x in r["selected"]),
                tuple(alg.Skipped(x["id"], x["ticket"], x["by_task"]) for x in r.get("skipped", [])),
            )
            for r in result["strata"]
        ]
        teams = [alg.Team(t["target"], tuple(t["inspectors"])) for t in result["teams"]]
        replacements = [
            _replacement(open_json(task.id, "replacement", r.record_id, r.sealed)) for r in _recusals(attempt)
        ]
    elif attempt.entropy is not None and nonce is not None:
        # The draw ran and stopped before sealing (e.g. a team could not be
        # filled): the targets it drew follow from the sealed pools, E and the seed.
        excluded = (
            open_json(task.id, "exclusion", attempt.id, attempt.exclusion_sealed) if attempt.exclusion_sealed else {}
        )
        seed = alg.make_seed(nonce.hex(), attempt.entropy)
        selection = list(alg.draw_targets(strata, seed, excluded))
    return alg.AttemptRecord(
        number=attempt.number,
        strata=strata,
        inspectors=pools["inspectors"],
        team_size=pools["team_size"],
        cap=pools["cap"],
        conflicts=pools["conflicts"],
        nonce=nonce,
        witnesses=witnesses,
        entropy=attempt.entropy,
        seed=seed,
        selection=selection,
        teams=teams,
        replacements=replacements,
        void_reason=attempt.void_reason if attempt.state == "void" else None,
        approved_by=(attempt.void_approved_by.display_name if attempt.void_approved_by else None),
    )


def _bundle_v1(task: Task, rec: alg.AttemptRecord) -> dict:
    """A draw sealed under ssj-draw-v1 before the upgrade is published in the format it was drawn in."""
    assert rec.nonce is not None and rec.entropy is not None and rec.seed is not None
    assert rec.selection is not None and rec.teams is not None
    return alg.build_bundle_v1(
        task=task.id,
        attempt=rec.number,
        nonce=rec.nonce,
        entropy=rec.entropy,
        result=alg.DrawResult(rec.seed, tuple(rec.selection), tuple(rec.teams)),
        inspectors=rec.inspectors,
        team_size=rec.team_size,
        cap=rec.cap,
        conflicts=rec.conflicts,
        replacements=rec.replacements,
    )


def bundle_for(task: Task) -> dict:
    """The ssj-draw-v2 verification bundle: the sealed attempt, its recusals, every void attempt (SPEC §3).

    It reveals the nonces, every selected id and every Art 16 skip:
    publication calls it once the supervisor has approved (Art 13), and
    the release rule (publication.service) withholds it while a task named
    in a `skipped[].by_task` is unpublished.
    """
    attempt = sealed_attempt(task)
    if attempt is None:
        raise CeremonyError("本任务还没有已封存的抽取结果，无法生成核验包。")
    _hold_data_key(task.id)
    final = _attempt_record(task, attempt)
    if final.seed is not None and final.seed.startswith(alg.FORMAT_V1 + "|"):
        return _bundle_v1(task, final)
    earlier = [a for a in attempts_of(task) if a.number < attempt.number]
    return alg.build_bundle(
        task=task.id,
        final=final,
        void=[_attempt_record(task, a) for a in earlier],
    )
