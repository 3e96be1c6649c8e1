"""Accounts and sessions (SPEC §1): lockout, timeouts, revocation, CSRF, headers."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from ssj.extensions import db
from ssj.models import AccessLogEntry, User, UserSession
from tests.conftest import csrf_of, htmx_post, login, post
from tests.factories import PASSWORD


def _log_actions(app, username=None):
    with app.app_context():
        stmt = select(AccessLogEntry.action, AccessLogEntry.outcome).order_by(AccessLogEntry.seq)
        if username:
            stmt = stmt.where(AccessLogEntry.username == username)
        return db.session.execute(stmt).all()


def test_five_failed_logins_lock_the_account_even_for_the_right_password(app, client):
    for _ in range(4):
        assert "用户名或密码错误" in login(client, "staff_jc", "wrong-password").text
    fifth = login(client, "staff_jc", "wrong-password")
    assert "已被锁定" in fifth.text
    locked = login(client, "staff_jc", PASSWORD)
    assert locked.status_code == 200 and "锁定" in locked.text
    assert client.get("/todo").status_code == 302  # still not signed in
    actions = _log_actions(app, "staff_jc")
    assert actions.count(("login_failed", "denied")) == 6
    assert ("account_locked", "denied") in actions


def test_lockout_expires(app, client):
    for _ in range(5):
        login(client, "staff_jc", "wrong-password")
    with app.app_context():
        db.session.execute(
            update(User).where(User.username == "staff_jc")
            .values(locked_until=datetime.now(timezone.utc) - timedelta(seconds=1))
        )
        db.session.commit()
    assert login(client, "staff_jc").status_code == 302


def test_admin_unlocks_a_locked_account(app, client, login_as):
    for _ in range(5):
        login(client, "staff_jc", "wrong-password")
    admin = login_as("admin")
    with app.app_context():
        uid = db.session.execute(select(User.id).where(User.username == "staff_jc")).scalar_one()
    assert post(admin, f"/admin/users/{uid}/unlock").status_code == 302
    assert login(client, "staff_jc").status_code == 302


def _age_sessions(app, username, **fields):
    with app.app_context():
        uid = db.session.execute(select(User.id).where(User.username == username)).scalar_one()
        db.session.execute(update(UserSession).where(UserSession.user_id == uid).values(**fields))
        db.session.commit()


def test_idle_timeout_after_30_minutes(app, login_as):
    c = login_as("staff")
    assert c.get("/todo").status_code == 200
    _age_sessions(app, "staff_jc", last_seen_at=datetime.now(timezone.utc) - timedelta(minutes=31))
    r = c.get("/todo")
    assert r.status_code == 302 and "/login" in r.location
    assert "30分钟未操作" in c.get(r.location).text


def test_activity_keeps_the_session_alive(app, login_as):
    c = login_as("staff")
    _age_sessions(app, "staff_jc", last_seen_at=datetime.now(timezone.utc) - timedelta(minutes=29))
    assert c.get("/todo").status_code == 200
    assert c.get("/todo").status_code == 200


def test_absolute_timeout_after_8_hours_even_when_active(app, login_as):
    c = login_as("staff")
    _age_sessions(app, "staff_jc", created_at=datetime.now(timezone.utc) - timedelta(hours=8, minutes=1))
    r = c.get("/todo")
    assert r.status_code == 302 and "/login" in r.location


def test_password_change_ends_the_other_sessions(app, login_as):
    laptop = login_as("staff")
    phone = login_as("staff")
    r = post(laptop, "/account/password", {
        "old_password": PASSWORD, "new_password": "New-password-2", "new_password_again": "New-password-2"})
    assert r.status_code == 302
    assert laptop.get("/todo").status_code == 200
    assert phone.get("/todo").status_code == 302


def test_disabling_a_user_ends_their_sessions(app, login_as):
    staff = login_as("staff")
    admin = login_as("admin")
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == "staff_jc")).scalar_one()
        form = {"display_name": user.display_name, "department_id": user.department_id,
                "section_id": user.section_id, "roles": ["staff"]}  # "enabled" unticked
    assert post(admin, f"/admin/users/{user.id}", form).status_code == 302
    assert staff.get("/todo").status_code == 302
    assert "已停用" in login(staff.application.test_client(), "staff_jc").text


def test_session_is_regenerated_at_login(app, client):
    before = csrf_of(client)
    with client.session_transaction() as s:
        s["planted"] = "by-an-attacker"
    login(client, "staff_jc")
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["csrf_token"] != before


def test_logout_is_post_only_and_ends_the_session(app, login_as):
    c = login_as("staff")
    assert c.get("/logout").status_code == 405
    assert c.get("/todo").status_code == 200
    assert post(c, "/logout").status_code == 302
    assert c.get("/todo").status_code == 302


def test_form_post_without_csrf_token_is_refused_and_changes_nothing(app, login_as):
    c = login_as("staff")
    r = c.post("/account/password", data={
        "old_password": PASSWORD, "new_password": "New-password-2", "new_password_again": "New-password-2"})
    assert r.status_code == 400 and "防伪令牌" in r.text
    assert login(app.test_client(), "staff_jc", PASSWORD).status_code == 302
    assert ("change:auth.change_password", "denied") in _log_actions(app, "staff_jc")


def test_htmx_post_needs_the_header_token(app, login_as):
    c = login_as("staff")
    bad = c.post("/logout", headers={"HX-Request": "true", "X-CSRF-Token": "forged"})
    assert bad.status_code == 400
    assert c.get("/todo").status_code == 200  # still signed in: the logout did not happen
    good = htmx_post(c, "/logout")
    assert good.status_code == 302
    assert c.get("/todo").status_code == 302


def test_security_headers_and_strict_csp(client):
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-store"
    assert "<script>" not in r.text and " onclick=" not in r.text


def test_open_redirect_after_login_is_refused(client):
    token = csrf_of(client)
    r = client.post("/login", data={"username": "staff_jc", "password": PASSWORD,
                                    "csrf_token": token, "next": "//evil.example/"})
    assert r.location.endswith("/todo")
