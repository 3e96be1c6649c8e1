"""Art 7 at its boundaries (SPEC §3): every stratum, ratio or fixed count, measured against the
county's same-type targets — not the task's filtered pool — and never averaged across strata."""
from __future__ import annotations

import json
from fractions import Fraction

from sqlalchemy import insert, select

from ssj.extensions import db
from ssj.models import DrawAttempt, Matter, Stratum, Target, Task, TaskMatter, Township, User
from ssj.plans import rules
from tests.conftest import post

from tests.oversight.test_dashboard import cells, row as matter_row

from .conftest import credit_code, department, section, this_year
from .test_tasks import _form, _tasks


def bulk_targets(n: int, township: str | None = None, **fields) -> None:
    """n operating targets of RSJ, inserted in one statement (thousands are needed at the 1 % line)."""
    dept = department("RSJ").id
    tid = db.session.scalar(select(Township.id).where(Township.name == township)) if township else None
    db.session.execute(insert(Target), [
        {"department_id": dept, "credit_code": code, "name": f"单位{code[-7:]}", "township_id": tid, **fields}
        for code in (credit_code() for _ in range(n))
    ])
    db.session.flush()


# --- the pure rule ------------------------------------------------------------------------------


def test_one_percent_of_the_county_exactly_meets_art7_and_a_hair_below_does_not():
    assert not rules.below_art7_share(30, 3000)  # exactly 1 %
    assert rules.below_art7_share(99, 10000)  # 0.99 %
    assert rules.below_art7_share(29, 3000)  # 0.97 %
    assert rules.below_art7_share(1, 3000)  # a fixed 1 of 3,000
    assert not rules.below_art7_share(0, 0)  # no targets of the type: nothing to measure
    assert rules.percent_text(Fraction(1, 3000)) == "0.03%"


def test_the_county_base_drops_the_area_filter_but_keeps_type_and_strata():
    counts = {("制造业", False, False): 2559, ("制造业", False, True): 226, ("餐饮业", True, False): 900}
    # Strata of a task of manufacturing, whatever townships it covers.
    assert rules.county_base(counts, ["制造业"], "all", ["special", "general"]) == {"special": 226, "general": 2559}
    # Without a special stratum, special targets are in the general one.
    assert rules.county_base(counts, ["制造业"], "all", ["general"]) == {"general": 2785}
    assert rules.county_base(counts, [], "not_small", ["small_micro", "general"]) == {"small_micro": 0, "general": 2785}


def test_a_share_a_hair_below_one_percent_falls_short():
    """0.995 % is below 1 %, not only 0.99 % (mutmut 58 of round 4: the floor as 1/101)."""
    assert rules.below_art7_share(199, 20000)
    assert not rules.below_art7_share(200, 20000)


def test_percent_text_shows_the_share_rounded_half_up():
    """The percentages a task page shows (mutmut 86, 98, 99 of round 4)."""
    assert rules.percent_text(Fraction(29, 3000)) == "0.97%"
    assert rules.percent_text(Fraction(1, 100)) == "1.00%"
    assert rules.percent_text(Fraction(1, 800)) == "0.13%"  # 0.125 % rounds up
    assert rules.percent_text(Fraction(226, 2785)) == "8.11%"


def test_the_county_base_counts_every_entry_whatever_comes_first():
    """An entry of another industry or size before the ones counted is skipped, not the end of
    the count; the size filter keeps the right side (mutmut 66, 68, 69, 75 of round 4)."""
    counts = {("餐饮业", True, False): 900, ("制造业", True, False): 40,
              ("制造业", False, False): 2559, ("制造业", False, True): 226}
    all_three = ["special", "small_micro", "general"]
    assert rules.county_base(counts, ["制造业"], "all", all_three) == {"special": 226, "small_micro": 40, "general": 2559}
    assert rules.county_base(counts, [], "small_micro", ["small_micro", "general"]) == {"small_micro": 940, "general": 0}
    assert rules.county_base(counts, [], "not_small", ["small_micro", "general"]) == {"small_micro": 0, "general": 2785}


# --- the task form ------------------------------------------------------------------------------


def _one_stratum(**over) -> dict:
    base = {"special_enabled": None, "special_ratio": None, "small_micro_enabled": None, "small_micro_ratio": None}
    return {**base, **over}


def test_a_fixed_count_of_1_of_3000_needs_a_reason(app, login_as, matters):
    with app.app_context():
        bulk_targets(3000)
        db.session.commit()
    staff = login_as("staff")
    r = post(staff, "/tasks/new", _form(app, matters, **_one_stratum(general_ratio="", general_count="1")))
    assert r.status_code == 422
    assert "一般对象：固定抽查 1 户，按当前名录抽取 1 户，只占全县同类型检查对象 3000 户的 0.03%，低于细则第七条规定的 1%" in r.text
    assert _tasks(app) == []
    # 30 of 3,000 is exactly 1 %: no reason needed.
    r = post(staff, "/tasks/new", _form(app, matters, **_one_stratum(general_ratio="", general_count="30")))
    assert r.status_code == 302, r.text
    # 29 of 3,000 is not.
    r = post(staff, "/tasks/new", _form(app, matters, name="二", **_one_stratum(general_ratio="", general_count="29")))
    assert r.status_code == 422 and "0.97%" in r.text
    # With the stratum's written reason the round may go lower.
    r = post(staff, "/tasks/new", _form(app, matters, name="三", **_one_stratum(
        general_ratio="", general_count="1", general_reason="上级交办的一户专项核查")))
    assert r.status_code == 302, r.text
    assert [t["strata"] for t in _tasks(app)][-1] == [("general", None, 1, "上级交办的一户专项核查")]


def test_a_ratio_of_0_99_percent_needs_a_reason(app, login_as, matters):
    with app.app_context():
        bulk_targets(200)
        db.session.commit()
    r = post(login_as("staff"), "/tasks/new", _form(app, matters, **_one_stratum(general_ratio="0.99")))
    assert r.status_code == 422 and "一般对象抽查比例 0.99% 低于细则第七条规定的 1%" in r.text
    assert _tasks(app) == []


def test_a_township_round_is_measured_against_the_county(app, login_as, matters):
    """5 % of one township's 200 targets is 10 targets: 0.33 % of the county's 3,000, not 5 %."""
    with app.app_context():
        bulk_targets(200, township="城关乡")
        bulk_targets(2800, township="固墙镇")
        db.session.commit()
        town = db.session.scalar(select(Township.id).where(Township.name == "城关乡"))
    staff = login_as("staff")
    r = post(staff, "/tasks/new", _form(app, matters, township_ids=[str(town)], **_one_stratum(general_ratio="5")))
    assert r.status_code == 422
    assert "本次范围内 200 户中抽取 10 户，只占全县同类型检查对象 3000 户的 0.33%" in r.text
    assert _tasks(app) == []
    # 15 % of the township draws 30: exactly 1 % of the county.
    task_id = post(staff, "/tasks/new", _form(app, matters, township_ids=[str(town)], **_one_stratum(general_ratio="15")))
    assert task_id.status_code == 302, task_id.text
    # The task page's preview shows the share of the county beside the pool.
    page = staff.get(task_id.headers["Location"]).text
    assert "全县同类型对象" in page and "1.00%" in page


# --- the dashboard ---------------------------------------------------------------------------


def test_the_dashboard_measures_each_stratum_and_never_averages(app, login_as, matters):
    """1 of 2,559 general plus 28 of 226 special is 0.04 % for the general stratum, not "1.04 %"."""
    year = this_year(app)
    with app.app_context():
        bulk_targets(2559, industry="制造业")
        bulk_targets(226, industry="制造业", complaint_count=5)
        staff = db.session.scalar(select(User.id).where(User.username == "staff_jc"))
        task = Task(section_id=section("JCDD").id, year=year, name="两层抽查", status="sealed", team_size=2,
                    organizer_id=staff,
                    exclusion_days=0, out_of_plan=True, out_of_plan_reason="交办")
        task.strata = [Stratum(position=1, name="重点监管对象", kind="special", ratio_percent="12.39"),
                       Stratum(position=2, name="一般对象", kind="general", fixed_count=1)]
        task.matters = [TaskMatter(matter_id=matters["JC-001"])]
        db.session.add(task)
        db.session.flush()
        # What the ceremony stores in the clear: pool sizes and sample sizes per stratum.
        strata = [{"name": "重点监管对象", "kind": "special", "size": 226, "sample_size": 28},
                  {"name": "一般对象", "kind": "general", "size": 2559, "sample_size": 1}]
        db.session.add(DrawAttempt(task_id=task.id, number=1, state="sealed", operator_id=staff,
                                   pools_sealed=b"", pool_summary_json=json.dumps({"strata": strata}),
                                   sample_summary_json=json.dumps([{"name": s["name"], "sample_size": s["sample_size"]}
                                                                   for s in strata])))
        code = db.session.get(Matter, matters["JC-001"]).code
        db.session.commit()
    html = login_as("supervisor").get(f"/oversight/dashboard?year={year}").text
    row = " ".join(cells(matter_row(html, "matters-table", code)))
    assert "29／2785" in row and "0.04%" in row and "1.04%" not in row
    assert "一般对象实际抽取 1/2559 户（0.04%，按全县同类型对象计），低于细则第七条规定的 1%" in row
