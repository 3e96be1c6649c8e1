"""Working-day calendar (ssj/workdays.py): Art 9's "5个工作日内" in Chinese working days.

The 2026 dates below are the State Council's 2026 holiday schedule
(国务院办公厅关于2026年部分节假日安排的通知), each checked against the
chinesecalendar 1.11.0 data:
  元旦   1月1日–3日放假，1月4日（周日）上班
  春节   2月15日–23日放假，2月14日（周六）、2月28日（周六）上班
  劳动节 5月1日–5日放假，5月9日（周六）上班
  中秋节 9月25日–27日放假
  国庆节 10月1日–7日放假，9月20日（周日）、10月10日（周六）上班
2027 is not in the package; the 2027 entries used here are typed in as an
administrator would, and only 1月1日元旦 is a certainty — the make-up Saturday
below is invented to exercise the code, not a claim about the real schedule.
"""
from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from ssj.workdays import PACKAGE_YEARS, Calendar

D = dt.date


@pytest.fixture
def cal() -> Calendar:
    return Calendar()


def test_package_data_matches_the_schedule_these_tests_assume():
    # If a package upgrade changes 2026, the expectations below need re-checking.
    assert 2026 in PACKAGE_YEARS and 2027 not in PACKAGE_YEARS
    for d in [D(2026, 10, i) for i in range(1, 8)] + [D(2026, 2, i) for i in range(15, 24)]:
        assert chinese_calendar.is_holiday(d), d
    for d in (D(2026, 9, 20), D(2026, 10, 10), D(2026, 2, 14), D(2026, 2, 28)):
        assert chinese_calendar.is_workday(d) and d.weekday() >= 5, d
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2027, 1, 4))


def test_national_day_week_2026(cal):
    for i in range(1, 8):  # Thu 1 Oct – Wed 7 Oct, weekdays included
        day = cal.is_working_day(D(2026, 10, i))
        assert not day.working and not day
        assert day.label == "国庆节"
        assert day.warnings == []
    assert cal.is_working_day(D(2026, 10, 8)).working
    assert cal.describe(D(2026, 10, 8)) == "工作日"
    # Make-up days: Sun 20 Sep and Sat 10 Oct are working days.
    for d in (D(2026, 9, 20), D(2026, 10, 10)):
        day = cal.is_working_day(d)
        assert day.working and day
        assert day.label == "调休上班"
        assert day.holiday_name == "国庆节"
    # Sun 11 Oct is an ordinary weekend again.
    assert not cal.is_working_day(D(2026, 10, 11))
    assert cal.describe(D(2026, 10, 11)) == "周末"
    assert cal.describe(D(2026, 9, 25)) == "中秋节"


def test_spring_festival_2026(cal):
    # Nine days off, Sun 15 Feb – Mon 23 Feb.
    for i in range(15, 24):
        assert cal.describe(D(2026, 2, i)) == "春节"
        assert not cal.is_working_day(D(2026, 2, i))
    # Sat 14 Feb and Sat 28 Feb are make-up working days.
    assert cal.describe(D(2026, 2, 14)) == "调休上班"
    assert cal.describe(D(2026, 2, 28)) == "调休上班"
    assert cal.is_working_day(D(2026, 2, 14)) and cal.is_working_day(D(2026, 2, 28))
    assert cal.working_days_between(D(2026, 2, 13), D(2026, 2, 28)).working_days == 6
    # ended Fri 13 Feb: Sat 14 (1), holiday, Tue 24 (2) … Fri 27 (5)
    assert cal.add_working_days(D(2026, 2, 13), 5).due == D(2026, 2, 27)


def test_plain_week_counts_monday_to_friday(cal):
    # March 2026 has no holidays.
    result = cal.add_working_days(D(2026, 3, 9), 5)  # Monday
    assert result.due == D(2026, 3, 16)  # Tue–Fri, then the next Monday
    assert result.warnings == []
    assert cal.describe(D(2026, 3, 14)) == "周末"
    assert cal.describe(D(2026, 3, 10)) == "工作日"


def test_report_due_date_across_national_day(cal):
    # Inspection ended Wed 30 Sep: day 1 Thu 8 Oct, 2 Fri 9, 3 Sat 10 (调休),
    # 4 Mon 12, 5 Tue 13. Weekends-only would have said Wed 7 Oct.
    result = cal.add_working_days(D(2026, 9, 30), 5)
    assert result.due == D(2026, 10, 13)
    assert result.warnings == []


def test_end_day_itself_never_counts(cal):
    # Ending on a working day or a rest day makes no difference to day 1.
    assert cal.add_working_days(D(2026, 3, 13), 1).due == D(2026, 3, 16)  # Fri -> Mon
    assert cal.add_working_days(D(2026, 3, 14), 1).due == D(2026, 3, 16)  # Sat -> Mon
    assert cal.add_working_days(D(2026, 3, 13), 0).due == D(2026, 3, 13)


def test_between_is_the_inverse_of_add_over_all_of_2026(cal):
    start = D(2026, 1, 1)
    while start.year == 2026:
        for n in (0, 1, 5):
            due = cal.add_working_days(start, n).due
            assert cal.working_days_between(start, due).working_days == n, (start, n)
            assert cal.is_working_day(due) or n == 0
        start += dt.timedelta(days=1)


def test_between_sign_and_zero(cal):
    assert cal.working_days_between(D(2026, 9, 30), D(2026, 10, 13)).working_days == 5
    assert cal.working_days_between(D(2026, 10, 13), D(2026, 9, 30)).working_days == -5
    assert cal.working_days_between(D(2026, 10, 3), D(2026, 10, 3)).working_days == 0
    # Across the whole holiday week nothing is counted.
    assert cal.working_days_between(D(2026, 9, 30), D(2026, 10, 7)).working_days == 0


def test_into_2027_without_admin_data_warns_and_counts_weekends_only(cal):
    # Ended Mon 28 Dec 2026: Tue 29, Wed 30, Thu 31, Fri 1 Jan (assumed working), Mon 4 Jan.
    result = cal.add_working_days(D(2026, 12, 28), 5)
    assert result.due == D(2027, 1, 4)
    assert len(result.warnings) == 1
    assert "2027年" in result.warnings[0]
    assert "节假日管理" in result.warnings[0]

    day = cal.is_working_day(D(2027, 1, 1))
    assert day.working and day.label == "工作日" and day.warnings
    assert cal.describe(D(2027, 1, 2)) == "周末"


def test_warning_only_for_years_actually_looked_at(cal):
    assert cal.add_working_days(D(2026, 12, 21), 5).warnings == []  # due Mon 28 Dec
    span = cal.working_days_between(D(2026, 12, 1), D(2028, 1, 10))
    assert [w[:5] for w in span.warnings] == ["2027年", "2028年"]


def test_a_deadline_warns_about_the_days_it_counts_not_the_day_before():
    """From 1 January of a known year the count never touches the year before (mutation run, docs/mutation.md)."""
    cal = Calendar({D(2028, 1, 1): (False, "元旦")}, complete_years={2028})  # 2027 left unknown
    result = cal.add_working_days(D(2028, 1, 1), 5)
    assert result.due == D(2028, 1, 7)  # Sat 1 Jan; Mon 3 … Fri 7 (2028 has no other entry here)
    assert result.warnings == []


def test_a_countdown_from_1_january_warns_about_the_days_it_counts_not_the_day_before():
    """Mutant workdays 59 (docs/mutation.md): the span's warnings looked from the day before its first day."""
    cal = Calendar({D(2028, 1, 1): (False, "元旦")}, complete_years={2028})  # 2027 left unknown
    # Seen on Sat 1 Jan 2028 the deadline Fri 7 Jan is Mon 3 … Fri 7 away: no 2027 day is counted.
    left = cal.working_days_left(D(2028, 1, 1), D(2028, 1, 7))
    assert (left.days_left, left.label, left.warnings) == (5, "还剩5个工作日", [])
    # Overdue the other way round: a deadline of 1 Jan seen on Fri 7 Jan counts the same five days.
    late = cal.working_days_left(D(2028, 1, 7), D(2028, 1, 1))
    assert (late.days_left, late.overdue, late.warnings) == (-5, True, [])


def test_admin_entered_2027_new_year_moves_the_due_date():
    entries = {D(2027, 1, 1): (False, "元旦")}
    partial = Calendar(entries)
    result = partial.add_working_days(D(2026, 12, 28), 5)
    assert result.due == D(2027, 1, 5)
    assert partial.describe(D(2027, 1, 1)) == "元旦"
    # Entered but not marked complete: still warned, with the "not complete" wording.
    assert len(result.warnings) == 1 and "尚未录入完整" in result.warnings[0]

    complete = Calendar(entries, complete_years={2027})
    result = complete.add_working_days(D(2026, 12, 28), 5)
    assert result.due == D(2027, 1, 5)
    assert result.warnings == []
    assert complete.is_working_day(D(2027, 1, 1)).warnings == []


def test_admin_entered_make_up_saturday_counts():
    # Invented schedule: Sat 9 Jan 2027 as a make-up working day.
    cal = Calendar({D(2027, 1, 9): (True, "元旦")}, complete_years=[2027])
    assert cal.describe(D(2027, 1, 9)) == "调休上班"
    # Ended Wed 6 Jan: Thu 7, Fri 8, Sat 9, Mon 11, Tue 12
    assert cal.add_working_days(D(2027, 1, 6), 5).due == D(2027, 1, 12)
    assert Calendar().add_working_days(D(2027, 1, 6), 5).due == D(2027, 1, 13)


def test_admin_entries_override_package_years():
    # A correction or late one-off holiday in a year the package covers.
    cal = Calendar({D(2026, 3, 10): (False, "")})
    assert not cal.is_working_day(D(2026, 3, 10))
    assert cal.describe(D(2026, 3, 10)) == "节假日"
    assert cal.add_working_days(D(2026, 3, 9), 5).due == D(2026, 3, 17)


def test_working_days_left_counts_down_and_flags_overdue(cal):
    due = cal.add_working_days(D(2026, 9, 30), 5).due  # Tue 13 Oct
    assert cal.working_days_left(D(2026, 9, 30), due).label == "还剩5个工作日"
    left = cal.working_days_left(D(2026, 10, 9), due)  # Sat 10 (调休), Mon 12, Tue 13
    assert (left.days_left, left.overdue, left.label) == (3, False, "还剩3个工作日")
    on_due = cal.working_days_left(due, due)
    assert (on_due.days_left, on_due.overdue, on_due.label) == (0, False, "今天到期")

    late = cal.working_days_left(D(2026, 10, 15), due)  # Wed 14, Thu 15
    assert (late.days_left, late.overdue, late.label) == (-2, True, "已逾期2个工作日")

    # Past a Friday deadline on Saturday: overdue, though no working day lost yet.
    weekend = cal.working_days_left(D(2026, 10, 17), D(2026, 10, 16))
    assert (weekend.days_left, weekend.overdue, weekend.label) == (0, True, "已逾期")

    # A deadline on a rest day with no working day before it (mutation run, docs/mutation.md:
    # this label could be dropped without a test failing).
    holiday = cal.working_days_left(D(2026, 10, 3), D(2026, 10, 4))  # Sat 3 and Sun 4 of the National Day week
    assert (holiday.days_left, holiday.overdue, holiday.label) == (0, False, "到期前已无工作日")


def test_working_days_left_into_unknown_year_warns(cal):
    left = cal.working_days_left(D(2026, 12, 30), D(2027, 1, 4))
    assert left.days_left == 3 and left.warnings


def test_datetimes_are_refused_rather_than_silently_missing_holidays(cal):
    with pytest.raises(TypeError):
        cal.is_working_day(dt.datetime(2026, 10, 1, 9, 0))
    with pytest.raises(TypeError):
        Calendar({dt.datetime(2027, 1, 1): (False, "元旦")})
    with pytest.raises(ValueError):
        cal.add_working_days(D(2026, 3, 9), -1)
