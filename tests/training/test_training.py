"""Training records (SPEC §8; Art 15 "每年组织开展1次以上业务培训"): the yearly
indicator, what a record must contain, attendees, and who may keep or read them."""
from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry, Section, TrainingAttendance, TrainingSession, User
from ssj import clock
from ssj.training.service import load_demo_training, training_summary
from tests.conftest import post

NOT_MET = "本年度尚未开展业务培训（细则第十五条要求每年至少1次）"


def _today(app) -> date:
    with app.app_context():
        return clock.today()


def _ids(app, *usernames) -> list[int]:
    with app.app_context():
        rows = dict(db.session.execute(select(User.username, User.id).where(User.username.in_(usernames))).all())
    return [rows[u] for u in usernames]


def _section_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Section.id).where(Section.code == code))


def _form(app, **over) -> dict:
    data = {
        "title": "劳动保障监察执法业务培训",
        "date": _today(app).isoformat(),
        "section_id": str(_section_id(app, "JCDD")),
        "hours": "2",
        "trainer": "张某某（市人社局劳动保障监察支队）",
        "content": "《“双随机、一公开”工作实施细则》解读；现场检查笔录的制作。",
        "externals": "",
    }
    data.update(over)
    return data


def _create(app, client, **over) -> int:
    r = post(client, "/training/new", _form(app, **over))
    assert r.status_code == 302, r.text
    return int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _sessions(app) -> list[TrainingSession]:
    with app.app_context():
        return list(db.session.scalars(select(TrainingSession)))


def _attendees(app, session_id) -> set[tuple]:
    with app.app_context():
        rows = db.session.execute(
            select(TrainingAttendance.user_id, TrainingAttendance.name, TrainingAttendance.affiliation)
            .where(TrainingAttendance.session_id == session_id)
        ).all()
    return {tuple(r) for r in rows}


# --- the Art 15 indicator ------------------------------------------------------------------


def test_a_year_without_training_is_shown_in_red(app, login_as):
    page = login_as("staff").get("/training").text
    assert NOT_MET in page and "art15-unmet" in page
    assert "已开展" not in page


def test_one_session_this_year_meets_art_15(app, login_as):
    staff = login_as("staff")
    _create(app, staff, attendee=_ids(app, "staff_jc", "head_jc"))
    page = staff.get("/training").text
    assert "本年度已开展 1 次培训，参训 2 人" in page and "art15-met" in page
    assert NOT_MET not in page


def test_last_years_session_does_not_count_for_this_year(app, login_as):
    staff = login_as("staff")
    last_year = _today(app).year - 1
    _create(app, staff, date=f"{last_year}-06-01")
    assert NOT_MET in staff.get("/training").text
    page = staff.get(f"/training?year={last_year}").text
    assert f"{last_year}年度已开展 1 次培训" in page


def test_the_year_list_answers_htmx_with_its_fragment(app, login_as):
    r = login_as("supervisor").get("/training", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "HX-Request" in r.headers["Vary"]
    assert r.text.lstrip().startswith('<section id="training-year"') and NOT_MET in r.text


def test_the_summary_counts_sessions_and_distinct_people(app, login_as):
    staff = login_as("staff")
    jc, head = _ids(app, "staff_jc", "head_jc")
    _create(app, staff, attendee=[jc, head], externals="李某某 县市场监督管理局", hours="1.5")
    _create(app, staff, title="社保基金监督培训", attendee=[jc], externals="李某某 县市场监督管理局\n王某 县医保局")
    _create(app, staff, title="去年的培训", date=f"{_today(app).year - 1}-03-01", attendee=[head])
    with app.app_context():
        rsj = db.session.get(User, jc).department_id
        s = training_summary(rsj, _today(app).year)
    assert s["count"] == 2 and s["meets_art15"]
    assert s["attendees"] == 4  # staff_jc, head_jc, 李某某, 王某: each once
    assert s["attendances"] == 6
    assert s["hours"] == "3.5"
    assert sorted(x["title"] for x in s["sessions"]) == ["劳动保障监察执法业务培训", "社保基金监督培训"]


# --- what a record must say ----------------------------------------------------------------


def test_a_session_in_the_future_is_refused_and_nothing_is_lost(app, login_as):
    tomorrow = (_today(app) + timedelta(days=1)).isoformat()
    r = post(login_as("staff"), "/training/new", _form(app, date=tomorrow, externals="李某某 县市场监督管理局"))
    assert r.status_code == 422
    assert "培训日期不能晚于今天" in r.text
    assert 'value="劳动保障监察执法业务培训"' in r.text and "李某某 县市场监督管理局" in r.text
    assert _sessions(app) == []


def test_each_missing_field_is_named(app, login_as):
    r = post(login_as("staff"), "/training/new", _form(app, title="", hours="两小时", trainer="", content="", section_id=""))
    assert r.status_code == 422
    for message in ("请填写培训名称", "请填写培训学时（小时）", "请填写授课人", "请简要填写培训内容", "请选择本部门负责组织这次培训的科室"):
        assert message in r.text, message
    assert "有 5 处需要修改" in r.text
    assert _sessions(app) == []


def test_another_departments_section_or_user_cannot_be_chosen(app, login_as):
    staff = login_as("staff")
    r = post(staff, "/training/new", _form(app, section_id=str(_section_id(app, "ZFJC"))))
    assert r.status_code == 422 and "请选择本部门负责组织这次培训的科室" in r.text
    r = post(staff, "/training/new", _form(app, attendee=_ids(app, "staff_scj")))
    assert r.status_code == 422 and "不属于本部门" in r.text
    assert _sessions(app) == []


def test_external_attendees_are_read_line_by_line(app, login_as):
    staff = login_as("staff")
    r = post(staff, "/training/new", _form(app, externals="李某某 县市场监督管理局\n\n李某某 县市场监督管理局"))
    assert r.status_code == 422 and "第3行：“李某某 县市场监督管理局”与第1行重复" in r.text
    session_id = _create(app, staff, attendee=_ids(app, "staff_jc"), externals="李某某 县市场监督管理局\n王某")
    jc = _ids(app, "staff_jc")[0]
    assert _attendees(app, session_id) == {(jc, "staff_jc", ""), (None, "李某某", "县市场监督管理局"), (None, "王某", "")}
    page = staff.get(f"/training/{session_id}").text
    assert "参训人员（3 人）" in page and "县市场监督管理局" in page and "劳动保障监察大队" in page


def test_editing_changes_details_and_attendees_and_is_logged(app, login_as):
    staff = login_as("staff")
    jc, head = _ids(app, "staff_jc", "head_jc")
    session_id = _create(app, staff, attendee=[jc, head], externals="李某某 县市场监督管理局")
    r = post(staff, f"/training/{session_id}/edit", _form(app, hours="3", attendee=[head], externals="王某 县医保局"))
    assert r.status_code == 302
    assert "修改了：学时、参训人员" in staff.get(r.headers["Location"]).text
    assert _attendees(app, session_id) == {(head, "head_jc", ""), (None, "王某", "县医保局")}
    with app.app_context():
        body = db.session.scalars(
            select(AccessLogEntry.body).where(AccessLogEntry.action == "training_updated")
        ).one()
    objects = json.loads(body)["objects"]
    assert objects["fields"] == ["hours"] and objects["attendees_added"] == 1 and objects["attendees_removed"] == 2


def test_deleting_needs_confirming_and_the_year_is_red_again(app, login_as):
    staff = login_as("staff")
    session_id = _create(app, staff)
    r = post(staff, f"/training/{session_id}/delete")
    assert r.status_code == 422 and "请勾选“确认删除”" in r.text
    assert len(_sessions(app)) == 1
    r = post(staff, f"/training/{session_id}/delete", {"confirm": "1"})
    assert r.status_code == 302 and _sessions(app) == []
    assert NOT_MET in staff.get(r.headers["Location"]).text
    with app.app_context():
        body = db.session.scalars(select(AccessLogEntry.body).where(AccessLogEntry.action == "training_deleted")).one()
    assert json.loads(body)["objects"]["title"] == "劳动保障监察执法业务培训"


# --- who may do what --------------------------------------------------------------------------


def test_staff_and_heads_of_any_section_keep_the_departments_records(app, login_as):
    session_id = _create(app, login_as("staff"))
    for who in ("section_head", "staff_sb"):
        r = post(login_as(who), f"/training/{session_id}/edit", _form(app, title=f"由 {who} 修改"))
        assert r.status_code == 302, who
    assert _sessions(app)[0].title == "由 staff_sb 修改"


def test_supervisors_read_but_do_not_write(app, login_as):
    session_id = _create(app, login_as("staff"))
    supervisor = login_as("supervisor")
    assert "本年度已开展 1 次培训" in supervisor.get("/training").text
    page = supervisor.get(f"/training/{session_id}").text
    assert "劳动保障监察执法业务培训" in page and "确认删除" not in page and "修改</a>" not in page
    assert post(supervisor, "/training/new", _form(app)).status_code == 403
    assert post(supervisor, f"/training/{session_id}/edit", _form(app, title="x")).status_code == 403
    assert post(supervisor, f"/training/{session_id}/delete", {"confirm": "1"}).status_code == 403
    assert len(_sessions(app)) == 1 and _sessions(app)[0].title == "劳动保障监察执法业务培训"


def test_inspectors_and_the_discipline_office_are_refused(app, login_as):
    for who in ("inspector", "discipline", "admin"):
        assert login_as(who).get("/training").status_code == 403, who


def test_another_department_neither_sees_nor_changes_the_records(app, login_as):
    session_id = _create(app, login_as("staff"))
    other = login_as("staff_scj")
    assert NOT_MET in other.get("/training").text  # SCJ has held none; RSJ's session is not theirs
    assert other.get(f"/training/{session_id}").status_code == 404
    assert post(other, f"/training/{session_id}/edit", _form(app, title="x")).status_code == 404
    assert post(other, f"/training/{session_id}/delete", {"confirm": "1"}).status_code == 404
    assert len(_sessions(app)) == 1


# --- demo data -----------------------------------------------------------------------------------


def test_the_demo_adds_two_sessions_this_year_and_one_last_year_once(app):
    with app.app_context():
        today = clock.today()
        assert load_demo_training() == 3
        assert load_demo_training() == 0
        rsj = db.session.scalar(select(User.department_id).where(User.username == "staff_jc"))
        assert training_summary(rsj, today.year)["count"] == 2
        assert training_summary(rsj, today.year - 1)["count"] == 1
        assert all(s.date <= today for s in db.session.scalars(select(TrainingSession)))
        db.session.rollback()
