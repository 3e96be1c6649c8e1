"""Witnesses enter their own digits, identified as themselves (SPEC §3 step 3; Art 5, 9):
in their own session or by re-entering their password on the ceremony screen. The
organiser cannot type digits for anyone and is not a witness; each refusal is logged;
a wrong password counts towards the witness's lockout like a failed sign-in."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry, DrawWitness
from tests.conftest import login, post

from .conftest import attempt_number, commit, draw_url, freeze, own_witness, run, text_of, user, witness


def _witnesses(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(select(DrawWitness).order_by(DrawWitness.id)).scalars().all()
        return [(w.user.username, w.name, w.affiliation, w.external, w.identified_by, w.entered_by_id, w.digits)
                for w in rows]


def _refusals(app) -> list[dict]:
    with app.app_context():
        return [
            json.loads(b)
            for b in db.session.execute(
                select(AccessLogEntry.body).where(AccessLogEntry.action == "draw_witness_refused").order_by(AccessLogEntry.seq)
            ).scalars()
        ]


def _committed(app, login_as, world):
    staff = login_as("staff")
    for r in (freeze(staff, world.task_id), commit(staff, app, world.task_id)):
        assert r.status_code == 302
    return staff


def test_the_organiser_cannot_type_a_witnesss_digits(app, login_as, world):
    staff = _committed(app, login_as, world)
    n = str(attempt_number(app, world.task_id))
    # The v1 form: a name, a section and dice typed by the organiser.
    r = post(staff, draw_url(world.task_id, "witnesses"),
             {"attempt": n, "name": "李见证", "affiliation": "纪检监察室", "external": "on", "digits": "1" * 20})
    assert r.status_code == 403 and "组织人不能替见证人录入点数" in text_of(r.text)
    # Nor as a witness themself, with their own valid password.
    r = witness(staff, app, world.task_id, "2" * 20, username="staff_jc")
    assert r.status_code == 403 and "不能作为见证人" in text_of(r.text)
    # Nor on the witness's own page of their own session.
    r = own_witness(staff, app, world.task_id, "3" * 20)
    assert r.status_code == 403
    assert _witnesses(app) == []
    refusals = _refusals(app)
    assert [(e["reason"], e["username"], e["outcome"]) for e in refusals] == [
        ("typed_by_organiser", "staff_jc", "denied"),
        ("organiser", "staff_jc", "denied"),
        ("organiser", "staff_jc", "denied"),
    ]
    assert all(e["objects"]["attempt"] == 1 and e["task_id"] == world.task_id for e in refusals)
    assert run(staff, app, world.task_id).status_code == 422


def test_a_wrong_password_is_refused_logged_and_counts_towards_the_lockout(app, login_as, world):
    staff = _committed(app, login_as, world)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        r = witness(staff, app, world.task_id, "1" * 20, password="not-the-password-1")
        assert r.status_code == 403
        assert "见证人身份确认失败" in text_of(r.text)
        assert "not-the-password-1" not in r.text
    assert _witnesses(app) == []
    assert [e["objects"]["witness_username"] for e in _refusals(app)] == ["discipline"] * 5
    with app.app_context():
        assert user("discipline").locked_until is not None
    # Locked: now even the right password is refused, on the screen and at sign-in.
    r = witness(staff, app, world.task_id, "1" * 20)
    assert r.status_code == 403 and "锁定" in text_of(r.text)
    assert login(app.test_client(), "discipline").status_code != 302
    assert _witnesses(app) == []


def test_a_witness_enters_digits_in_their_own_session_and_the_record_says_who_and_when(app, login_as, world):
    staff = _committed(app, login_as, world)
    jj = login_as("discipline")
    page = jj.get(draw_url(world.task_id, "witness"))
    assert page.status_code == 200 and "我掷骰得到的数字" in page.text
    assert own_witness(jj, app, world.task_id, "3516 2441 65").status_code == 302
    assert witness(staff, app, world.task_id, "6543216543", username="head_jc").status_code == 302
    with app.app_context():
        jj_id, staff_id = user("discipline").id, user("staff_jc").id
    assert _witnesses(app) == [
        ("discipline", "discipline", "纪检监察室", True, "session", jj_id, "3516244165"),
        ("head_jc", "head_jc", "劳动保障监察大队", False, "password", staff_id, "6543216543"),
    ]
    # Once only.
    r = own_witness(jj, app, world.task_id, "1")
    assert r.status_code == 403 and "已经录入过" in text_of(r.text)
    assert run(staff, app, world.task_id).status_code == 302
    record = text_of(staff.get(draw_url(world.task_id, "record")).text)
    when = r" \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
    assert re.search("discipline（discipline） 纪检监察室 是 3516244165 本人登录后录入" + when, record)
    assert re.search("head_jc（head_jc） 劳动保障监察大队 否 6543216543 在摇号现场输入本人密码确认" + when, record)


def test_the_witness_page_exists_only_for_the_tasks_department(app, login_as, world):
    _committed(app, login_as, world)
    assert login_as("staff_scj").get(draw_url(world.task_id, "witness")).status_code == 404
    # Another department's user may still witness, on the ceremony screen with their password.
    staff = login_as("staff")
    assert witness(staff, app, world.task_id, "1" * 20, username="staff_scj").status_code == 302
    assert _witnesses(app)[0][2:5] == ("执法稽查科", True, "password")


def test_digits_before_the_commitment_are_refused(app, login_as, world):
    staff = login_as("staff")
    freeze(staff, world.task_id)
    jj = login_as("discipline")
    assert "随机数承诺" in text_of(jj.get(draw_url(world.task_id, "witness")).text)
    assert own_witness(jj, app, world.task_id, "1" * 20).status_code == 409
    assert witness(staff, app, world.task_id, "1" * 20).status_code == 409
    assert _witnesses(app) == []
