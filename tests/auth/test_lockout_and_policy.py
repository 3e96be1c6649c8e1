"""Lockout under parallel attempts and the password policy (SPEC §4; issue 10: 60 wrong passwords on
32 threads were checked 40 times, and the right password as the 31st attempt signed in)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

import ssj.auth.service
from ssj.auth.passwords import common_passwords, hash_password, password_problem
from ssj.extensions import db
from ssj.models import AccessLogEntry, User
from tests.conftest import login, post
from tests.factories import PASSWORD


@pytest.mark.sqlite_only("threads on one real SQLite file; the PostgreSQL run covers the same path")
def test_32_parallel_wrong_passwords_check_at_most_five_and_then_the_right_one_is_refused(app, monkeypatch):
    checks = []
    real = ssj.auth.service.verify_password

    def counted(stored, password):
        checks.append(password)
        return real(stored, password)

    monkeypatch.setattr(ssj.auth.service, "verify_password", counted)
    start = threading.Barrier(32)
    statuses: list[int] = []
    lock = threading.Lock()

    # The 31st attempt carries the right password: it must not sign in once five checks are used.
    right = PASSWORD

    def attempt_with_right(n: int) -> None:
        client = app.test_client()
        client.get("/login")
        start.wait()
        r = login(client, "staff_jc", right if n == 30 else f"wrong-password-{n}")
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=attempt_with_right, args=(n,)) for n in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(statuses) == 32
    staff_checks = checks  # every check here was for staff_jc (a known user: no dummy checks)
    if right in staff_checks:
        # The right password won one of the first five reservations: its sign-in is genuine and
        # clears the count, after which at most five more wrong passwords are checked.
        first = staff_checks.index(right)
        assert first < 5, staff_checks
        assert len(staff_checks) - (first + 1) <= 5, staff_checks
    else:
        assert len(staff_checks) <= 5, staff_checks
        assert 302 not in statuses  # the right password was never even checked: nobody signed in
        with app.app_context():
            u = db.session.execute(select(User).where(User.username == "staff_jc")).scalar_one()
            assert u.locked_until is not None  # five wrong checks locked it
    with app.app_context():
        outcomes = db.session.execute(
            select(AccessLogEntry.body).where(AccessLogEntry.action == "login_failed")
        ).scalars().all()
    assert sum('"reason":"locked"' in b for b in outcomes) >= 32 - len(staff_checks)
    if right in staff_checks and len(staff_checks) - staff_checks.index(right) - 1 < 5:
        return  # fewer than five wrong passwords came after the genuine sign-in: not locked again
    # Locked: the right password now is refused without being checked.
    before = len(checks)
    r = login(app.test_client(), "staff_jc", right)
    assert r.status_code == 200 and "已被锁定" in r.text and len(checks) == before


def test_the_policy_explains_each_refusal_in_chinese():
    assert "至少需要 12 个字符" in password_problem("Short-pass1", 12)
    assert password_problem("劳动保障监察大队双随机抽查", 12) is None  # 13 Chinese characters: long enough
    assert "至少需要 12 个字符" in password_problem("劳动保障监察双随机", 12)  # 9 characters
    assert "不能包含用户名" in password_problem("my-Staff_JC-2026-pass", 12, username="staff_jc")
    assert "最常见的密码" in password_problem("1qaz2wsx3edc", 12)
    assert "最常见的密码" in password_problem("QWERTY123456", 12)
    assert "1qaz2wsx3edc" in common_passwords() and len(common_passwords()) > 20000
    current = hash_password("Current-pass-2026")
    assert "不能与当前密码相同" in password_problem("Current-pass-2026", 12, current_hash=current)
    assert password_problem("Another-pass-2026", 12, current_hash=current) is None


def test_demo_and_test_passwords_satisfy_the_policy():
    from ssj.demo import DEMO_PASSWORD

    for password in (PASSWORD, DEMO_PASSWORD):
        assert password_problem(password, 12) is None, password


def test_the_forms_refuse_a_common_password_the_username_and_the_current_one(app, login_as):
    me = login_as("staff_jc")
    form = {"old_password": PASSWORD, "new_password": PASSWORD, "new_password_again": PASSWORD}
    r = post(me, "/account/password", form)
    assert "不能与当前密码相同" in r.text
    form = {"old_password": PASSWORD, "new_password": "staff_jc-new-2026", "new_password_again": "staff_jc-new-2026"}
    assert "不能包含用户名" in post(me, "/account/password", form).text
    form = {"old_password": PASSWORD, "new_password": "qwerty123456", "new_password_again": "qwerty123456"}
    assert "最常见的密码" in post(me, "/account/password", form).text
    assert login(app.test_client(), "staff_jc", PASSWORD).status_code == 302  # unchanged
    admin = login_as("admin")
    with app.app_context():
        sb = db.session.execute(select(User.id).where(User.username == "staff_sb")).scalar_one()
    post(admin, f"/admin/users/{sb}/password", {"password": "1qaz2wsx3edc"})
    assert login(app.test_client(), "staff_sb", PASSWORD).status_code == 302  # refused, nothing changed


def test_a_right_password_after_wrong_ones_clears_the_count(app):
    for n in range(3):
        login(app.test_client(), "staff_jc", f"wrong-password-{n}")
    assert login(app.test_client(), "staff_jc", PASSWORD).status_code == 302
    for _ in range(6):  # six good sign-ins in a row never lock anyone
        assert login(app.test_client(), "staff_jc", PASSWORD).status_code == 302
    with app.app_context():
        u = db.session.execute(select(User).where(User.username == "staff_jc")).scalar_one()
        assert u.failed_logins == 0 and u.locked_until is None
