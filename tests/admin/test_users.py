"""Admin user management: role changes are logged, the admin cannot lock themselves out."""
import json

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry, User
from tests.conftest import login, post


def _user(app, username):
    with app.app_context():
        u = db.session.execute(select(User).where(User.username == username)).scalar_one()
        return {"id": u.id, "department_id": u.department_id, "section_id": u.section_id,
                "display_name": u.display_name, "roles": sorted(u.roles)}


def test_admin_creates_a_user_who_can_sign_in(app, login_as):
    admin = login_as("admin")
    staff = _user(app, "staff_jc")
    r = post(admin, "/admin/users/new", {
        "username": "li.na", "display_name": "李娜", "department_id": staff["department_id"],
        "section_id": staff["section_id"], "roles": ["staff", "inspector"], "password": "Initial-pass-9"})
    assert r.status_code == 302
    assert login(app.test_client(), "li.na", "Initial-pass-9").status_code == 302
    assert _user(app, "li.na")["roles"] == ["inspector", "staff"]


def test_bad_user_form_says_what_to_fix_and_writes_nothing(app, login_as):
    admin = login_as("admin")
    r = post(admin, "/admin/users/new", {"username": "Bad Name", "display_name": "", "password": "short"})
    assert r.status_code == 422
    assert "用户名只能包含" in r.text and "请填写姓名" in r.text and "密码至少需要" in r.text
    with app.app_context():
        assert db.session.execute(select(User).where(User.username == "bad name")).first() is None


def test_role_change_is_logged_with_before_and_after(app, login_as):
    admin = login_as("admin")
    u = _user(app, "staff_jc")
    post(admin, f"/admin/users/{u['id']}", {
        "display_name": u["display_name"], "department_id": u["department_id"],
        "section_id": u["section_id"], "roles": ["staff", "inspector"], "enabled": "on"})
    with app.app_context():
        body = db.session.execute(
            select(AccessLogEntry.body).where(AccessLogEntry.action == "role_change")
        ).scalar_one()
    objects = json.loads(body)["objects"]
    assert objects["before"] == ["staff"] and objects["after"] == ["inspector", "staff"]
    # (A role that reads sealed lists waits for a supervisor instead: tests/admin/test_grants.py.)
    assert json.loads(body)["username"] == "admin"


def test_admin_cannot_remove_their_own_admin_role(app, login_as):
    admin = login_as("admin")
    u = _user(app, "admin")
    r = post(admin, f"/admin/users/{u['id']}", {
        "display_name": "x", "department_id": u["department_id"], "roles": ["staff"], "enabled": "on"})
    assert r.status_code == 422 and "不能取消自己的系统管理员角色" in r.text
    assert _user(app, "admin")["roles"] == ["admin"]


def test_admin_adds_a_partner_department_and_section(app, login_as):
    admin = login_as("admin")
    post(admin, "/admin/departments", {"code": "YBJ", "name": "商水县医疗保障局"})
    page = admin.get("/admin/organisation").text
    assert "商水县医疗保障局" in page
