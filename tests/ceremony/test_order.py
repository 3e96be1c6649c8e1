"""The ceremony's order cannot be broken (SPEC §3; Art 5, 6, 9): pools before the
commitment, the commitment before any dice, enough dice from an outside witness
before the draw, one draw per attempt, and no redraw without a reason and
another person's approval."""
from __future__ import annotations

from sqlalchemy import func, select

from ssj.extensions import db
from ssj.models import AccessLogEntry, Assignment, DrawAttempt, DrawWitness, Task, TaskKey
from tests.conftest import post
from tests.factories import PASSWORD

from .conftest import (
    add_conflict,
    add_user,
    attempt_number,
    build_world,
    commit,
    draw_url,
    freeze,
    full_draw,
    run,
    text_of,
    witness,
)


def _attempts(app, task_id):
    with app.app_context():
        return [
            {
                "number": a.number,
                "state": a.state,
                "entropy": a.entropy,
                "failure": a.failure,
                "result": a.result_sealed,
                "nonce_sha256": a.nonce_sha256,
                "witnesses": len(a.witnesses),
                "void_reason": a.void_reason,
                "approved_by": a.void_approved_by.username if a.void_approved_by else None,
            }
            for a in db.session.execute(
                select(DrawAttempt).where(DrawAttempt.task_id == task_id).order_by(DrawAttempt.number)
            ).scalars()
        ]


def _status(app, task_id):
    with app.app_context():
        return db.session.get(Task, task_id).status


def _count(app, model, **where):
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return db.session.scalar(stmt)


def test_a_full_ceremony_seals_the_result_and_shows_only_public_facts(app, login_as, world):
    staff = login_as("staff")
    full_draw(staff, app, world.task_id)
    (a,) = _attempts(app, world.task_id)
    assert a["state"] == "sealed" and a["result"] and len(a["entropy"]) == 20
    assert _status(app, world.task_id) == "sealed"
    # k = ceil(12 × 34 / 100) = 5 targets, two inspectors each.
    assert _count(app, Assignment, task_id=world.task_id) == 10
    page = staff.get(draw_url(world.task_id)).text
    record = staff.get(draw_url(world.task_id, "record")).text
    for html in (page, record):
        assert a["entropy"] in html
        assert a["nonce_sha256"][:8] in html
        # Not one target name or code on the ceremony's pages.
        assert not any(name in html for name in world.targets.values())
        assert not any(code in html for code in world.targets)


def test_no_dice_before_the_commitment(app, login_as, world):
    staff = login_as("staff")
    assert freeze(staff, world.task_id).status_code == 302
    r = witness(staff, app, world.task_id, "12345678901234567890")
    assert r.status_code == 409
    assert "请先生成并公示随机数承诺" in r.text
    assert _count(app, DrawWitness) == 0
    r = run(staff, app, world.task_id)
    assert r.status_code == 409
    assert _attempts(app, world.task_id)[0]["state"] == "frozen"


def test_the_commitment_is_made_once_and_before_the_dice(app, login_as, world):
    staff = login_as("staff")
    freeze(staff, world.task_id)
    assert commit(staff, app, world.task_id).status_code == 302
    first = _attempts(app, world.task_id)[0]["nonce_sha256"]
    assert len(first) == 64
    r = commit(staff, app, world.task_id)
    assert r.status_code == 409
    assert _attempts(app, world.task_id)[0]["nonce_sha256"] == first
    with app.app_context():
        committed_seq = db.session.scalar(
            select(AccessLogEntry.seq).where(AccessLogEntry.action == "draw_committed")
        )
    witness(staff, app, world.task_id, "12345678901234567890")
    with app.app_context():
        witness_seq = db.session.scalar(
            select(AccessLogEntry.seq).where(AccessLogEntry.action == "draw_witness_added")
        )
    assert committed_seq < witness_seq


def test_fewer_than_twenty_digits_are_refused(app, login_as, world):
    staff = login_as("staff")
    freeze(staff, world.task_id)
    commit(staff, app, world.task_id)
    assert witness(staff, app, world.task_id, "1234 5678 9012 3456 789").status_code == 302  # 19 digits
    r = run(staff, app, world.task_id)
    assert r.status_code == 422
    assert "至少需要 20 位，还差 1 位" in text_of(r.text)
    a = _attempts(app, world.task_id)[0]
    assert a["state"] == "committed" and a["entropy"] is None and a["result"] is None
    assert witness(staff, app, world.task_id, "6", username="head_jc").status_code == 302
    assert run(staff, app, world.task_id).status_code == 302
    assert _attempts(app, world.task_id)[0]["entropy"] == "12345678901234567896"


def test_bad_digits_come_back_with_everything_typed_but_the_password(app, login_as, world):
    staff = login_as("staff")
    freeze(staff, world.task_id)
    commit(staff, app, world.task_id)
    r = witness(staff, app, world.task_id, "12345 6789x 12")
    assert r.status_code == 422
    assert "只能录入半角数字 0–9" in r.text and "“x”" in r.text
    assert 'value="discipline"' in r.text and "12345 6789x 12" in r.text
    assert PASSWORD not in r.text
    assert _count(app, DrawWitness) == 0


def test_no_external_witness_is_refused(app, login_as, world):
    staff = login_as("staff")
    freeze(staff, world.task_id)
    commit(staff, app, world.task_id)
    # The head of the organising section may witness, but is not from outside it.
    assert witness(staff, app, world.task_id, "12345678901234567890", username="head_jc").status_code == 302
    r = run(staff, app, world.task_id)
    assert r.status_code == 422
    assert "组织科室以外的见证人" in r.text
    assert _attempts(app, world.task_id)[0]["entropy"] is None
    # The record takes who the witness is from their account, not from anything typed.
    assert witness(staff, app, world.task_id, "1").status_code == 302
    with app.app_context():
        rows = db.session.execute(select(DrawWitness).order_by(DrawWitness.id)).scalars().all()
        assert [(w.user.username, w.affiliation, w.external, w.identified_by) for w in rows] == [
            ("head_jc", "劳动保障监察大队", False, "password"),
            ("discipline", "纪检监察室", True, "password"),
        ]
    assert run(staff, app, world.task_id).status_code == 302


def test_no_second_draw_on_an_attempt(app, login_as, world):
    staff = login_as("staff")
    full_draw(staff, app, world.task_id)
    before = _attempts(app, world.task_id)[0]
    r = run(staff, app, world.task_id)
    assert r.status_code == 409
    assert "不能再次抽取" in r.text
    assert witness(staff, app, world.task_id, "99999999999999999999").status_code == 409
    after = _attempts(app, world.task_id)[0]
    assert after["result"] == before["result"] and after["entropy"] == before["entropy"]
    assert after["witnesses"] == before["witnesses"]
    assert _count(app, Assignment, task_id=world.task_id) == 10
    # Nor may a second attempt be started beside it.
    assert freeze(staff, world.task_id).status_code == 409


def test_a_stale_page_does_not_act_on_another_attempt(app, login_as, world):
    staff = login_as("staff")
    freeze(staff, world.task_id)
    r = post(staff, draw_url(world.task_id, "commit"), {"attempt": "2"})
    assert r.status_code == 409 and "页面已过期" in r.text
    assert _attempts(app, world.task_id)[0]["state"] == "frozen"


def test_only_the_section_runs_the_ceremony(app, login_as, world):
    for who, status in (("staff_sb", 403), ("staff_scj", 404)):
        r = freeze(login_as(who), world.task_id)
        assert r.status_code == status
    assert _count(app, DrawAttempt) == 0
    # A supervisor may watch but not operate.
    sup = login_as("supervisor")
    assert sup.get(draw_url(world.task_id)).status_code == 200
    assert freeze(sup, world.task_id).status_code == 403


def test_redraw_needs_a_reason_and_a_supervisors_approval(app, login_as, world):
    staff = login_as("staff")
    full_draw(staff, app, world.task_id)
    n = str(attempt_number(app, world.task_id))
    r = post(staff, draw_url(world.task_id, "redraw"), {"attempt": n, "reason": "  "})
    assert r.status_code == 422 and "请写明为什么需要重新抽取" in r.text
    # The organizer cannot approve: the route is a supervisor's.
    r = post(staff, draw_url(world.task_id, "redraw/decide"), {"attempt": n, "decision": "approve"})
    assert r.status_code == 403
    assert post(staff, draw_url(world.task_id, "redraw"), {"attempt": n, "reason": "冻结名单时漏选了乡镇"}).status_code == 302
    a = _attempts(app, world.task_id)[0]
    assert a["state"] == "sealed" and a["void_reason"] == "冻结名单时漏选了乡镇"
    # Pending, nothing has changed yet: no new attempt may start.
    assert freeze(staff, world.task_id).status_code == 409
    sup = login_as("supervisor")
    r = post(sup, draw_url(world.task_id, "redraw/decide"), {"attempt": n, "decision": "approve"})
    assert r.status_code == 302
    (a,) = _attempts(app, world.task_id)
    assert a["state"] == "void" and a["approved_by"] == "supervisor"
    assert _count(app, Assignment, task_id=world.task_id, active=True) == 0
    assert _status(app, world.task_id) == "planned"
    full_draw(staff, app, world.task_id)
    first, second = _attempts(app, world.task_id)
    assert (first["state"], second["state"], second["number"]) == ("void", "sealed", 2)
    record = text_of(staff.get(draw_url(world.task_id, "record")).text)
    assert "第 1 次抽取：已作废" in record and "冻结名单时漏选了乡镇" in record and "批准人：supervisor" in record
    assert "第 2 次抽取：已抽取并封存" in record


def test_the_requester_cannot_approve_their_own_redraw(app, login_as, world):
    with app.app_context():
        add_user("lead_jc", ["staff", "supervisor"], "RSJ", "JCDD")
        db.session.commit()
    lead = login_as("lead_jc")
    full_draw(lead, app, world.task_id)
    n = str(attempt_number(app, world.task_id))
    assert post(lead, draw_url(world.task_id, "redraw"), {"attempt": n, "reason": "执法人员名录有误"}).status_code == 302
    r = post(lead, draw_url(world.task_id, "redraw/decide"), {"attempt": n, "decision": "approve"})
    assert r.status_code == 403
    assert "不能审批自己提出的申请" in r.text
    assert _attempts(app, world.task_id)[0]["state"] == "sealed"
    with app.app_context():
        denied = db.session.scalar(
            select(func.count()).select_from(AccessLogEntry).where(
                AccessLogEntry.username == "lead_jc", AccessLogEntry.outcome == "denied"
            )
        )
    assert denied >= 1
    r = post(login_as("supervisor"), draw_url(world.task_id, "redraw/decide"), {"attempt": n, "decision": "approve"})
    assert r.status_code == 302
    assert _attempts(app, world.task_id)[0]["state"] == "void"


def test_a_declined_redraw_leaves_the_draw_in_force(app, login_as, world):
    staff = login_as("staff")
    full_draw(staff, app, world.task_id)
    n = str(attempt_number(app, world.task_id))
    post(staff, draw_url(world.task_id, "redraw"), {"attempt": n, "reason": "想再抽一次"})
    sup = login_as("supervisor")
    r = post(sup, draw_url(world.task_id, "redraw/decide"), {"attempt": n, "decision": "decline"})
    assert r.status_code == 422 and "不同意时请写明意见" in r.text
    r = post(sup, draw_url(world.task_id, "redraw/decide"), {"attempt": n, "decision": "decline", "note": "理由不充分"})
    assert r.status_code == 302
    (a,) = _attempts(app, world.task_id)
    assert a["state"] == "sealed" and a["void_reason"] is None
    with app.app_context():
        entry = db.session.execute(
            select(AccessLogEntry).where(AccessLogEntry.action == "redraw_declined")
        ).scalar_one()
        assert "想再抽一次" in entry.body and "理由不充分" in entry.body


def test_a_public_reason_may_not_name_a_target(app, login_as, world):
    staff = login_as("staff")
    full_draw(staff, app, world.task_id)
    n = str(attempt_number(app, world.task_id))
    name = next(iter(world.targets.values()))
    code = next(iter(world.targets))
    for reason in (f"{name}已注销", f"代码 {code} 有误"):
        r = post(staff, draw_url(world.task_id, "redraw"), {"attempt": n, "reason": reason})
        assert r.status_code == 422 and "公开的抽取记录" in r.text
    assert _attempts(app, world.task_id)[0]["void_reason"] is None


def test_too_few_inspectors_stops_the_draw_before_anything_is_sealed(app, login_as):
    world = build_world(app, tag="乙")
    for code in world.targets:  # only JC01 is free for any target: no team of two
        add_conflict(app, "JC02", code)
        add_conflict(app, "JC03", code)
    staff = login_as("staff")
    freeze(staff, world.task_id)
    commit(staff, app, world.task_id)
    witness(staff, app, world.task_id, "12345678901234567890")
    r = run(staff, app, world.task_id)
    assert r.status_code == 422
    assert "无法配齐 2 名执法检查人员" in r.text and "本次结果不会封存" in r.text
    (a,) = _attempts(app, world.task_id)
    assert a["state"] == "committed" and a["result"] is None and a["failure"]
    assert a["entropy"] == "12345678901234567890"  # used, on the record, never again
    assert _count(app, Assignment) == 0
    assert not any(name in r.text for name in world.targets.values())
    r = run(staff, app, world.task_id)
    assert r.status_code == 409
    # The honest way on: a new attempt, with a reason and a supervisor's approval.
    n = str(a["number"])
    post(staff, draw_url(world.task_id, "redraw"), {"attempt": n, "reason": "执法人员不足以组成检查组，已补录人员"})
    post(login_as("supervisor"), draw_url(world.task_id, "redraw/decide"), {"attempt": n, "decision": "approve"})
    assert _status(app, world.task_id) == "planned"
    record = text_of(staff.get(draw_url(world.task_id, "record")).text)
    assert "未能完成，结果没有封存" in record and "执法人员不足以组成检查组" in record
    with app.app_context():
        assert db.session.get(TaskKey, world.task_id) is not None  # pools and nonce were sealed


def test_a_tampered_pools_blob_stops_the_draw_and_leaves_the_attempt_unclaimed(app, login_as, world):
    staff = login_as("staff")
    freeze(staff, world.task_id)
    commit(staff, app, world.task_id)
    witness(staff, app, world.task_id, "12345678901234567890")
    with app.app_context():
        a = db.session.execute(select(DrawAttempt).where(DrawAttempt.task_id == world.task_id)).scalar_one()
        blob = bytearray(a.pools_sealed)
        blob[20] ^= 0xFF
        a.pools_sealed = bytes(blob)
        db.session.commit()
    r = run(staff, app, world.task_id)
    assert r.status_code == 500 and "保密数据校验失败" in r.text
    a = _attempts(app, world.task_id)[0]
    assert a["state"] == "committed" and a["entropy"] is None and a["result"] is None
    assert _count(app, Assignment) == 0
    with app.app_context():
        assert db.session.scalar(
            select(func.count()).select_from(AccessLogEntry).where(AccessLogEntry.action == "sealed_integrity_failure")
        ) == 1
