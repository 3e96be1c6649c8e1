"""Anomalies planted through the app's own routes show up as flags on the console (SPEC §5).

People sign in and do the thing — refused pages, exports, a redraw, an
admin's role change, a key rotation — and the discipline office's flags
page names it and links to the entries behind it. A clean day of
ordinary work raises nothing.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint
from sqlalchemy import select

from ssj.extensions import db
from ssj.models import Department, Target, Task, User
from ssj.oversight import flags
from ssj.security import access
from ssj.workdays import Calendar
from tests.ceremony.conftest import attempt_number, credit_code
from tests.conftest import login, post
from tests.exports.support import export_directory

from .conftest import flagged, log_rows, seqs

KINDS = set(flags.KIND_BY_CODE)


def _hits_with(found, kind: str, seq: int) -> list[str]:
    """The texts of the hits of `kind` that link to entry `seq`."""
    return [text for text, linked in found[kind] if seq in linked]


def test_a_clean_day_of_ordinary_work_raises_nothing(app, login_as, drawn, office):
    staff = login_as("staff_jc")
    for url in ("/todo", f"/tasks/{drawn.task_id}/list", "/targets", f"/tasks/{drawn.task_id}/draw/record"):
        assert staff.get(url).status_code == 200, url
    assert staff.get(f"/tasks/{drawn.task_id}/list/print").status_code == 200
    assert login_as("head_jc").get(f"/tasks/{drawn.task_id}/list").status_code == 200
    assert login_as("supervisor").get(f"/tasks/{drawn.task_id}/list").status_code == 200
    inspector = login_as("inspector_jc")
    assert inspector.get("/my/inspections").status_code == 200
    assert login_as("admin").get("/admin/users").status_code == 200
    assert export_directory(login_as("staff_sb"), "targets").status_code == 200
    login(app.test_client(), "staff_sb", "a-mistyped-password")  # one slip is not a pattern
    assert office.get(f"/tasks/{drawn.task_id}/draw").status_code == 200

    found = flagged(office)
    assert {k: v for k, v in found.items() if k != "off_hours"} == {k: [] for k in KINDS - {"off_hours"}}
    # Off hours depend on when the test runs: the page must flag exactly the
    # entries the pure rule calls off hours, and nothing else.
    expected = {
        e["seq"] for e in log_rows(app)
        if e["username"] and flags.off_hours_reason(flags.when(e), Calendar(), ZoneInfo("Asia/Shanghai"))
        and not e["action"].startswith("oversight_flags")
    }
    # A hit links at most its first 12 entries (templates/oversight/flags.html) and says how many it has.
    linked = {s for _, links in found["off_hours"] for s in links}
    assert linked <= expected
    assert sum(int(n) for text, _ in found["off_hours"] for n in re.findall(r"访问 (\d+) 次", text)) == len(expected)


def test_someone_trying_to_open_a_sealed_list_without_need_to_know_is_flagged(app, login_as, drawn, office):
    assert login_as("staff_sb").get(f"/tasks/{drawn.task_id}/list").status_code == 403
    assert office.get(f"/tasks/{drawn.task_id}/list").status_code == 403  # the office may not either
    found = flagged(office)
    (tried,) = seqs(app, "read:ceremony.sealed_list", "staff_sb")
    (text,) = _hits_with(found, "need_to_know", tried)
    assert "staff_sb" in text and f"试图打开抽中名单（任务 {drawn.task_id}）" in text and "无知悉权限" in text
    (own,) = seqs(app, "read:ceremony.sealed_list", "discipline")
    assert "角色无权访问" in _hits_with(found, "need_to_know", own)[0]


def test_a_sealed_read_the_policy_should_have_refused_is_flagged(app, login_as):
    # A view that forgot its policy check: the kind of bug the flag exists to catch.
    leak = Blueprint("leak", __name__)

    @leak.route("/leak/<int:task_id>")
    @access.signed_in
    def leaky(task_id: int):
        from ssj.ceremony import service

        listing = service.read_list(db.session.get(Task, task_id), "task_list")
        return f"{len(listing.targets)} targets"

    app.register_blueprint(leak)
    from tests.ceremony.conftest import build_world, full_draw

    world = build_world(app)
    full_draw(login_as("staff_jc"), app, world.task_id)
    assert login_as("staff_jc").get(f"/tasks/{world.task_id}/list").status_code == 200  # rightful
    assert login_as("staff_sb").get(f"/leak/{world.task_id}").status_code == 200
    assert login_as("inspector_jc").get(f"/leak/{world.task_id}").status_code == 200

    found = flagged(login_as("discipline"))
    (by_staff,) = seqs(app, "sealed_read:task_list", "staff_sb")
    (by_inspector,) = seqs(app, "sealed_read:task_list", "inspector_jc")
    (rightful,) = seqs(app, "sealed_read:task_list", "staff_jc")
    (text,) = _hits_with(found, "need_to_know", by_staff)
    assert "staff_sb" in text and "读取了保密内容（查看抽中名单" in text and "既不是该任务的组织人" in text
    (text,) = _hits_with(found, "need_to_know", by_inspector)
    assert "inspector_jc" in text and "的检查人员" in text
    assert _hits_with(found, "need_to_know", rightful) == []


def test_repeated_denials_are_flagged_and_four_are_not(app, login_as, office):
    prober, once_too_few = login_as("staff_sb"), login_as("inspector_jc")
    for _ in range(5):
        assert prober.get("/admin/users").status_code == 403
    for _ in range(4):
        assert once_too_few.get("/admin/users").status_code == 403
    found = flagged(office)
    (text, linked), = [h for h in found["denials"] if "staff_sb" in h[0]]
    assert linked == seqs(app, "read:admin.users", "staff_sb") and "角色无权访问 5 次" in text
    assert not [h for h in found["denials"] if "inspector_jc" in h[0]]


def test_password_guessing_is_flagged(app, office):
    guesser = app.test_client()
    for _ in range(5):
        assert login(guesser, "head_jc", "guess-guess-1").status_code == 200
    found = flagged(office)
    (text, linked), = [h for h in found["denials"] if h[0].startswith("head_jc")]
    assert set(seqs(app, "login_failed", "head_jc")) <= set(linked) and "密码错误 5 次" in text


def test_three_exports_and_prints_within_an_hour_are_flagged(app, login_as, drawn, office):
    staff = login_as("staff_jc")
    assert export_directory(staff, "targets").status_code == 200
    assert staff.get(f"/tasks/{drawn.task_id}/list/print").status_code == 200
    assert staff.get(f"/tasks/{drawn.task_id}/list.xlsx").status_code == 200
    found = flagged(office)
    planted = seqs(app, "export", "staff_jc") + seqs(app, "sealed_read:print") + seqs(app, "sealed_read:export")
    (text, linked), = found["bulk_exports"]
    assert sorted(linked) == sorted(planted) and "3 次" in text


def test_one_export_of_five_hundred_rows_is_flagged(app, login_as, office):
    with app.app_context():
        rsj = db.session.execute(select(Department).where(Department.code == "RSJ")).scalar_one()
        db.session.add_all(Target(department_id=rsj.id, credit_code=credit_code(), name=f"商水县批量{n:03d}有限公司")
                           for n in range(500))
        db.session.commit()
    assert export_directory(login_as("staff_sb"), "targets").status_code == 200
    (export,) = seqs(app, "export", "staff_sb")
    (text,) = _hits_with(flagged(office), "bulk_exports", export)
    assert "staff_sb" in text and "共 500 行" in text


def test_a_redraw_and_its_approval_are_listed_with_the_reason(app, login_as, drawn, office):
    reason = "见证人掷骰时骰子滚落桌下，点数无法当场确认"
    n = attempt_number(app, drawn.task_id)
    r = post(login_as("staff_jc"), f"/tasks/{drawn.task_id}/draw/redraw", {"attempt": str(n), "reason": reason})
    assert r.status_code == 302, r.text
    r = post(login_as("supervisor"), f"/tasks/{drawn.task_id}/draw/redraw/decide",
             {"attempt": str(n), "decision": "approve", "note": ""})
    assert r.status_code == 302, r.text
    found = flagged(office)
    (asked,), (approved,) = seqs(app, "redraw_requested"), seqs(app, "redraw_approved")
    (text,) = _hits_with(found, "redraws", asked)
    assert "staff_jc" in text and reason in text
    (text,) = _hits_with(found, "redraws", approved)
    assert "supervisor" in text and "批准作废" in text and reason in text


def test_an_admins_role_change_and_password_reset_are_flagged(app, login_as, office):
    with app.app_context():
        target = db.session.execute(select(User).where(User.username == "staff_sb")).scalar_one()
        head = db.session.execute(select(User).where(User.username == "head_jc")).scalar_one()
        form = {"display_name": target.display_name, "department_id": str(target.department_id),
                "section_id": str(target.section_id), "roles": ["staff", "supervisor"], "enabled": "on"}
        target_id, head_id = target.id, head.id
    admin = login_as("admin")
    assert post(admin, f"/admin/users/{target_id}", form).status_code == 302
    assert post(admin, f"/admin/users/{head_id}/password", {"password": "Another-pass-42"}).status_code == 302
    # Both give sealed access: held until a supervisor approves (SPEC §4), and flagged when asked.
    found = flagged(office)
    asked_role, asked_reset = seqs(app, "access_grant_requested")
    (text,) = _hits_with(found, "admin_changes", asked_role)
    assert text.startswith("admin") and "为 staff_sb 申请可查看保密名单的角色或科室" in text
    (text,) = _hits_with(found, "admin_changes", asked_reset)
    assert "为 head_jc 申请重置密码" in text
    from ssj.models import AccessGrant

    with app.app_context():
        grant_ids = sorted(db.session.execute(select(AccessGrant.id)).scalars())
    boss = login_as("supervisor")
    for grant_id in grant_ids:
        assert post(boss, f"/oversight/grants/{grant_id}/decide", {"decision": "approve"}).status_code == 303
    found = flagged(office)
    (change,) = seqs(app, "role_change")
    (text,) = _hits_with(found, "admin_changes", change)
    assert text.startswith("supervisor") and "把 staff_sb 的角色由“科室工作人员”改为“科室工作人员、局领导”" in text
    assert len(_hits_with(found, "admin_changes", seqs(app, "access_grant_approved")[0])) == 1


def test_a_key_rotation_is_flagged(app, office):
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    (rotated,) = seqs(app, "keys_rotated")
    (text,) = _hits_with(flagged(office), "key_ops", rotated)
    assert "轮换密钥加密密钥" in text


def test_a_holiday_the_admin_entered_makes_that_day_off_hours(app, login_as, office):
    from ssj.models.calendar import Holiday

    today = datetime.now(timezone.utc).astimezone(ZoneInfo("Asia/Shanghai")).date()
    with app.app_context():
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        db.session.add(Holiday(date=today, is_working_day=False, name="县庆纪念日", entered_by_id=admin.id))
        db.session.commit()
    assert login_as("staff_jc").get("/todo").status_code == 200
    (text, linked), = [h for h in flagged(office)["off_hours"] if h[0].startswith("staff_jc")]
    assert "县庆纪念日" in text and seqs(app, "read:main.todo", "staff_jc")[0] in linked


def test_flags_cover_the_chosen_dates_only_and_bad_dates_are_explained(app, login_as, office):
    for _ in range(5):
        login_as("staff_sb").get("/admin/users")
    today = datetime.now(timezone.utc).astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert flagged(office)["denials"]
    assert flagged(office, since="2024-01-01", until="2024-01-31")["denials"] == []
    r = office.get("/discipline/flags", query_string={"since": today.isoformat(), "until": "2024-01-01"})
    assert r.status_code == 422 and "结束日期不能早于开始日期" in r.text
    r = office.get("/discipline/flags", query_string={"since": "2020-01-01", "until": today.isoformat()})
    assert r.status_code == 422 and "一次最多统计 366 天" in r.text
    r = office.get("/discipline/flags", query_string={"since": "去年"})
    assert r.status_code == 422 and "开始日期的格式" in r.text and 'value="去年"' in r.text


def test_viewing_the_flags_is_logged_with_the_range_and_the_counts(app, login_as, office):
    for _ in range(5):
        login_as("staff_sb").get("/admin/users")
    flagged(office, since="2025-01-01", until="2025-12-31")
    flagged(office)
    old, new = log_rows(app, "oversight_flags_viewed")
    assert old["objects"] == {"since": "2025-01-01", "until": "2025-12-31", "counts": {k: 0 for k in KINDS}}
    assert new["objects"]["counts"]["denials"] == 1 and new["username"] == "discipline"


def test_refused_attempts_at_the_notice_and_checklist_pages_are_flagged(app, login_as, drawn, office):
    """The pages added after the hand-kept list (notice, its print, the checklist) are flagged like the list."""
    outsider = login_as("staff_sb")
    pages = {"notice": ("notice", "检查通知书"), "notice_print": ("notice/print", "检查通知书打印页"),
             "checklist_print": ("checklist", "检查清单打印页")}
    for tail, _ in pages.values():
        assert outsider.get(f"/tasks/{drawn.task_id}/positions/1/{tail}").status_code == 403, tail
    found = flagged(office)
    for endpoint, (_, page) in pages.items():
        (tried,) = [e["seq"] for e in log_rows(app, f"read:inspections.{endpoint}", "staff_sb")
                    if e["action"] == f"read:inspections.{endpoint}"]
        texts = _hits_with(found, "need_to_know", tried)
        assert any(f"试图打开{page}（任务 {drawn.task_id}）" in t and "staff_sb" in t for t in texts), texts


def test_the_sealed_pages_are_the_routes_own_declarations(app):
    """SEALED_ENDPOINTS/ENDPOINT_ZH are read from the routes (access.roles(..., sealed=...)), not kept by hand."""
    declared = {endpoint: rule.sealed for endpoint, view in app.view_functions.items()
                if (rule := getattr(view, access.ATTR, None)) is not None and rule.sealed}
    assert dict(flags.ENDPOINT_ZH) == declared and set(flags.SEALED_ENDPOINTS) == set(declared)
    assert {"ceremony.sealed_list", "inspections.notice", "inspections.checklist_print"} <= set(declared)

    # A new sealed page is on the list as soon as it is declared.
    import ssj

    other = ssj.create_app({"TESTING": True}, instance_path=app.instance_path)
    bp = Blueprint("newpage", __name__)

    @bp.route("/new-sealed-page")
    @access.roles("staff", sealed="新的保密页面")
    def page():
        return "sealed"

    other.register_blueprint(bp)
    try:
        flags.register_sealed_pages(access.sealed_pages(other))
        assert flags.ENDPOINT_ZH["newpage.page"] == "新的保密页面"
        assert flags.is_sealed_attempt({"outcome": "denied", "action": "read:newpage.page"})
    finally:
        flags.register_sealed_pages(access.sealed_pages(app))
