"""An administrator cannot alone give sealed access (SPEC §4 "Granting sealed access"; issue 10):
an account that could read sealed lists, a role or section that gives it, and a password reset of
such an account take effect only when a supervisor other than the grantee and the requester approves."""
from __future__ import annotations

import re

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessGrant, User
from tests.ceremony.conftest import build_world, full_draw
from tests.conftest import login, post
from tests.factories import PASSWORD

NEW_PASSWORD = "Leader-new-pass-2026"


def _user(app, username):
    with app.app_context():
        u = db.session.execute(select(User).where(User.username == username)).scalar_one()
        return {"id": u.id, "department_id": u.department_id, "section_id": u.section_id,
                "display_name": u.display_name, "roles": sorted(u.roles), "enabled": u.enabled}


def _grant_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.execute(select(AccessGrant.id).where(AccessGrant.state == "pending")).scalars())


def _decide(client, grant_id: int, decision: str = "approve"):
    return post(client, f"/oversight/grants/{grant_id}/decide", {"decision": decision})


def test_an_admin_created_supervisor_is_inactive_until_another_supervisor_approves(app, login_as):
    admin = login_as("admin")
    rsj = _user(app, "supervisor")["department_id"]
    r = post(admin, "/admin/users/new", {"username": "new.boss", "display_name": "新领导", "department_id": rsj,
                                          "roles": ["supervisor"], "password": "Brand-new-boss-77"})
    assert r.status_code == 302
    assert _user(app, "new.boss")["enabled"] is False
    assert login(app.test_client(), "new.boss", "Brand-new-boss-77").status_code != 302  # cannot sign in
    (grant_id,) = _grant_ids(app)
    leader_page = login_as("supervisor").get("/oversight/leadership").text
    assert "新领导" in leader_page and "局领导" in leader_page

    # The grantee cannot approve (they cannot even sign in); an admin who is also a supervisor cannot
    # approve their own request; a supervisor of another department does not see it.
    with app.app_context():
        from tests.ceremony.conftest import add_user

        add_user("admin_boss", ["admin", "supervisor"], "RSJ", None)
        add_user("boss_scj", ["supervisor"], "SCJ", None)
        db.session.commit()
    admin_boss = login_as("admin_boss")
    r = post(admin_boss, "/admin/users/new", {"username": "second.boss", "display_name": "二号领导",
                                               "department_id": rsj, "roles": ["supervisor"],
                                               "password": "Second-boss-pass-88"})
    own = max(_grant_ids(app))
    assert _decide(admin_boss, own).status_code == 303
    assert own in _grant_ids(app) and _user(app, "second.boss")["enabled"] is False
    assert _decide(login_as("boss_scj"), grant_id).status_code == 404

    assert _decide(login_as("supervisor"), grant_id).status_code == 303
    assert _user(app, "new.boss")["enabled"] is True
    assert login(app.test_client(), "new.boss", "Brand-new-boss-77").status_code == 302


def test_adding_section_head_waits_and_the_account_keeps_what_it_had(app, login_as):
    admin = login_as("admin")
    u = _user(app, "staff_sb")
    r = post(admin, f"/admin/users/{u['id']}", {
        "display_name": "社保股小王", "department_id": u["department_id"], "section_id": u["section_id"],
        "roles": ["staff", "section_head"], "enabled": "on"})
    assert r.status_code == 302
    after = _user(app, "staff_sb")
    assert after["roles"] == ["staff"] and after["display_name"] == "社保股小王"  # the harmless part applies
    page = admin.get(f"/admin/users/{u['id']}").text
    assert "待局领导审批" in page
    (grant_id,) = _grant_ids(app)
    assert _decide(login_as("supervisor"), grant_id, "decline").status_code == 303
    assert _user(app, "staff_sb")["roles"] == ["staff"]


def test_staff_of_a_section_with_a_sealed_task_is_a_grant_too(app, login_as):
    world = build_world(app)
    full_draw(login_as("staff_jc"), app, world.task_id)  # JCDD now has a sealed list
    admin = login_as("admin")
    jc = _user(app, "staff_jc")
    r = post(admin, "/admin/users/new", {"username": "jc.new", "display_name": "大队新人",
                                          "department_id": jc["department_id"], "section_id": jc["section_id"],
                                          "roles": ["staff"], "password": "Dadui-newcomer-99"})
    assert r.status_code == 302 and _user(app, "jc.new")["enabled"] is False
    sb = _user(app, "staff_sb")  # a section without sealed tasks: no approval needed... unless the 大队 organises
    r = post(admin, "/admin/users/new", {"username": "inspector.only", "display_name": "检查员",
                                          "department_id": jc["department_id"], "section_id": sb["section_id"],
                                          "roles": ["inspector"], "password": "Inspector-only-99"})
    assert _user(app, "inspector.only")["enabled"] is True  # an inspector sees only their own assignments


def test_resetting_the_leaders_password_waits_for_another_supervisor(app, login_as):
    admin = login_as("admin")
    boss = _user(app, "supervisor")
    r = post(admin, f"/admin/users/{boss['id']}/password", {"password": NEW_PASSWORD})
    assert r.status_code == 302
    assert login(app.test_client(), "supervisor", NEW_PASSWORD).status_code != 302  # not yet
    assert login(app.test_client(), "supervisor", PASSWORD).status_code == 302  # the leader's own still works
    (grant_id,) = _grant_ids(app)
    # The leader is the grantee: they cannot approve a reset of their own password.
    r = _decide(login_as("supervisor"), grant_id)
    assert r.status_code == 303 and grant_id in _grant_ids(app)
    with app.app_context():
        from tests.ceremony.conftest import add_user

        add_user("deputy", ["supervisor"], "RSJ", None)
        db.session.commit()
    assert _decide(login_as("deputy"), grant_id).status_code == 303
    assert login(app.test_client(), "supervisor", NEW_PASSWORD).status_code == 302
    with app.app_context():
        hashes = db.session.execute(select(AccessGrant.password_hash)).scalars().all()
    assert hashes == [None]  # the hash lives on in the account only


def test_an_ordinary_reset_and_account_still_take_effect_at_once(app, login_as):
    admin = login_as("admin")
    u = _user(app, "staff_sb")
    r = post(admin, f"/admin/users/{u['id']}/password", {"password": "Ordinary-reset-55"})
    assert r.status_code == 302
    assert login(app.test_client(), "staff_sb", "Ordinary-reset-55").status_code == 302
    assert _grant_ids(app) == []
    assert re.search("已为 staff_sb 设置新密码", admin.get(f"/admin/users/{u['id']}").text)
