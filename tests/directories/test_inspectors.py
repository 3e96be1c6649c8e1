"""Inspectors (Art 5): department scope, eligibility for draws and why not, search, editing."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ssj.directories.service import eligibility
from ssj.extensions import db
from ssj.models import Inspector
from tests.conftest import post, post_as_loaded

from . import builders


def _form(app, **over):
    with app.app_context():
        jc = builders.section("JCDD").id
    form = {"staff_no": "JC0101", "name": "王执法", "section_id": str(jc), "cert_no": "豫ZJ41160001",
            "cert_expiry": (date.today() + timedelta(days=200)).isoformat(), "specialties": "工资支付",
            "status": "active", "user_id": ""}
    form.update(over)
    return form


def test_staff_adds_an_inspector(app, login_as):
    c = login_as("staff_sb")  # any section of the department keeps the shared directory
    r = post(c, "/inspectors/new", _form(app))
    assert r.status_code == 302
    page = c.get(r.location).text
    assert "王执法" in page and "可以参加随机抽取" in page
    with app.app_context():
        i = db.session.execute(select(Inspector)).scalar_one()
        assert (i.staff_no, i.department_id) == ("JC0101", builders.department("RSJ").id)


def test_bad_input_is_named_and_nothing_written(app, login_as):
    builders.inspector(app, "JC0001", "已有人员")
    c = login_as("staff_jc")
    r = post(c, "/inspectors/new", _form(app, staff_no="JC0001", cert_expiry="明年", section_id="9999"))
    assert r.status_code == 422
    assert "工号 JC0001 已在执法人员名录中" in r.text
    assert "请按 年-月-日 填写执法证有效期" in r.text
    assert "请选择本部门的一个科室" in r.text
    assert "王执法" in r.text  # typed values stay
    r = post(c, "/inspectors/new", _form(app, cert_no="豫ZJJC0001"))
    assert r.status_code == 422 and "已登记在 已有人员 名下" in r.text
    with app.app_context():
        assert db.session.execute(select(Inspector.staff_no)).scalars().all() == ["JC0001"]


def test_linking_an_account_of_another_department_is_refused(app, login_as):
    with app.app_context():
        other = builders.user("inspector_scj").id
    r = post(login_as("staff_jc"), "/inspectors/new", _form(app, user_id=str(other)))
    assert r.status_code == 422 and "请选择本部门的一个用户账号" in r.text


def test_eligibility_is_shown_with_the_reason(app, login_as):
    today = builders.bureau_today(app)
    builders.inspector(app, "A1", "在岗有效")
    builders.inspector(app, "A2", "证件过期", cert_expiry=today - timedelta(days=1))
    builders.inspector(app, "A3", "正在休假", status="leave")
    builders.inspector(app, "A4", "已经调离", status="left", cert_expiry=today - timedelta(days=30))
    builders.inspector(app, "A5", "今天到期", cert_expiry=today)
    text = login_as("staff_jc").get("/inspectors").text
    rows = {name: text.split(name, 1)[1].split("</tr>", 1)[0] for name in ("在岗有效", "证件过期", "正在休假", "已经调离", "今天到期")}
    assert "可抽取" in rows["在岗有效"] and "不可抽取" not in rows["在岗有效"]
    assert "可抽取" in rows["今天到期"] and "不可抽取" not in rows["今天到期"]
    assert "不可抽取" in rows["证件过期"] and f"执法证已于 {(today - timedelta(days=1)).isoformat()} 过期" in rows["证件过期"]
    assert "不可抽取" in rows["正在休假"] and "休假或借调中" in rows["正在休假"]
    assert "已调离" in rows["已经调离"] and "过期" in rows["已经调离"]


@pytest.mark.parametrize("status", ["active", "leave", "left"])
@pytest.mark.parametrize("days", [-1, 0, 1])
def test_eligibility_agrees_with_the_model_rule(status, days):
    today = date(2026, 3, 1)
    person = Inspector(status=status, cert_expiry=today + timedelta(days=days))
    ok, reasons = eligibility(person, today)
    assert ok == person.eligible_on(today)
    assert bool(reasons) == (not ok)


def test_search_and_filters(app, login_as):
    today = builders.bureau_today(app)
    builders.inspector(app, "JC0001", "张明", cert_no="豫ZJ0001")
    builders.inspector(app, "SB0002", "李华", section_code="SBG", cert_no="豫ZJ0002",
                       cert_expiry=today - timedelta(days=3))
    builders.inspector(app, "JC0003", "王强", status="leave", cert_no="豫ZJ0003")
    c = login_as("staff_jc")

    def names(**args):
        text = c.get("/inspectors", query_string=args, headers={"HX-Request": "true"}).text
        return {n for n in ("张明", "李华", "王强") if n in text}

    assert names(q="张") == {"张明"}
    assert names(q="sb0002") == {"李华"}
    assert names(q="ZJ0003") == {"王强"}
    with app.app_context():
        sbg = builders.section("SBG").id
    assert names(section=sbg) == {"李华"}
    assert names(status="leave") == {"王强"}
    assert names(cert="expired") == {"李华"}
    assert names(cert="valid") == {"张明", "王强"}


def test_another_department_cannot_see_inspectors(app, login_as):
    iid = builders.inspector(app, "JC0009", "本局人员")
    c = login_as("staff_scj")
    assert c.get(f"/inspectors/{iid}").status_code == 404
    assert post_as_loaded(c, f"/inspectors/{iid}/edit", _form(app, name="改名")).status_code == 404
    assert "本局人员" not in c.get("/inspectors").text


def test_edit_changes_status_and_keeps_the_staff_number(app, login_as):
    iid = builders.inspector(app, "JC0101", "王执法")
    with app.app_context():
        linked = builders.user("inspector_jc").id
    c = login_as("head_jc")
    r = post_as_loaded(c, f"/inspectors/{iid}/edit", _form(app, staff_no="CHANGED", status="leave", user_id=str(linked)))
    assert r.status_code == 302
    assert "目前不参加随机抽取" in c.get(r.location).text
    with app.app_context():
        i = db.session.get(Inspector, iid)
        assert (i.staff_no, i.status, i.user_id) == ("JC0101", "leave", linked)
    assert login_as("supervisor").get(f"/inspectors/{iid}/edit").status_code == 403


def test_empty_inspector_list_says_what_to_do_first(login_as):
    page = login_as("staff_jc").get("/inspectors").text
    assert "执法人员名录库还是空的" in page and "添加执法人员" in page


def test_certificate_dates_as_people_write_them():
    from ssj.directories.forms import parse_day

    assert parse_day("2027-06-30") == date(2027, 6, 30)
    assert parse_day("2027/6/30") == date(2027, 6, 30)
    assert parse_day(" 2027.6.3 ") == date(2027, 6, 3)
    for bad in ("2027-02-30", "27-6-30", "明年", "", "2027-6"):
        assert parse_day(bad) is None, bad
