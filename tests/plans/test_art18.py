"""Art 18 (SPEC §3): a round beyond the approved plan's number of rounds, or outside its months,
is flagged on the dashboard and on the discipline office's flags."""
from __future__ import annotations

from datetime import date

from ssj.extensions import db
from ssj.models import AnnualPlan, PlanItem
from ssj.plans import rules
from tests.ceremony.conftest import text_of
from tests.conftest import post

from .conftest import section, this_year
from .test_tasks import _form


def test_the_fourth_round_of_a_three_round_plan_is_the_one_flagged():
    tasks = [(11, date(2026, 9, 1), date(2026, 9, 20), [7]), (12, date(2026, 3, 1), date(2026, 3, 20), [7]),
             (13, date(2026, 6, 1), date(2026, 6, 20), [7])]
    assert rules.plan_departures(tasks, {7: (3, [])}, {7: "工资支付"}) == {}
    # Rounds count in date order: a fourth saved last but planned for May is the third round,
    # and the September task becomes the fourth — the one beyond the plan.
    four = [*tasks, (14, date(2026, 5, 1), date(2026, 5, 20), [7])]
    assert rules.plan_departures(four, {7: (3, [])}, {7: "工资支付"}) == {
        11: [("beyond_rounds", "“工资支付”的第 4 轮，超出年度计划的 3 轮（细则第十八条）。")]}
    # Months: planned for 3, 6, 9; a round held 4–5 is outside them, one spanning 5–6 is not.
    months = rules.plan_departures([(1, date(2026, 4, 20), date(2026, 5, 10), [7]), (2, date(2026, 5, 20), date(2026, 6, 5), [7])],
                                   {7: (3, [3, 6, 9])}, {7: "工资支付"})
    assert months == {1: [("outside_months", "“工资支付”计划在 3、6、9 月抽查，本轮安排在 4、5 月（细则第十八条）。")]}


def test_rounds_count_in_order_of_planned_start_then_id():
    """The round beyond the plan is the one planned later, not the one ending later, and among
    rounds starting the same day the one saved later — in whatever order the database returns
    them (mutmut 115, 117 of round 4)."""
    one_round = {7: (1, [])}
    long_first = [(1, date(2026, 3, 1), date(2026, 12, 20), [7]), (2, date(2026, 4, 1), date(2026, 4, 30), [7])]
    assert list(rules.plan_departures(long_first, one_round, {7: "工资支付"})) == [2]
    same_day = [(5, date(2026, 5, 1), date(2026, 5, 20), [7]), (4, date(2026, 5, 1), date(2026, 5, 31), [7])]
    assert list(rules.plan_departures(same_day, one_round, {7: "工资支付"})) == [5]


def test_a_matter_outside_the_plan_does_not_hide_the_tasks_other_matters():
    """A task of an unplanned matter and a planned one is still counted for the planned one
    (mutmut 120 of round 4: the loop stopped at the unplanned matter)."""
    tasks = [(1, date(2026, 3, 1), date(2026, 3, 20), [7]), (2, date(2026, 6, 1), date(2026, 6, 20), [99, 7])]
    assert rules.plan_departures(tasks, {7: (1, [])}, {7: "工资支付"}) == {
        2: [("beyond_rounds", "“工资支付”的第 2 轮，超出年度计划的 1 轮（细则第十八条）。")]}


def test_a_round_running_into_the_next_year_names_its_months_up_to_december():
    """(mutmut 110 of round 4: "本轮安排在 11、12、13 月".)"""
    tasks = [(1, date(2026, 11, 20), date(2027, 1, 10), [7])]
    assert rules.plan_departures(tasks, {7: (3, [3, 6, 9])}, {7: "工资支付"}) == {
        1: [("outside_months", "“工资支付”计划在 3、6、9 月抽查，本轮安排在 11、12 月（细则第十八条）。")]}


def test_a_fourth_round_and_a_round_outside_the_months_show_on_the_dashboard_and_the_console(app, login_as, matters):
    year = this_year(app)
    with app.app_context():
        plan = AnnualPlan(section_id=section("JCDD").id, year=year, status="approved")
        plan.items.append(PlanItem(matter_id=matters["JC-001"], rounds=3, ratio_percent="1", months="3,6,9,11"))
        db.session.add(plan)
        db.session.commit()
    staff = login_as("staff")
    for n, month in enumerate((3, 6, 9), start=1):
        r = post(staff, "/tasks/new", _form(app, matters, name=f"第{n}轮", planned_start=f"{year}-{month:02d}-01",
                                            planned_end=f"{year}-{month:02d}-20", publish_date=f"{year}-{month:02d}-28"))
        assert r.status_code == 302, r.text
    r = post(staff, "/tasks/new", _form(app, matters, name="第4轮", planned_start=f"{year}-11-01",
                                        planned_end=f"{year}-11-20", publish_date=f"{year}-11-28"))
    assert r.status_code == 302, r.text

    dashboard = login_as("supervisor").get(f"/oversight/dashboard?year={year}").text
    outside = text_of(dashboard.split('id="dash-outside"')[1].split("</section>")[0])
    assert "第4轮" in outside and "的第 4 轮，超出年度计划的 3 轮" in outside
    assert "第1轮" not in outside and "第3轮" not in outside

    flags = login_as("discipline").get("/discipline/flags").text
    assert "计划外的抽查轮次" in flags and "超出计划轮次" in flags
    assert "不在计划月份" not in flags


def test_a_round_outside_the_plans_months_is_flagged(app, login_as, matters):
    year = this_year(app)
    with app.app_context():
        plan = AnnualPlan(section_id=section("JCDD").id, year=year, status="approved")
        plan.items.append(PlanItem(matter_id=matters["JC-001"], rounds=3, ratio_percent="1", months="3,6,9"))
        db.session.add(plan)
        db.session.commit()
    r = post(login_as("staff"), "/tasks/new", _form(app, matters, name="五月专项"))  # planned 05-01 … 05-31
    assert r.status_code == 302, r.text
    dashboard = login_as("supervisor").get(f"/oversight/dashboard?year={year}").text
    assert "计划在 3、6、9 月抽查，本轮安排在 5 月" in text_of(dashboard)
    assert "不在计划月份" in login_as("discipline").get("/discipline/flags").text
