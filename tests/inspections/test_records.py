"""Inspection records (SPEC §7; Art 8, 9): only the position's team writes; drafts change,
submissions change only by a correction with a reason that keeps the old version; the
organizer, head and supervisor read, everyone else is refused."""
from __future__ import annotations

import json

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry, InspectionRecord
from tests.ceremony.conftest import text_of
from tests.conftest import post

from .conftest import ITEMS, complete, loaded_version, record_url, save_record, submit, task_status


def _row(app, task_id, position):
    with app.app_context():
        return db.session.execute(
            select(InspectionRecord.state, InspectionRecord.version)
            .where(InspectionRecord.task_id == task_id, InspectionRecord.position == position)
        ).first()


def test_a_team_member_drafts_edits_submits_and_corrects_keeping_history(app, login_as, drawn):
    p = drawn.own_position()
    me = login_as("inspector_jc")
    assert task_status(app, drawn.task_id) == "sealed"
    r = save_record(me, drawn, p, {"action": "save", "findings": "初稿：待核实", "items": ITEMS[:1]})
    assert r.status_code == 302
    assert task_status(app, drawn.task_id) == "inspecting"
    page = me.get(record_url(drawn.task_id, p)).text
    assert "初稿：待核实" in page and drawn.name_of(p) in page
    assert r.status_code == 302 and save_record(me, drawn, p, {"action": "save", "findings": "改过的草稿"}).status_code == 302
    assert "改过的草稿" in me.get(record_url(drawn.task_id, p)).text
    assert _row(app, drawn.task_id, p) == ("draft", 1)

    assert submit(me, drawn, p, findings="第一版结论").status_code == 302
    assert _row(app, drawn.task_id, p) == ("submitted", 1)

    # a submitted record cannot be overwritten as a draft
    r = save_record(me, drawn, p, {**complete(findings="偷偷改"), "action": "save"})
    assert r.status_code == 409 and "更正" in r.text
    # a correction needs a reason, and nothing typed is lost
    r = save_record(me, drawn, p, {**complete(findings="第二版结论"), "action": "correct"})
    assert r.status_code == 422 and "请写明更正原因" in r.text and "第二版结论" in r.text
    assert _row(app, drawn.task_id, p) == ("submitted", 1)
    r = save_record(me, drawn, p, {**complete(findings="第二版结论"), "action": "correct", "reason": "笔录中检查日期填错"})
    assert r.status_code == 302
    assert _row(app, drawn.task_id, p) == ("submitted", 2)

    for who in ("inspector_jc", "staff_jc", "head_jc", "supervisor"):
        page = text_of(login_as(who).get(record_url(drawn.task_id, p)).text)
        assert "第二版结论" in page and "历史版本" in page and "第一版结论" in page, who
        assert "笔录中检查日期填错" in page


def test_submission_must_be_whole_and_says_what_to_fix(app, login_as, drawn):
    p = drawn.own_position()
    me = login_as("inspector_jc")
    r = submit(me, drawn, p, onsite_record="", result="", handling="penalty", decision_no="", items=[])
    assert r.status_code == 422
    assert "现场检查须填写现场检查笔录" in r.text and "请选择检查结果" in r.text
    assert "行政处罚须填写处罚决定书文号" in r.text and "请至少勾选一项检查内容" in r.text
    assert "未按月足额支付3名职工工资" in r.text  # what was typed stays in the form
    assert _row(app, drawn.task_id, p) is None
    assert task_status(app, drawn.task_id) == "sealed"


def test_only_the_positions_team_writes(app, login_as, drawn):
    other = drawn.foreign_position()
    for who in ("inspector_jc", "admin", "discipline", "staff_jc", "head_jc", "supervisor", "inspector_scj"):
        r = submit(login_as(who), drawn, other)
        assert r.status_code in (403, 404), (who, r.status_code)
    assert _row(app, drawn.task_id, other) is None
    assert submit(login_as(drawn.member(other)), drawn, other).status_code == 302


def test_readers_are_the_team_and_need_to_know_and_each_read_is_logged(app, login_as, drawn):
    p = drawn.own_position()
    submit(login_as("inspector_jc"), drawn, p)
    other = drawn.foreign_position()
    assert login_as("inspector_jc").get(record_url(drawn.task_id, other)).status_code == 403
    for who in ("admin", "discipline", "staff_sb", "inspector_scj"):
        r = login_as(who).get(record_url(drawn.task_id, p))
        assert r.status_code in (403, 404), who
        assert drawn.name_of(p) not in r.text
    r = login_as("supervisor").get(record_url(drawn.task_id, p))
    assert r.status_code == 200 and drawn.name_of(p) in r.text
    assert r.headers["Cache-Control"].startswith("no-store")
    with app.app_context():
        bodies = [json.loads(e.body) for e in db.session.execute(
            select(AccessLogEntry).where(AccessLogEntry.action == "sealed_read:record", AccessLogEntry.username == "supervisor")
        ).scalars()]
    assert bodies and all(drawn.code_of[p] not in json.dumps(b, ensure_ascii=False) for b in bodies)
    assert any(b["objects"]["positions"] == [p] and b["objects"]["target_refs"] for b in bodies)


def test_task_page_lists_records_for_the_organizer(app, login_as, drawn):
    p = drawn.own_position()
    submit(login_as("inspector_jc"), drawn, p)
    page = login_as("staff_jc").get(f"/tasks/{drawn.task_id}/inspections").text
    assert drawn.name_of(p) in page and "已提交" in page and "未开始" in page
    assert login_as("staff_sb").get(f"/tasks/{drawn.task_id}/inspections").status_code == 403


def test_a_tampered_record_shows_nothing_and_is_logged_as_an_integrity_failure(app, login_as, drawn):
    p = drawn.own_position()
    me = login_as("inspector_jc")
    assert submit(me, drawn, p, findings="篡改前的发现-3c9d").status_code == 302
    with app.app_context():
        row = db.session.execute(select(InspectionRecord).where(InspectionRecord.task_id == drawn.task_id,
                                                                InspectionRecord.position == p)).scalar_one()
        blob = bytearray(row.sealed)
        blob[-1] ^= 1
        row.sealed = bytes(blob)
        db.session.commit()
    r = me.get(record_url(drawn.task_id, p))
    assert r.status_code == 500 and "保密数据校验失败" in r.text
    assert "篡改前的发现" not in r.text and drawn.name_of(p) not in r.text
    with app.app_context():
        failures = db.session.execute(
            select(AccessLogEntry).where(AccessLogEntry.action == "sealed_integrity_failure")
        ).scalars().all()
    assert len(failures) == 1 and failures[0].task_id == drawn.task_id


def _refusals(app, reason: str) -> list:
    from ssj.models import AccessLogEntry

    with app.app_context():
        return db.session.execute(
            select(AccessLogEntry.action).where(AccessLogEntry.outcome == "refused", AccessLogEntry.body.contains(reason))
        ).scalars().all()


def test_a_draft_saved_over_a_teammates_newer_save_is_refused_showing_what_changed(app, login_as, drawn):
    p = drawn.own_position()
    me, mate = login_as("inspector_jc"), login_as(next(u for u in drawn.team_of[p] if u != "inspector_jc"))
    url = record_url(drawn.task_id, p)
    assert save_record(me, drawn, p, {"action": "save", "findings": "初稿"}).status_code == 302
    stale = loaded_version(me, url)  # both open the draft at the same version
    assert save_record(mate, drawn, p, {"action": "save", "findings": "同事补充的发现"}).status_code == 302
    r = post(me, url, {"row_version": stale, "action": "save", "findings": "我的修改"})
    assert r.status_code == 409
    assert "别人已经保存了新的内容" in r.text
    assert "同事补充的发现" in r.text and "我的修改" in r.text  # theirs shown, mine kept in the form
    page = me.get(url).text
    assert "同事补充的发现" in page and "我的修改" not in page  # nothing of the refused save was written
    assert _refusals(app, "stale_version") == ["refused:inspections.record"]


def test_a_draft_save_after_a_teammates_submission_does_not_overwrite_it(app, login_as, drawn):
    p = drawn.own_position()
    me, mate = login_as("inspector_jc"), login_as(next(u for u in drawn.team_of[p] if u != "inspector_jc"))
    url = record_url(drawn.task_id, p)
    assert save_record(me, drawn, p, {"action": "save", "findings": "初稿"}).status_code == 302
    stale = loaded_version(me, url)
    assert submit(mate, drawn, p, findings="提交的结论").status_code == 302
    r = post(me, url, {"row_version": stale, "action": "save", "findings": "半截草稿"})
    assert r.status_code == 409 and "半截草稿" in r.text
    assert _row(app, drawn.task_id, p) == ("submitted", 1)
    assert "提交的结论" in me.get(url).text
    # two first saves: the second form was loaded before any record existed
    other = next(q for q in drawn.team_of if q != p and "inspector_jc" in drawn.team_of[q])
    assert save_record(me, drawn, other, {"action": "save", "findings": "甲"}).status_code == 302
    r = post(me, record_url(drawn.task_id, other), {"row_version": "", "action": "save", "findings": "乙"})
    assert r.status_code == 409 and "乙" in r.text
