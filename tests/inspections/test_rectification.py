"""Art 10: one rectification deadline, entered once in the record, tracked for re-check."""
from __future__ import annotations

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry, FollowUp
from tests.conftest import post

from .conftest import complete, record_url, save_record, submit


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
    assert post(me, record_url(drawn.task_id, p, f"followups/{fid}/recheck"),
                {"recheck_date": "2026-03-21", "recheck_outcome": "已补发到位"}).status_code == 302
    save_record(me, drawn, p, {**complete(rectify_deadline="2026-04-30"), "action": "correct",
                                             "reason": "笔误"})
    assert _orders(app, drawn.task_id) == [("2026-03-20", True)]


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
