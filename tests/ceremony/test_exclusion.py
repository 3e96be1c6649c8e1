"""Avoiding repeat checks (Art 16): a draw leaves out targets that another task of any
department drew for inspection within the exclusion window, computed from sealed
results on the server without showing them to anyone."""
from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import DrawAttempt, Stratum, Target, Task

from .conftest import add_inspector, build_world, department, drawn_codes, freeze, frozen_pools, full_draw, section, user


def _pool(app, task_id) -> list[str]:
    return [c for s in frozen_pools(app, task_id)["strata"] for c in s["pool"]]


def _public_summary(app, task_id) -> dict:
    with app.app_context():
        a = db.session.execute(select(DrawAttempt).where(DrawAttempt.task_id == task_id)).scalar_one()
        return json.loads(a.pool_summary_json)


def test_targets_drawn_by_another_task_in_the_window_are_left_out(app, login_as):
    first = build_world(app, tag="戊")
    staff = login_as("staff")
    full_draw(staff, app, first.task_id)
    taken = set(drawn_codes(app, first.task_id))
    second = build_world(app, tag="己", n_targets=0, jc_inspectors=0)
    assert freeze(staff, second.task_id).status_code == 302
    pool = _pool(app, second.task_id)
    assert not taken & set(pool)
    assert set(pool) == set(first.targets) - taken
    summary = _public_summary(app, second.task_id)
    assert summary["strata"][0]["size"] == len(first.targets) - len(taken)
    # How many were left out is not written on the public record.
    assert "excluded" not in json.dumps(summary)


def test_a_task_inspected_before_the_window_does_not_exclude(app, login_as):
    long_ago = date.today() - timedelta(days=400)
    first = build_world(app, tag="庚", planned_start=long_ago)  # inspected 400–370 days ago
    staff = login_as("staff")
    full_draw(staff, app, first.task_id)
    second = build_world(app, tag="辛", n_targets=0, jc_inspectors=0, exclusion_days=180)
    freeze(staff, second.task_id)
    assert set(_pool(app, second.task_id)) == set(first.targets)


def test_no_window_means_no_exclusion(app, login_as):
    first = build_world(app, tag="壬")
    staff = login_as("staff")
    full_draw(staff, app, first.task_id)
    second = build_world(app, tag="癸", n_targets=0, jc_inspectors=0, exclusion_days=0)
    freeze(staff, second.task_id)
    assert set(_pool(app, second.task_id)) == set(first.targets)


def test_another_departments_draw_excludes_the_same_enterprise(app, login_as):
    ours = build_world(app, tag="子", n_targets=12)
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
    freeze(login_as("staff"), ours.task_id)
    assert set(_pool(app, ours.task_id)) == set(codes) - taken
