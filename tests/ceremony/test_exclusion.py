"""Avoiding repeat checks (Art 16) under ssj-draw-v2: the pools are the whole scope, and
the set E of targets another task drew and inspects within the window is computed by the
server inside the sealed draw step, where the walk skips them (SPEC §3, §4 "no oracles")."""
from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from ssj.draws import algorithm as alg
from ssj.extensions import db
from ssj.models import AccessLogEntry, DrawAttempt, InspectionRecord, Stratum, Target, Task, Township
from ssj.sealing.service import open_json

from .conftest import add_inspector, build_world, department, drawn_codes, freeze, frozen_pools, full_draw, section, user


def _pool(app, task_id) -> list[str]:
    return [c for s in frozen_pools(app, task_id)["strata"] for c in s["pool"]]


def _public_summary(app, task_id) -> dict:
    with app.app_context():
        a = db.session.execute(
            select(DrawAttempt).where(DrawAttempt.task_id == task_id).order_by(DrawAttempt.number.desc())
        ).scalars().first()
        return json.loads(a.pool_summary_json)


def _sealed_draw(app, task_id) -> tuple[dict, dict]:
    """(E as sealed, the sealed result) of the task's sealed attempt, decrypted in the test."""
    with app.app_context():
        a = db.session.execute(
            select(DrawAttempt).where(DrawAttempt.task_id == task_id, DrawAttempt.state == "sealed")
        ).scalar_one()
        return (
            open_json(task_id, "exclusion", a.id, a.exclusion_sealed),
            open_json(task_id, "result", a.id, a.result_sealed),
        )


def _skipped(result: dict) -> list[dict]:
    return [x for s in result["strata"] for x in s["skipped"]]


def _task_over(app, township_id: int, section_code: str, organizer: str, name: str, ratio: str = "50") -> int:
    with app.app_context():
        start = date.today() + timedelta(days=5)
        task = Task(
            section_id=section(section_code).id, year=start.year, name=name, status="planned",
            team_size=2, exclusion_days=180, planned_start=start, planned_end=start + timedelta(days=20),
            publish_date=start + timedelta(days=60), organizer_id=user(organizer).id,
            township_ids=str(township_id),
        )
        task.strata = [Stratum(position=0, name="一般对象", kind="general", ratio_percent=ratio)]
        db.session.add(task)
        db.session.commit()
        return task.id


def _directory_pool(app, township_id: int) -> list[str]:
    """The pool as anyone can compute it from the target directory alone."""
    with app.app_context():
        return sorted(
            db.session.execute(
                select(Target.credit_code).where(
                    Target.department_id == department("RSJ").id,
                    Target.township_id == township_id,
                    Target.status == "operating",
                )
            ).scalars()
        )


def test_the_oracle_is_gone_pools_of_a_second_task_follow_from_the_directory_alone(app, login_as):
    """Another section's task over the township of a sealed task freezes the whole scope:
    its pool size and hash are what the directory gives, whatever the sealed task drew."""
    first = build_world(app, tag="乡", n_targets=20, jc_inspectors=4)
    with app.app_context():
        town = Township(code="411623101", name="城关乡")
        db.session.add(town)
        db.session.flush()
        for t in db.session.execute(select(Target).where(Target.credit_code.in_(list(first.targets)))).scalars():
            t.township_id = town.id
        db.session.get(Task, first.task_id).township_ids = str(town.id)
        add_inspector("SB01", "SBG")
        add_inspector("SB02", "SBG")
        db.session.commit()
        town_id = town.id
    full_draw(login_as("staff"), app, first.task_id)
    taken = set(drawn_codes(app, first.task_id))
    assert taken

    second = _task_over(app, town_id, "SBG", "staff_sb", "社会保险费缴纳情况抽查")
    r = freeze(login_as("staff_sb"), second)
    assert r.status_code == 302, r.text
    directory = _directory_pool(app, town_id)
    summary = _public_summary(app, second)["strata"][0]
    assert summary["size"] == len(directory) == len(first.targets)
    assert summary["sha256"] == alg.pool_sha256(directory)
    assert summary["sample_size"] == alg.sample_size(len(directory), "50", None)
    assert set(_pool(app, second)) == set(directory)  # the drawn targets are still in the frozen pool
    assert "excluded" not in json.dumps(frozen_pools(app, second))


def test_a_draw_skips_targets_another_task_drew_inside_the_sealed_step(app, login_as):
    first = build_world(app, tag="戊")
    staff = login_as("staff")
    full_draw(staff, app, first.task_id)
    taken = set(drawn_codes(app, first.task_id))
    second = build_world(app, tag="己", n_targets=0, jc_inspectors=0, ratio="100", cap=None)
    full_draw(staff, app, second.task_id, digits=lambda teams: True)
    excluded, result = _sealed_draw(app, second.task_id)
    assert set(excluded) == taken and set(excluded.values()) == {first.task_id}
    assert not taken & set(drawn_codes(app, second.task_id))
    # k = 100% of the whole pool; the pool runs out, so every member of E is listed as passed.
    [stratum] = result["strata"]
    assert stratum["sample_size"] == len(first.targets)
    assert len(stratum["selected"]) == len(first.targets) - len(taken)
    assert {x["id"] for x in stratum["skipped"]} == taken
    assert {x["by_task"] for x in stratum["skipped"]} == {first.task_id}
    # The public record says nothing of E, except that this stratum ran out (SPEC §3).
    for text in (json.dumps(_public_summary(app, second.task_id)),):
        assert not any(code in text for code in taken)
    record = staff.get(f"/tasks/{second.task_id}/draw/record").text
    assert f"候选对象不足，实际抽取 {len(first.targets) - len(taken)} 户" in record
    assert not any(code in record for code in taken)
    # The read of the other task's sealed result is logged as a system read naming no target.
    with app.app_context():
        entry = db.session.execute(
            select(AccessLogEntry).where(AccessLogEntry.action == "draw_art16_read", AccessLogEntry.task_id == second.task_id)
        ).scalar_one()
        body = json.loads(entry.body)
        logged = entry.body
    objects = body.get("objects", body)
    assert objects["by"] == "system" and first.task_id in objects["tasks_read"]
    assert not any(code in logged for code in first.targets)


def test_a_task_inspected_before_the_window_does_not_cause_skips(app, login_as):
    long_ago = date.today() - timedelta(days=400)
    first = build_world(app, tag="庚", planned_start=long_ago)  # planned 400–370 days ago
    staff = login_as("staff")
    full_draw(staff, app, first.task_id)
    second = build_world(app, tag="辛", n_targets=0, jc_inspectors=0, exclusion_days=180, ratio="100", cap=None)
    full_draw(staff, app, second.task_id, digits=lambda teams: True)
    excluded, result = _sealed_draw(app, second.task_id)
    assert excluded == {} and _skipped(result) == []
    assert set(drawn_codes(app, second.task_id)) == set(first.targets)


def test_the_window_uses_the_actual_end_date_when_later_than_the_planned_one(app, login_as):
    """Planned to end 370 days ago, but one inspection actually ended 10 days ago: that target is in E."""
    long_ago = date.today() - timedelta(days=400)
    first = build_world(app, tag="迟", planned_start=long_ago)
    staff = login_as("staff")
    full_draw(staff, app, first.task_id)
    drawn = drawn_codes(app, first.task_id)
    late_position = 2
    with app.app_context():
        db.session.add(
            InspectionRecord(
                task_id=first.task_id, position=late_position, state="submitted", sealed=b"",
                ended_on=date.today() - timedelta(days=10),
            )
        )
        db.session.commit()
    second = build_world(app, tag="早", n_targets=0, jc_inspectors=0, exclusion_days=180, ratio="100", cap=None)
    full_draw(staff, app, second.task_id, digits=lambda teams: True)
    excluded, result = _sealed_draw(app, second.task_id)
    assert excluded == {drawn[late_position - 1]: first.task_id}
    assert [x["id"] for x in _skipped(result)] == [drawn[late_position - 1]]


def test_no_window_means_no_skips(app, login_as):
    first = build_world(app, tag="壬")
    staff = login_as("staff")
    full_draw(staff, app, first.task_id)
    second = build_world(app, tag="癸", n_targets=0, jc_inspectors=0, exclusion_days=0, ratio="100", cap=None)
    full_draw(staff, app, second.task_id, digits=lambda teams: True)
    excluded, result = _sealed_draw(app, second.task_id)
    assert excluded == {} and set(drawn_codes(app, second.task_id)) == set(first.targets)


def test_another_departments_draw_causes_skips_of_the_same_enterprise(app, login_as):
    ours = build_world(app, tag="子", n_targets=12, ratio="100", cap=None)
    codes = sorted(ours.targets)
    with app.app_context():
        # The market regulator keeps its own directory; six of its entries are the same enterprises.
        scj = department("SCJ")
        for code in codes[:6]:
            db.session.add(Target(department_id=scj.id, credit_code=code, name=f"市场监管名录{code[-4:]}"))
        for n in (1, 2, 3):
            add_inspector(f"SX{n}", "ZFJC", "inspector_scj" if n == 1 else None)
        start = date.today()
        task = Task(
            section_id=section("ZFJC").id, year=start.year, name="食品经营者联合检查", status="planned",
            team_size=2, exclusion_days=180, planned_start=start, planned_end=start + timedelta(days=20),
            organizer_id=user("staff_scj").id,
        )
        task.strata = [Stratum(position=0, name="一般对象", kind="general", ratio_percent="50")]
        db.session.add(task)
        db.session.commit()
        theirs = task.id
    full_draw(login_as("staff_scj"), app, theirs, digits=lambda teams: True)
    taken = set(drawn_codes(app, theirs))
    assert len(taken) == 3 and taken <= set(codes[:6])
    full_draw(login_as("staff"), app, ours.task_id, digits=lambda teams: True)
    assert set(_pool(app, ours.task_id)) == set(codes)  # frozen whole
    assert set(drawn_codes(app, ours.task_id)) == set(codes) - taken
