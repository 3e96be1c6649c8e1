"""Art 10: one rectification deadline, entered once in the record, tracked for re-check."""
from __future__ import annotations

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry, FollowUp
from tests.conftest import post

from .conftest import complete, recheck, recheck_form, record_url, save_record, submit


def _orders(app, task_id):
    with app.app_context():
        return [(f.deadline.isoformat() if f.deadline else None, f.closed)
                for f in db.session.execute(select(FollowUp).where(FollowUp.task_id == task_id)).scalars()]


def test_choosing_rectify_with_a_deadline_in_the_record_creates_the_tracked_order(app, login_as, drawn):
    p = drawn.own_position()
    me = login_as("inspector_jc")
    # A draft does not order anything yet.
    assert save_record(me, drawn, p, {**complete(), "action": "save"}).status_code == 302
    assert _orders(app, drawn.task_id) == []
    assert submit(me, drawn, p, rectify_deadline="2026-03-20").status_code == 302
    assert _orders(app, drawn.task_id) == [("2026-03-20", False)]
    page = me.get(record_url(drawn.task_id, p)).text
    assert "改正期限 2026-03-20" in page and "记录复查" in page
    # The form below asks for no second deadline.
    assert 'name="deadline"' not in page
    # A correction moves the same order's deadline; it does not add a second one.
    r = save_record(me, drawn, p, {**complete(rectify_deadline="2026-03-31"), "action": "correct",
                                                 "reason": "改正期限延长"})
    assert r.status_code == 302, r.text
    assert _orders(app, drawn.task_id) == [("2026-03-31", False)]
    # A correction to "no rectification" closes it, with a note; nothing is deleted.
    r = save_record(me, drawn, p, {**complete(result="未发现问题", handling="none", rectify_deadline=""),
                                                 "action": "correct", "reason": "复核后未发现问题"})
    assert r.status_code == 302, r.text
    assert _orders(app, drawn.task_id) == [("2026-03-31", True)]
    assert "不再跟踪" in me.get(record_url(drawn.task_id, p)).text
    with app.app_context():
        actions = db.session.execute(select(AccessLogEntry.action).where(
            AccessLogEntry.action.in_(("followup_add", "followup_update")))).scalars().all()
    assert actions == ["followup_add", "followup_update", "followup_update"]


def test_a_rechecked_order_is_not_reopened_by_a_later_correction(app, login_as, drawn):
    p = drawn.own_position()
    me = login_as("inspector_jc")
    submit(me, drawn, p, rectify_deadline="2026-03-20")
    with app.app_context():
        fid = db.session.execute(select(FollowUp.id)).scalar_one()
    assert recheck(me, drawn, p, fid, recheck_date="2026-03-21", recheck_outcome="已补发到位").status_code == 302
    save_record(me, drawn, p, {**complete(rectify_deadline="2026-04-30"), "action": "correct",
                                             "reason": "笔误"})
    assert _orders(app, drawn.task_id) == [("2026-03-20", True)]


# --- two people re-checking one order (issue #13) ----------------------------------------------


def _order_value(app, task_id: int) -> dict:
    from ssj.inspections.followup import followup_record_id
    from ssj.sealing.service import open_json

    with app.app_context():
        row = db.session.execute(select(FollowUp).where(FollowUp.task_id == task_id)).scalar_one()
        return open_json(task_id, "followup", followup_record_id(row), row.sealed)


def _log(app, outcome: str | None = None, action: str | None = None) -> list[tuple[str, dict]]:
    import json

    stmt = select(AccessLogEntry.action, AccessLogEntry.body).order_by(AccessLogEntry.id)
    if outcome:
        stmt = stmt.where(AccessLogEntry.outcome == outcome)
    if action:
        stmt = stmt.where(AccessLogEntry.action == action)
    with app.app_context():
        return [(a, json.loads(b)) for a, b in db.session.execute(stmt).all()]


def _ordered(app, login_as, drawn):
    p = drawn.own_position()
    me, mate = login_as("inspector_jc"), login_as(next(u for u in drawn.team_of[p] if u != "inspector_jc"))
    assert submit(me, drawn, p, rectify_deadline="2026-03-20").status_code == 302
    with app.app_context():
        fid = db.session.execute(select(FollowUp.id)).scalar_one()
    return p, me, mate, fid


def test_a_recheck_over_a_teammates_recheck_is_refused_showing_what_changed(app, login_as, drawn):
    p, me, mate, fid = _ordered(app, login_as, drawn)
    stale = recheck_form(me, drawn, p, fid)  # both open the record page with the order still open
    assert recheck(mate, drawn, p, fid, recheck_date="2026-03-21", recheck_outcome="同事复查：已补发到位").status_code == 302
    reads_before = len(_log(app, action="sealed_read:followup"))
    r = post(me, record_url(drawn.task_id, p, f"followups/{fid}/recheck"),
             {**stale, "recheck_date": "2026-03-22", "recheck_outcome": "我的复查：仍未改正"})
    assert r.status_code == 409
    assert "别人已经记录了这项责令改正的复查" in r.text and "别人已经保存了新的内容" in r.text
    box = r.text[r.text.index('id="followup-'):]
    # the what-changed table: label, what is saved now, what I typed (kept on the page)
    for part in ("复查结果", "同事复查：已补发到位", "我的复查：仍未改正", "复查日期", "2026-03-21", "2026-03-22", "已复查"):
        assert part in box, part
    # nothing of the refused re-check was written
    value = _order_value(app, drawn.task_id)
    assert (value["recheck_date"], value["recheck_outcome"]) == ("2026-03-21", "同事复查：已补发到位")
    refused = _log(app, outcome="refused")
    assert [(a, b["reason"]) for a, b in refused] == [("refused:inspections.followup_recheck", "stale_version")]
    # the page shown with the box read the order through the same logged read as the record page
    assert len(_log(app, action="sealed_read:followup")) > reads_before
    # the re-check stands: the order is closed, and a later post of its current version is refused too
    r = post(me, record_url(drawn.task_id, p, f"followups/{fid}/recheck"),
             {"row_version": stale["row_version"], "recheck_date": "2026-03-22", "recheck_outcome": "再试"})
    assert r.status_code == 409
    with app.app_context():
        current = db.session.get(FollowUp, fid).row_version
    r = post(me, record_url(drawn.task_id, p, f"followups/{fid}/recheck"),
             {"row_version": str(current), "recheck_date": "2026-03-22", "recheck_outcome": "覆盖同事的复查"})
    assert r.status_code == 409 and "已经复查" in r.text
    assert _order_value(app, drawn.task_id)["recheck_outcome"] == "同事复查：已补发到位"
    assert [b["reason"] for _, b in _log(app, outcome="refused")] == ["stale_version", "stale_version",
                                                                       "followup_closed"]


def test_a_recheck_after_a_correction_moved_the_deadline_is_refused_keeping_the_input(app, login_as, drawn):
    p, me, mate, fid = _ordered(app, login_as, drawn)
    stale = recheck_form(me, drawn, p, fid)
    assert stale["seen_deadline"] == "2026-03-20"
    r = save_record(mate, drawn, p, {**complete(rectify_deadline="2026-03-31"), "action": "correct",
                                     "reason": "改正期限延长"})
    assert r.status_code == 302, r.text
    r = post(me, record_url(drawn.task_id, p, f"followups/{fid}/recheck"),
             {**stale, "recheck_date": "2026-03-25", "recheck_outcome": "已按期改正"})
    assert r.status_code == 409
    box = r.text[r.text.index(f'id="followup-{fid}"'):]
    assert "改正期限" in box and "2026-03-31" in box and "2026-03-20" in box and "待复查" in box
    # the order is still open: its form is shown again with what I typed, at the new version
    assert 'value="已按期改正"' in box and 'value="2026-03-25"' in box
    assert _order_value(app, drawn.task_id)["recheck_outcome"] == ""
    assert [b["reason"] for _, b in _log(app, outcome="refused")] == ["stale_version"]
    # having seen the new deadline, the same re-check sent from the page as shown now goes through
    assert recheck(me, drawn, p, fid, recheck_date="2026-03-25", recheck_outcome="已按期改正").status_code == 302
    assert _order_value(app, drawn.task_id)["recheck_outcome"] == "已按期改正"


def test_a_recheck_refused_for_bad_input_keeps_what_was_typed(app, login_as, drawn):
    p, me, _mate, fid = _ordered(app, login_as, drawn)
    r = recheck(me, drawn, p, fid, recheck_date="2026-03-25", recheck_outcome="")
    assert r.status_code == 422 and "请填写复查结果" in r.text and 'value="2026-03-25"' in r.text


# --- the record form keeps what was typed when a photo goes with it (SPEC §9) ----------------

PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + "现场照片-随记录保存".encode() * 40


def test_a_photo_attached_to_the_record_is_saved_with_it(app, login_as, drawn):
    import io

    p = drawn.own_position()
    me = login_as("inspector_jc")
    r = save_record(me, drawn, p, {**complete(findings="未按月足额支付工资"), "action": "save",
                                   "evidence": (io.BytesIO(PHOTO), "门头.png"), "evidence_note": "单位门头"})
    assert r.status_code == 302, r.text
    page = me.get(record_url(drawn.task_id, p)).text
    assert "门头.png" in page and "未按月足额支付工资" in page
    # A file the record cannot take refuses the whole save and keeps every typed field.
    r = save_record(me, drawn, p, {**complete(findings="改过的问题描述"), "action": "save",
                                   "evidence": (io.BytesIO(b"MZ\x90\x00not a photo"), "病毒.exe")})
    assert r.status_code == 422 and "不支持“病毒.exe”这种文件类型" in r.text and "所选的证据文件也请重新选择" in r.text
    assert "改过的问题描述" in r.text
