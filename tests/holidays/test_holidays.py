"""Holiday administration (SPEC §7; Art 9's "5个工作日"): what the admin may enter,
how a pasted schedule is checked as a whole, and the calendar every deadline uses.

2026 is the last year the chinese_calendar package covers; 2027 is entered here
the way an administrator would. Only 2027-01-01 元旦 is a certainty; the other
2027 days below are invented to exercise the rules, not the real schedule.
"""
from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy import select

from ssj.calendar_admin.service import current_calendar
from ssj.extensions import db
from ssj.models import AccessLogEntry, Holiday, HolidayYear
from tests.conftest import post


def _days(app) -> dict[str, tuple[bool, str]]:
    with app.app_context():
        rows = db.session.execute(select(Holiday.date, Holiday.is_working_day, Holiday.name)).all()
        return {r.date.isoformat(): (r.is_working_day, r.name) for r in rows}


def _complete_years(app) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(HolidayYear.year).where(HolidayYear.complete.is_(True))))


def _log(app) -> list[dict]:
    with app.app_context():
        bodies = db.session.scalars(
            select(AccessLogEntry.body).where(AccessLogEntry.action == "holiday_changed").order_by(AccessLogEntry.seq)
        )
        return [json.loads(b)["objects"] for b in bodies]


def _add(client, day: str, kind: str = "rest", name: str = "", **extra):
    return post(client, "/admin/holidays/add", {"date": day, "kind": kind, "name": name, "year": day[:4], **extra})


def _bulk(client, text: str, **extra):
    return post(client, "/admin/holidays/bulk", {"text": text, "year": "2027", **extra})


def _confirmation(html: str) -> str:
    """The value of the "确认覆盖软件包的数据" box the page offered."""
    return re.search(r'name="confirm_override" value="([0-9a-f]+)"', html).group(1)


def _line_errors(html: str) -> list[str]:
    return re.findall(r"<li>(第\d+行：[^<]*)</li>", html)


# --- one day at a time ---------------------------------------------------------------


def test_a_rest_day_is_entered_and_logged(app, login_as):
    admin = login_as("admin")
    r = _add(admin, "2027-01-01", name="元旦")
    assert r.status_code == 302 and "year=2027" in r.headers["Location"]
    assert _days(app) == {"2027-01-01": (False, "元旦")}
    page = admin.get("/admin/holidays?year=2027").text
    assert "2027-01-01" in page and "元旦" in page and "已录入：2027-01-01（星期五） 元旦放假" in page
    assert _log(app)[-1]["days"] == [["2027-01-01", "rest", "元旦"]]


def test_a_weekday_entered_as_a_working_day_is_pointless_and_refused(app, login_as):
    r = _add(login_as("admin"), "2027-03-03", kind="work")
    assert r.status_code == 422
    assert "2027-03-03（星期三） 本来就是工作日，不需要录入为“调休上班”" in r.text
    assert 'value="2027-03-03"' in r.text  # what was typed is still there
    assert _days(app) == {} and _log(app) == []


def test_a_make_up_saturday_is_accepted_with_or_without_its_holiday(app, login_as):
    admin = login_as("admin")
    assert _add(admin, "2027-02-06", kind="work").status_code == 302
    assert _add(admin, "2027-02-20", kind="work", name="春节").status_code == 302
    assert _days(app) == {"2027-02-06": (True, ""), "2027-02-20": (True, "春节")}


def test_a_rest_day_without_a_name_is_refused(app, login_as):
    r = _add(login_as("admin"), "2027-10-01", name="  ")
    assert r.status_code == 422
    assert "请写明 2027-10-01（星期五） 放假的节日名称" in r.text
    assert _days(app) == {}


def test_a_date_that_does_not_exist_is_refused_and_kept(app, login_as):
    r = _add(login_as("admin"), "2027-02-30", name="春节")
    assert r.status_code == 422
    assert "请按“2027-01-01”的格式填写一个存在的日期" in r.text
    assert 'value="2027-02-30"' in r.text and 'value="春节"' in r.text


def test_a_day_already_entered_differently_must_be_removed_first(app, login_as):
    admin = login_as("admin")
    _add(admin, "2027-01-01", name="元旦")
    r = _add(admin, "2027-01-01", name="春节")
    assert r.status_code == 422
    assert "2027-01-01（星期五） 已录入为“元旦放假”" in r.text and "请先" in r.text
    assert _days(app) == {"2027-01-01": (False, "元旦")}


def test_a_date_the_package_covers_is_an_override_that_needs_confirming(app, login_as):
    admin = login_as("admin")
    # 2026-10-08 (Thursday) is an ordinary working day in the package's data.
    r = _add(admin, "2026-10-08", name="国庆节")
    assert r.status_code == 200
    assert "软件包中 2026-10-08（星期四） 为“工作日”" in r.text and "确认覆盖软件包的数据" in r.text
    assert _days(app) == {}
    with app.test_request_context():
        assert current_calendar().is_working_day(date(2026, 10, 8)).working

    r = _add(admin, "2026-10-08", name="国庆节", confirm_override=_confirmation(r.text))
    assert r.status_code == 302
    assert _days(app) == {"2026-10-08": (False, "国庆节")}
    assert _log(app)[-1]["package_overridden"] is True
    with app.test_request_context():
        day = current_calendar().is_working_day(date(2026, 10, 8))
        assert not day.working and day.label == "国庆节" and day.warnings == []


def test_removing_a_day_gives_the_package_back_its_say(app, login_as):
    admin = login_as("admin")
    offered = _add(admin, "2026-10-08", name="国庆节").text
    _add(admin, "2026-10-08", name="国庆节", confirm_override=_confirmation(offered))
    with app.app_context():
        holiday_id = db.session.scalar(select(Holiday.id))
    r = post(admin, f"/admin/holidays/{holiday_id}/remove")
    assert r.status_code == 302
    assert _days(app) == {}
    assert _log(app)[-1] == {"change": "removed", "days": [["2026-10-08", "rest", "国庆节"]], "year_reopened": False}
    with app.test_request_context():
        assert current_calendar().is_working_day(date(2026, 10, 8)).working


# --- a pasted schedule ---------------------------------------------------------------


def test_a_pasted_schedule_with_mistakes_saves_nothing_and_names_each_line(app, login_as):
    admin = login_as("admin")
    text = "\n".join([
        "2027-01-01 元旦",           # 1 fine
        "2027-02-06 调休上班",        # 2 fine
        "2027-03-03 调休上班",        # 3 a Wednesday is a working day anyway
        "",                          # 4 blank, skipped
        "2027-02-30 春节",           # 5 no such day
        "2027-05-01",                # 6 rest day without its name
        "劳动节 2027-05-02",          # 7 does not start with a date
        "2027-01-01 元旦",           # 8 repeats line 1
    ])
    r = _bulk(admin, text)
    assert r.status_code == 422
    errors = _line_errors(r.text)
    assert [e.split("：", 1)[0] for e in errors] == ["第3行", "第5行", "第6行", "第7行", "第8行"]
    assert "本来就是工作日" in errors[0]
    assert "不存在" in errors[1]
    assert "放假的节日名称" in errors[2]
    assert "开头不是日期" in errors[3]
    assert "与第1行重复" in errors[4]
    assert _days(app) == {} and _log(app) == []
    assert "2027-02-06 调休上班" in r.text  # the pasted text comes back to be corrected


def test_a_corrected_paste_is_saved_whole_and_pasting_it_again_changes_nothing(app, login_as):
    admin = login_as("admin")
    text = "# 国务院办公厅通知（示例）\n2027-01-01 元旦\n2027年2月6日 春节调休上班\n2027-02-10至2027-02-16 春节\n"
    r = _bulk(admin, text)
    assert r.status_code == 302
    days = _days(app)
    assert len(days) == 9
    assert days["2027-02-06"] == (True, "春节")
    assert all(days[f"2027-02-{d}"] == (False, "春节") for d in range(10, 17))
    assert len(_log(app)) == 1 and len(_log(app)[0]["days"]) == 9  # one paste, one log entry

    r = _bulk(admin, text)
    assert r.status_code == 302
    assert "9 天都已录入过" in admin.get(r.headers["Location"]).text
    assert len(_days(app)) == 9 and len(_log(app)) == 1


def test_ambiguous_or_impossible_lines_are_explained(app, login_as):
    r = _bulk(login_as("admin"), "2027-02-07 调休\n2027-02-06至2027-02-07 调休上班\n2027-10-01至2027-11-30 国庆节")
    assert r.status_code == 422
    errors = _line_errors(r.text)
    assert "“调休”不明确" in errors[0]
    assert "请每天一行" in errors[1]
    assert "超过 15 天" in errors[2]
    assert _days(app) == {}


def test_a_paste_touching_a_package_year_waits_for_confirmation(app, login_as):
    admin = login_as("admin")
    r = _bulk(admin, "2026-10-08 国庆节\n2027-01-01 元旦")
    assert r.status_code == 200 and "第1行：2026年的节假日已由" in r.text
    assert _days(app) == {}
    confirmed = _confirmation(r.text)
    # The tick confirms what was shown: a paste that overrides another day asks again.
    r = _bulk(admin, "2026-10-08 国庆节\n2026-10-09 国庆节\n2027-01-01 元旦", confirm_override=confirmed)
    assert r.status_code == 200 and "第2行：2026年的节假日已由" in r.text
    assert _days(app) == {}
    r = _bulk(admin, "2026-10-08 国庆节\n2027-01-01 元旦", confirm_override=confirmed)
    assert r.status_code == 302 and set(_days(app)) == {"2026-10-08", "2027-01-01"}


# --- marking a year complete, and the calendar other areas use --------------------------


def test_a_year_is_marked_complete_only_after_an_entry(app, login_as):
    admin = login_as("admin")
    r = post(admin, "/admin/holidays/years/2027", {"complete": "1"})
    assert r.status_code == 422 and "2027年还没有录入任何日期" in r.text
    _add(admin, "2027-01-01", name="元旦")
    r = post(admin, "/admin/holidays/years/2027", {"complete": "1"})
    assert r.status_code == 422
    assert "清明节、劳动节、端午节、中秋节、国庆节" in r.text  # 春节 and the rest are missing
    assert _complete_years(app) == set()
    r = post(admin, "/admin/holidays/years/2027", {"complete": "1", "confirm_missing": "1"})
    assert r.status_code == 302 and _complete_years(app) == {2027}
    assert _log(app)[-1] == {"change": "year_complete", "year": 2027}


def test_a_year_the_package_covers_is_not_marked(app, login_as):
    r = post(login_as("admin"), "/admin/holidays/years/2026", {"complete": "1"})
    assert r.status_code == 422 and "无需标记" in r.text
    assert _complete_years(app) == set()


def test_the_overview_says_where_each_year_comes_from(app, login_as):
    admin = login_as("admin")
    page = admin.get("/admin/holidays?year=2026").text
    assert "软件包已覆盖" in page
    page = admin.get("/admin/holidays?year=2027").text
    assert "尚未录入" in page and "2027年的法定节假日尚未录入" in page
    _add(admin, "2027-01-01", name="元旦")
    assert "已录入部分，尚未标记完整" in admin.get("/admin/holidays?year=2027").text
    post(admin, "/admin/holidays/years/2027", {"complete": "1", "confirm_missing": "1"})
    page = admin.get("/admin/holidays?year=2027").text
    assert "管理员已录入完整" in page and "2027年的法定节假日尚未录入" not in page


def test_a_due_date_moves_across_new_year_once_2027_is_entered_and_complete(app, login_as):
    start = date(2026, 12, 28)  # a Monday; 29, 30, 31 December are working days
    with app.test_request_context():
        before = current_calendar().add_working_days(start, 5)
    assert before.due == date(2027, 1, 4)  # 1 January counted: 2027 is unknown
    assert len(before.warnings) == 1 and "2027年的法定节假日尚未录入" in before.warnings[0]

    admin = login_as("admin")
    _add(admin, "2027-01-01", name="元旦")
    with app.test_request_context():
        entered = current_calendar().add_working_days(start, 5)
    assert entered.due == date(2027, 1, 5)
    assert "尚未录入完整" in entered.warnings[0]  # entered, but not yet declared complete

    post(admin, "/admin/holidays/years/2027", {"complete": "1", "confirm_missing": "1"})
    with app.test_request_context():
        after = current_calendar().add_working_days(start, 5)
    assert after.due == date(2027, 1, 5) and after.warnings == []

    # Staff see the same answer on the calculator, without the warning.
    page = login_as("staff").get("/workdays?start=2026-12-28&days=5").text
    assert "2027-01-05" in page and "尚未录入" not in page


def test_removing_the_last_day_of_a_complete_year_makes_it_unknown_again(app, login_as):
    admin = login_as("admin")
    _add(admin, "2027-01-01", name="元旦")
    post(admin, "/admin/holidays/years/2027", {"complete": "1", "confirm_missing": "1"})
    with app.app_context():
        holiday_id = db.session.scalar(select(Holiday.id))
    r = post(admin, f"/admin/holidays/{holiday_id}/remove")
    assert "已取消“录入完整”标记" in admin.get(r.headers["Location"]).text
    assert _complete_years(app) == set()
    with app.test_request_context():
        assert current_calendar().warning_for(2027) is not None


# --- who may do what ---------------------------------------------------------------------


def test_only_the_admin_enters_holidays(app, login_as):
    for who in ("staff", "section_head", "supervisor", "discipline"):
        r = _add(login_as(who), "2027-01-01", name="元旦")
        assert r.status_code == 403, who
        assert _bulk(login_as(who), "2027-01-01 元旦").status_code == 403, who
    assert _days(app) == {}


def test_everyone_signed_in_may_count_working_days(app, login_as, client):
    for who in ("admin", "staff", "inspector", "supervisor", "discipline"):
        r = login_as(who).get("/workdays?start=2026-09-30&days=1")
        assert r.status_code == 200, who
        assert "2026-10-08" in r.text  # 1–7 Oct 2026 are 国庆节 rest days
    assert client.get("/workdays").status_code == 302  # not signed in


def test_the_calculator_explains_bad_input_and_answers_htmx_with_its_fragment(app, login_as):
    staff = login_as("staff")
    r = staff.get("/workdays?start=2026-13-01&days=abc")
    assert r.status_code == 422
    assert "起算日期：" in r.text and "工作日数：" in r.text and 'value="2026-13-01"' in r.text
    r = staff.get("/workdays?start=2026-09-30&days=1", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "HX-Request" in r.headers["Vary"]
    assert r.text.lstrip().startswith('<section id="workdays-result"') and "<html" not in r.text
