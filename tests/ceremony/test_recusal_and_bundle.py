"""Recusal after the draw by the frozen ranking (Art 5 回避), and the verification
bundle that publication will release (SPEC §3, Art 13), checked by the standalone
verifier exactly as an outsider would run it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from ssj.ceremony import service
from ssj.draws import algorithm as alg
from ssj.extensions import db
from ssj.models import AccessLogEntry, Assignment, DrawAttempt, Inspector, Task
from ssj.models.draws import Recusal
from ssj.sealing.service import open_json
from tests.conftest import post

from .conftest import active_assignments, build_world, frozen_pools, full_draw, teams_by_code

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def drawn(app, login_as):
    # Five inspectors and no cap: a substitute always exists.
    world = build_world(app, tag="丁", jc_inspectors=5, cap=None)
    full_draw(login_as("staff"), app, world.task_id)
    return world


def _position_of(app, task_id, staff_no) -> int:
    return next(p for p, s in active_assignments(app, task_id) if s == staff_no)


def _recuse_url(world, position, staff_no) -> str:
    return f"/tasks/{world.task_id}/positions/{position}/inspectors/{world.inspectors[staff_no]}/recuse"


def _expected_substitute(app, world, position, leaving, done=()) -> str:
    pools = frozen_pools(app, world.task_id)
    with app.app_context():
        a = db.session.execute(select(DrawAttempt).where(DrawAttempt.task_id == world.task_id)).scalar_one()
        result = open_json(world.task_id, "result", a.id, a.result_sealed)
    teams = [alg.Team(t["target"], tuple(t["inspectors"])) for t in result["teams"]]
    rep = alg.replace_inspector(
        teams, list(done), teams[position - 1].target, leaving, "x",
        inspectors=pools["inspectors"], seed=result["seed"], cap=pools["cap"], conflicts=pools["conflicts"],
    )
    return rep.in_


def test_an_inspector_recuses_and_the_next_in_the_frozen_ranking_takes_the_place(app, login_as, drawn):
    position = _position_of(app, drawn.task_id, "JC01")
    target = list(teams_by_code(app, drawn.task_id))[position - 1]
    expected = _expected_substitute(app, drawn, position, "JC01")
    inspector = login_as("inspector")
    url = _recuse_url(drawn, position, "JC01")
    page = inspector.get(url)
    assert page.status_code == 200 and drawn.targets[target] not in page.text
    r = post(inspector, url, {"reason": ""})
    assert r.status_code == 422 and "请写明回避原因" in r.text
    r = post(inspector, url, {"reason": "本人配偶在该单位任职"})
    assert r.status_code == 302
    team = [s for p, s in active_assignments(app, drawn.task_id) if p == position]
    assert "JC01" not in team and expected in team and len(team) == 2
    # The inspector no longer sees that target; their other ones remain.
    mine = inspector.get("/my/inspections").text
    assert drawn.targets[target] not in mine
    with app.app_context():
        entry = db.session.execute(select(AccessLogEntry).where(AccessLogEntry.action == "recusal")).scalar_one()
        assert "配偶" not in entry.body and target not in entry.body
        body = json.loads(entry.body)
        assert body["objects"]["out"] == "JC01" and body["objects"]["in"] == expected
        row = db.session.execute(select(Recusal)).scalar_one()
        assert "配偶".encode() not in row.sealed and target.encode() not in row.sealed
        # The substitute's sealed copy, and the rest of the team's, name the new team.
        joining = db.session.execute(select(Inspector).where(Inspector.staff_no == expected)).scalar_one()
        new_row = db.session.execute(
            select(Assignment).where(Assignment.inspector_id == joining.id, Assignment.position == position,
                                     Assignment.active.is_(True))
        ).scalar_one()
        facts = open_json(drawn.task_id, "assignment", new_row.record_id, new_row.target_sealed)
        assert facts["credit_code"] == target and joining.name in facts["team"] and "检查员JC01" not in facts["team"]
    listing = login_as("staff").get(f"/tasks/{drawn.task_id}/list").text
    assert "本人配偶在该单位任职" in listing


def test_an_inspector_cannot_recuse_someone_else(app, login_as, drawn):
    position, other = next((p, s) for p, s in active_assignments(app, drawn.task_id) if s != "JC01")
    r = post(login_as("inspector"), _recuse_url(drawn, position, other), {"reason": "不想去"})
    assert r.status_code == 403
    assert [s for p, s in active_assignments(app, drawn.task_id) if p == position].count(other) == 1


def test_the_organizer_recuses_on_an_inspectors_behalf(app, login_as, drawn):
    position, other = next((p, s) for p, s in active_assignments(app, drawn.task_id) if s != "JC01")
    expected = _expected_substitute(app, drawn, position, other)
    r = post(login_as("staff"), _recuse_url(drawn, position, other), {"reason": "曾在该单位任职"})
    assert r.status_code == 302
    team = [s for p, s in active_assignments(app, drawn.task_id) if p == position]
    assert other not in team and expected in team
    # Another section's staff may not.
    position, member = active_assignments(app, drawn.task_id)[0]
    assert post(login_as("staff_sb"), _recuse_url(drawn, position, member), {"reason": "x"}).status_code == 403


def _bundle(app, task_id) -> dict:
    with app.app_context():
        return service.bundle_for(db.session.get(Task, task_id))


def _verify(tmp_path, bundle) -> subprocess.CompletedProcess:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "ssj.verify", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_the_bundle_with_its_recusals_verifies_with_the_standalone_verifier(app, login_as, drawn, tmp_path):
    inspector = login_as("inspector")
    position = _position_of(app, drawn.task_id, "JC01")
    assert post(inspector, _recuse_url(drawn, position, "JC01"), {"reason": "近亲属在该单位"}).status_code == 302
    position, other = next((p, s) for p, s in active_assignments(app, drawn.task_id) if s != "JC01")
    assert post(login_as("staff"), _recuse_url(drawn, position, other), {"reason": "曾在该单位任职"}).status_code == 302

    bundle = _bundle(app, drawn.task_id)
    assert len(bundle["replacements"]) == 2
    assert bundle["task"] == drawn.task_id and bundle["attempt"] == 1
    done = _verify(tmp_path, bundle)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "verified"
    with app.app_context():
        attempt = db.session.execute(select(DrawAttempt).where(DrawAttempt.task_id == drawn.task_id)).scalar_one()
        assert service.commitment_holds(attempt)
        # The published nonce is the one committed to before the dice.
        assert bundle["nonce_sha256"] == attempt.nonce_sha256 and bundle["entropy"] == attempt.entropy

    # The teams are the final ones: who actually inspects, each replacement applied.
    active = {}
    for p, staff_no in active_assignments(app, drawn.task_id):
        active.setdefault(p, set()).add(staff_no)
    assert [set(t["inspectors"]) for t in bundle["teams"]] == [active[p] for p in sorted(active)]
    assert [w["section"] for w in bundle["witnesses"]] and bundle["void_attempts"] == []

    # A bundle that hides its replacements, or shows the teams as drawn, fails.
    hidden = json.loads(json.dumps(bundle))
    hidden["replacements"] = []
    done = _verify(tmp_path, hidden)
    assert done.returncode == 1 and "every replacement applied" in done.stdout
    as_drawn = json.loads(json.dumps(bundle))
    for rep in reversed(as_drawn["replacements"]):
        team = next(t for t in as_drawn["teams"] if t["target"] == rep["target"])
        team["inspectors"][team["inspectors"].index(rep["in"])] = rep["out"]
    assert _verify(tmp_path, as_drawn).returncode == 1

    # And the verifier is not a rubber stamp: another selected id fails.
    undrawn = next(c for c in drawn.targets if c not in {s["id"] for s in bundle["strata"][0]["selected"]})
    bundle["strata"][0]["selected"][0]["id"] = undrawn
    assert _verify(tmp_path, bundle).returncode == 1


def _redraw(app, login_as, task_id: int, reason: str) -> None:
    from .conftest import attempt_number, draw_url

    n = str(attempt_number(app, task_id))
    assert post(login_as("staff"), draw_url(task_id, "redraw"), {"attempt": n, "reason": reason}).status_code == 302
    r = post(login_as("supervisor"), draw_url(task_id, "redraw/decide"), {"attempt": n, "decision": "approve"})
    assert r.status_code == 302


def test_void_attempts_are_in_the_bundle_and_verify(app, login_as, tmp_path):
    """Attempt 1 only frozen, attempt 2 drawn and sealed then voided, attempt 3 in force: all three in the bundle."""
    from .conftest import commit as commit_step
    from .conftest import freeze as freeze_step

    world = build_world(app, tag="废", jc_inspectors=5, cap=None)
    staff = login_as("staff")
    assert freeze_step(staff, world.task_id).status_code == 302
    _redraw(app, login_as, world.task_id, "冻结名单时漏选了乡镇")
    full_draw(staff, app, world.task_id, digits="31415926535897932384")
    voided_codes = {t for t in teams_by_code(app, world.task_id)}
    _redraw(app, login_as, world.task_id, "一名执法人员抽取后即调离，经批准重新抽取")
    full_draw(staff, app, world.task_id, digits="27182818284590452353")

    bundle = _bundle(app, world.task_id)
    assert bundle["attempt"] == 3
    first, second = bundle["void_attempts"]
    assert first["attempt"] == 1 and first["nonce"] is None and first["seed"] is None and first["teams"] is None
    assert first["strata"][0]["selected"] is None and first["strata"][0]["pool_sha256"]
    assert first["void_reason"] == "冻结名单时漏选了乡镇" and first["approved_by"]
    assert second["attempt"] == 2 and second["entropy"] == "31415926535897932384"
    assert {t["target"] for t in second["teams"]} == voided_codes
    assert second["void_reason"].startswith("一名执法人员") and second["approved_by"]
    done = _verify(tmp_path, bundle)
    assert (done.returncode, done.stdout.strip()) == (0, "verified"), done.stdout
    # What the void attempt drew is checked too.
    bad = json.loads(json.dumps(bundle))
    bad["void_attempts"][1]["strata"][0]["selected"].reverse()
    assert _verify(tmp_path, bad).returncode == 1
    commit_step  # noqa: B018  (imported for symmetry with the route helpers)


def test_a_draw_that_stopped_short_is_a_void_attempt_whose_targets_verify(app, login_as, tmp_path):
    """A draw that could not fill its teams drew targets all the same: the bundle shows them and they verify."""
    from .conftest import commit as commit_step
    from .conftest import freeze as freeze_step
    from .conftest import run as run_step
    from .conftest import witness as witness_step

    from .conftest import add_conflict

    world = build_world(app, tag="短", jc_inspectors=3, cap=None)
    for code in world.targets:  # only JC01 is free for any target: no team of two
        add_conflict(app, "JC02", code)
        add_conflict(app, "JC03", code)
    staff = login_as("staff")
    freeze_step(staff, world.task_id)
    with app.app_context():
        from ssj.models import Conflict

        db.session.execute(Conflict.__table__.delete())  # corrected before the next attempt freezes
        db.session.commit()
    commit_step(staff, app, world.task_id)
    witness_step(staff, app, world.task_id, "12345678901234567890")
    assert run_step(staff, app, world.task_id).status_code == 422
    _redraw(app, login_as, world.task_id, "执法人员不足以组成检查组，已补录人员")
    full_draw(staff, app, world.task_id, digits="98765432109876543210")
    bundle = _bundle(app, world.task_id)
    [stopped] = bundle["void_attempts"]
    assert stopped["seed"] and stopped["teams"] is None and stopped["replacements"] is None
    assert len(stopped["strata"][0]["selected"]) == stopped["strata"][0]["sample_size"]
    done = _verify(tmp_path, bundle)
    assert (done.returncode, done.stdout.strip()) == (0, "verified"), done.stdout


def test_the_commitment_catches_a_result_swapped_after_the_ceremony(app, login_as, drawn):
    with app.app_context():
        attempt = db.session.execute(select(DrawAttempt).where(DrawAttempt.task_id == drawn.task_id)).scalar_one()
        result = open_json(drawn.task_id, "result", attempt.id, attempt.result_sealed)
        result["teams"][0]["inspectors"].reverse()
        from ssj.sealing.service import seal_json

        attempt.result_sealed = seal_json(drawn.task_id, "result", attempt.id, result)
        assert not service.commitment_holds(attempt)
        db.session.rollback()


def test_no_route_serves_the_bundle_before_publication(app, login_as, drawn):
    """Whatever route publication adds for bundles, a sealed task's bundle is not reachable."""
    from ssj.models import DrawAttempt

    codes = list(teams_by_code(app, drawn.task_id))
    with app.app_context():
        nonce_hex = open_json(drawn.task_id, "nonce", *db.session.execute(
            select(DrawAttempt.id, DrawAttempt.nonce_sealed).where(DrawAttempt.task_id == drawn.task_id)
        ).one())
    rules = [r for r in app.url_map.iter_rules() if "bundle" in r.rule or "bundle" in r.endpoint]
    for rule in rules:
        url = rule.rule.replace("<int:task_id>", str(drawn.task_id))
        for client in (app.test_client(), login_as("staff"), login_as("supervisor")):
            r = client.get(url)
            assert r.status_code != 200, url
            assert nonce_hex.encode() not in r.data and not any(c.encode() in r.data for c in codes)
