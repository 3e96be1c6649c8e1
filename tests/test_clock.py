"""One clock (SPEC §7, §9): dates are judged in the bureau's time zone, whatever the server's.

The clock is frozen at 16:30 UTC, which is 00:30 the next day in Beijing: the
hours in which a server on UTC used to judge "today" a day behind the bureau.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from ssj import clock
from ssj.inspections import reports
from ssj.workdays import Calendar

# 2026-03-09 16:30 UTC = Tuesday 2026-03-10 00:30 in Beijing.
LATE_EVENING_UTC = datetime(2026, 3, 9, 16, 30, tzinfo=timezone.utc)


def test_today_is_the_bureau_date_and_times_are_shown_local(app):
    with app.app_context(), clock.frozen(LATE_EVENING_UTC):
        assert clock.now() == LATE_EVENING_UTC
        assert clock.today() == date(2026, 3, 10)
        assert clock.show(LATE_EVENING_UTC) == "2026-03-10 00:30"
        # Sealed records keep ISO strings; naive values (SQLite) are UTC.
        assert clock.show("2026-03-09T16:30:00+00:00") == "2026-03-10 00:30"
        assert clock.show(datetime(2026, 3, 9, 16, 30)) == "2026-03-10 00:30"
        assert clock.show(None) == ""


def test_one_date_parser_reads_the_spellings_people_type():
    for text in ("2026-03-10", "2026/3/10", "2026.03.10", "2026年3月10日", " 2026-3-10 ", "2026 年 3 月 10 日", "2026年3月10"):
        assert clock.parse_date(text) == date(2026, 3, 10), text
    for text in ("", "2026-02-30", "2026-13-01", "10/03/2026", "26-03-10", "2026-03-10 上午", "明天"):
        assert clock.parse_date(text) is None, text


def test_report_due_date_is_five_working_days_after_the_end():
    """Art 9 at its boundaries: the rule changes, this test fails."""
    cal = Calendar()
    # Monday end: due the next Monday (5 working days, the weekend skipped).
    assert reports.report_due_date(date(2026, 3, 2), cal).due == date(2026, 3, 9)
    # Friday end: due the following Friday.
    assert reports.report_due_date(date(2026, 3, 6), cal).due == date(2026, 3, 13)
    # Across the National Day holiday with its make-up Saturday (2025-10-11 is a working day).
    assert reports.report_due_date(date(2025, 9, 30), cal).due == date(2025, 10, 14)
    # An end on a Sunday counts from the next working day.
    assert reports.report_due_date(date(2026, 3, 8), cal).due == date(2026, 3, 13)


def test_the_admins_todo_asks_for_next_years_holidays_from_1_december(app, login_as):
    from datetime import datetime, timezone

    # Signed in inside each frozen moment: a session idle for hours of frozen time has expired.
    with clock.frozen(datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)):
        assert "录入2027年法定节假日" not in login_as("admin").get("/todo").text
    # 1 December in Beijing (still 30 November on a UTC clock).
    with clock.frozen(datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc)):
        page = login_as("admin").get("/todo").text
    assert "录入2027年法定节假日" in page and "期限：2027-01-01" in page
    assert "录入2027年法定节假日" not in login_as("staff").get("/todo").text


def test_a_todo_card_names_its_article_once(app):
    from flask import render_template

    from ssj.main.todo import TodoItem

    cited = TodoItem("形成检查报告：甲", "检查结束后5个工作日内形成检查报告（细则第九条）。", "/x", article="细则第九条")
    plain = TodoItem("复查", "请组织复查。", "/y", article="细则第十条")
    with app.test_request_context():
        page = render_template("main/todo.html", items=[(cited, None), (plain, None)], duties=[], today=date(2026, 3, 2))
    assert page.count("细则第九条") == 1 and page.count("细则第十条") == 1
