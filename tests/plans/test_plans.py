"""Annual plans: Art 7 checks per matter, written reasons for shortfalls, and a
supervisor's approval that the submitter cannot give themselves (Art 7, 18)."""
from __future__ import annotations

import json

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry, AnnualPlan
from tests.conftest import login, post, post_as_loaded

from .conftest import add_user, this_year


def _new_plan(app, client) -> int:
    r = post(client, "/plans/new", {"year": str(this_year(app))})
    assert r.status_code == 302, r.text
    with app.app_context():
        return db.session.execute(select(AnnualPlan.id).order_by(AnnualPlan.id.desc())).scalars().first()


def _plan(app, plan_id) -> dict:
    with app.app_context():
        p = db.session.get(AnnualPlan, plan_id)
        return {
            "status": p.status,
            "items": {i.matter.code: (i.rounds, i.ratio_percent, i.months, i.reason) for i in p.items},
            "decided_by": p.decided_by.username if p.decided_by else None,
            "note": p.decision_note,
        }


def _edit(client, plan_id, matters, rows: dict, overall: str = ""):
    """rows: matter code -> (rounds, ratio, months, reason); other matters keep a compliant line."""
    data = {"shortfall_reason": overall}
    for code in ("JC-001", "JC-002"):
        rounds, ratio, months, reason = rows.get(code, ("3", "1", "", ""))
        mid = matters[code]
        data.update({f"rounds-{mid}": rounds, f"ratio_percent-{mid}": ratio, f"months-{mid}": months, f"reason-{mid}": reason})
    return post_as_loaded(client, f"/plans/{plan_id}/edit", data)


def _act(client, plan_id, action: str, data: dict | None = None):
    """Submit, decide or reopen from the plan page as loaded now (its row_version), as a person does."""
    from tests.conftest import loaded_version

    page = f"/plans/{plan_id}"
    fields = {"row_version": loaded_version(client, page), "seen_status": _plan_status(client, page)}
    return post(client, f"{page}/{action}", {**fields, **(data or {})})


def _plan_status(client, page: str) -> str:
    import re

    found = re.search(r'name="seen_status" value="(\w*)"', client.get(page).text)
    return found.group(1) if found else ""


def _log(app, action) -> list[dict]:
    with app.app_context():
        bodies = db.session.execute(select(AccessLogEntry.body).where(AccessLogEntry.action == action)).scalars()
        return [json.loads(b) for b in bodies]


def test_new_plan_lists_every_active_matter_of_the_section_prefilled(app, login_as, matters):
    staff = login_as("staff")
    plan_id = _new_plan(app, staff)
    items = _plan(app, plan_id)["items"]
    # Suspended matters and other sections' matters are not planned.
    assert items == {"JC-001": (3, "1", "", ""), "JC-002": (4, "2", "", "")}


def test_a_second_plan_for_the_same_year_is_refused(app, login_as, matters):
    staff = login_as("staff")
    _new_plan(app, staff)
    r = post(staff, "/plans/new", {"year": str(this_year(app))})
    assert r.status_code == 422 and "已经存在" in r.text


def test_two_rounds_are_shown_as_an_art7_shortfall(app, login_as, matters):
    staff = login_as("staff")
    plan_id = _new_plan(app, staff)
    assert _edit(staff, plan_id, matters, {"JC-001": ("2", "1", "4,9", "")}).status_code == 302
    page = staff.get(f"/plans/{plan_id}").text
    assert "未达要求" in page and "每年计划 2 次，少于细则第七条规定的每年不少于 3 次" in page
    assert _plan(app, plan_id)["items"]["JC-001"][:3] == (2, "1", "4,9")


def test_half_a_percent_is_shown_as_an_art7_shortfall(app, login_as, matters):
    staff = login_as("staff")
    plan_id = _new_plan(app, staff)
    _edit(staff, plan_id, matters, {"JC-002": ("3", "0.5", "", "")})
    page = staff.get(f"/plans/{plan_id}").text
    assert "每次抽查比例 0.5%，低于细则第七条规定的不低于 1%" in page


def test_bad_plan_input_is_explained_and_keeps_what_was_typed(app, login_as, matters):
    staff = login_as("staff")
    plan_id = _new_plan(app, staff)
    r = _edit(staff, plan_id, matters, {"JC-001": ("三", "一", "3,6", "保留的说明")})
    assert r.status_code == 422
    assert "每年轮次应为" in r.text and "不是有效的数字" in r.text and "保留的说明" in r.text
    assert _plan(app, plan_id)["items"]["JC-001"] == (3, "1", "", "")
    r = _edit(staff, plan_id, matters, {"JC-001": ("3", "1", "3,6", "")})
    assert r.status_code == 422 and "与每年 3 次不一致" in r.text


def test_shortfall_without_a_reason_cannot_be_submitted(app, login_as, matters):
    staff = login_as("staff")
    plan_id = _new_plan(app, staff)
    _edit(staff, plan_id, matters, {"JC-001": ("2", "1", "", "")})
    r = _act(staff, plan_id, "submit")
    assert r.status_code == 422 and "需要书面说明理由" in r.text
    assert _plan(app, plan_id)["status"] == "draft"


def test_shortfall_with_a_reason_per_item_can_be_submitted(app, login_as, matters):
    staff = login_as("staff")
    plan_id = _new_plan(app, staff)
    _edit(staff, plan_id, matters, {"JC-001": ("2", "1", "", "本县建筑企业仅 40 家，每年两轮已覆盖")})
    assert _act(staff, plan_id, "submit").status_code == 302
    assert _plan(app, plan_id)["status"] == "submitted"
    assert _log(app, "plan_submitted")[0]["objects"]["shortfalls"] == 1


def test_shortfall_with_an_overall_reason_can_be_submitted(app, login_as, matters):
    staff = login_as("staff")
    plan_id = _new_plan(app, staff)
    _edit(staff, plan_id, matters, {"JC-001": ("2", "0.5", "", "")}, overall="全县同类企业数量少，统一说明")
    assert _act(staff, plan_id, "submit").status_code == 302
    assert _plan(app, plan_id)["status"] == "submitted"


def _submitted_plan(app, login_as, matters) -> int:
    staff = login_as("staff")
    plan_id = _new_plan(app, staff)
    assert _act(staff, plan_id, "submit").status_code == 302
    return plan_id


def test_supervisor_approves_and_the_decision_is_logged(app, login_as, matters):
    plan_id = _submitted_plan(app, login_as, matters)
    r = _act(login_as("supervisor"), plan_id, "decide", {"decision": "approve", "note": "同意"})
    assert r.status_code == 302
    assert _plan(app, plan_id)["status"] == "approved" and _plan(app, plan_id)["decided_by"] == "supervisor"
    entry = _log(app, "plan_approved")[0]
    assert entry["objects"]["decision"] == "approved" and entry["username"] == "supervisor"
    assert entry["objects"]["submitted_by"] == "staff_jc"


def test_return_needs_a_note_and_the_section_can_then_edit(app, login_as, matters):
    plan_id = _submitted_plan(app, login_as, matters)
    supervisor = login_as("supervisor")
    r = _act(supervisor, plan_id, "decide", {"decision": "return", "note": ""})
    assert r.status_code == 422 and "退回修改时请写明意见" in r.text
    assert _plan(app, plan_id)["status"] == "submitted"
    _act(supervisor, plan_id, "decide", {"decision": "return", "note": "JC-002 比例偏低"})
    assert _plan(app, plan_id)["status"] == "returned"
    assert _log(app, "plan_returned")[0]["reason"] == "JC-002 比例偏低"
    staff = login_as("staff")
    assert _edit(staff, plan_id, matters, {"JC-002": ("4", "3", "", "")}).status_code == 302
    assert _plan(app, plan_id)["items"]["JC-002"][1] == "3"


def test_staff_cannot_approve(app, login_as, matters):
    plan_id = _submitted_plan(app, login_as, matters)
    for who in ("staff", "section_head"):
        r = post(login_as(who), f"/plans/{plan_id}/decide", {"decision": "approve"})
        assert r.status_code == 403
    assert _plan(app, plan_id)["status"] == "submitted"


def test_the_submitter_cannot_approve_their_own_plan(app, login_as, matters):
    with app.app_context():
        add_user("lead_jc", ["staff", "supervisor"], "RSJ", "JCDD")
        db.session.commit()
    both = app.test_client()
    assert login(both, "lead_jc").status_code == 302
    plan_id = _new_plan(app, both)
    _act(both, plan_id, "submit")
    r = _act(both, plan_id, "decide", {"decision": "approve"})
    assert r.status_code == 403 and "不能审批自己提交的计划" in r.text
    assert _plan(app, plan_id)["status"] == "submitted"
    # Another supervisor can.
    assert _act(login_as("supervisor"), plan_id, "decide", {"decision": "approve"}).status_code == 302
    assert _plan(app, plan_id)["status"] == "approved"


def test_another_departments_supervisor_cannot_approve(app, login_as, matters):
    plan_id = _submitted_plan(app, login_as, matters)
    with app.app_context():
        add_user("supervisor_scj", ["supervisor"], "SCJ", None)
        db.session.commit()
    other = app.test_client()
    login(other, "supervisor_scj")
    assert _act(other, plan_id, "decide", {"decision": "approve"}).status_code == 404
    assert other.get(f"/plans/{plan_id}").status_code == 404
    assert _plan(app, plan_id)["status"] == "submitted"


def test_approved_plan_is_read_only_until_a_supervisor_reopens_it(app, login_as, matters):
    plan_id = _submitted_plan(app, login_as, matters)
    supervisor = login_as("supervisor")
    _act(supervisor, plan_id, "decide", {"decision": "approve"})
    staff = login_as("staff")
    r = _edit(staff, plan_id, matters, {"JC-001": ("5", "5", "", "")})
    assert r.status_code == 302
    assert _plan(app, plan_id)["items"]["JC-001"] == (3, "1", "", "")
    assert _act(staff, plan_id, "reopen", {"note": "x"}).status_code == 403
    r = _act(supervisor, plan_id, "reopen", {"note": ""})
    assert r.status_code == 422 and _plan(app, plan_id)["status"] == "approved"
    assert _act(supervisor, plan_id, "reopen", {"note": "省厅调整比例"}).status_code == 302
    assert _plan(app, plan_id)["status"] == "returned"
    entry = _log(app, "plan_reopened")[0]
    assert entry["reason"] == "省厅调整比例" and entry["objects"]["approved_by"] == "supervisor"
    assert _edit(staff, plan_id, matters, {"JC-001": ("5", "5", "", "")}).status_code == 302
    assert _plan(app, plan_id)["items"]["JC-001"][:2] == (5, "5")


def test_other_sections_cannot_edit_and_other_departments_cannot_see(app, login_as, matters):
    plan_id = _new_plan(app, login_as("staff"))
    staff_sb = login_as("staff_sb")
    assert staff_sb.get(f"/plans/{plan_id}/edit").status_code == 403
    assert _act(staff_sb, plan_id, "submit").status_code == 403
    assert _plan(app, plan_id)["status"] == "draft"
    staff_scj = login_as("staff_scj")
    assert staff_scj.get(f"/plans/{plan_id}").status_code == 404
    assert post(staff_scj, f"/plans/{plan_id}/edit", {}).status_code == 404
    # Each section's list shows its own plans only.
    assert f"/plans/{plan_id}\"" not in staff_sb.get("/plans").text
    assert f"/plans/{plan_id}\"" in login_as("supervisor").get("/plans").text


def test_public_page_shows_only_approved_plans(app, client, login_as, matters):
    year = this_year(app)
    approved = _submitted_plan(app, login_as, matters)
    _act(login_as("supervisor"), approved, "decide", {"decision": "approve"})
    _edit(login_as("staff"), approved, matters, {})  # refused: read-only; nothing changes
    # SBG keeps a draft plan for the same year.
    assert post(login_as("staff_sb"), "/plans/new", {"year": str(year)}).status_code == 302
    r = client.get("/public/plans")
    assert r.status_code == 200
    assert "劳动保障监察大队" in r.text and "事项JC-001" in r.text
    assert "社会保险股" not in r.text and "事项SB-001" not in r.text
    assert "staff_jc" not in r.text  # no people on the public page
    with app.app_context():
        from ssj.plans.service import approved_plans

        with app.test_request_context():
            plans = approved_plans()
    assert [(p["section"], p["year"]) for p in plans] == [("劳动保障监察大队", year)]
    assert set(plans[0]) == {"department", "section", "year", "approved_on", "items"}


def test_a_plan_saved_over_a_colleagues_newer_save_is_refused_showing_what_changed(app, login_as, matters):
    from tests.conftest import loaded_version

    staff, head = login_as("staff"), login_as("head_jc")
    plan_id = _new_plan(app, staff)
    url = f"/plans/{plan_id}/edit"
    stale = loaded_version(staff, url)  # both open the plan at the same version
    assert _edit(head, plan_id, matters, {"JC-001": ("4", "2", "3,6,9,12", "")}).status_code == 302
    data = {"row_version": stale, "shortfall_reason": "我写的总体说明"}
    for code, (rounds, ratio) in (("JC-001", ("3", "1.5")), ("JC-002", ("3", "1"))):
        mid = matters[code]
        data.update({f"rounds-{mid}": rounds, f"ratio_percent-{mid}": ratio, f"months-{mid}": "", f"reason-{mid}": ""})
    r = post(staff, url, data)
    assert r.status_code == 409 and "别人已经保存了修改" in r.text and "别人已经保存了新的内容" in r.text
    box = r.text[r.text.index("stale-changes"):r.text.index("</section>", r.text.index("stale-changes"))]
    for part in ("JC-001", "每年轮次", "每次比例（%）", "计划月份", "3,6,9,12", "1.5", "总体说明", "我写的总体说明", "草稿"):
        assert part in box, part
    assert "JC-002" not in box  # an unchanged line is not listed
    assert "我写的总体说明</textarea>" in r.text  # what I typed is kept in the form
    assert _plan(app, plan_id)["items"]["JC-001"] == (4, "2", "3,6,9,12", "")  # nothing overwritten
    assert [b["reason"] for b in _log(app, "refused:plans.plan_edit")] == ["stale_version"]


def test_a_decision_on_a_plan_changed_since_it_was_read_is_refused_keeping_the_note(app, login_as, matters):
    from tests.conftest import loaded_version

    plan_id = _submitted_plan(app, login_as, matters)
    staff, supervisor = login_as("staff"), login_as("supervisor")
    with app.app_context():
        add_user("supervisor2", ["supervisor"], "RSJ", None)
        db.session.commit()
    second = app.test_client()
    assert login(second, "supervisor2").status_code == 302
    seen = loaded_version(supervisor, f"/plans/{plan_id}")  # both supervisors read the submitted plan
    assert _act(second, plan_id, "decide", {"decision": "return", "note": "JC-002 比例偏低"}).status_code == 302
    r = post(supervisor, f"/plans/{plan_id}/decide",
             {"row_version": seen, "seen_status": "submitted", "decision": "approve", "note": "同意执行"})
    assert r.status_code == 409 and "别人已经修改、提交或审批了它" in r.text
    box = r.text[r.text.index("stale-changes"):r.text.index("</section>", r.text.index("stale-changes"))]
    for part in ("计划状态", "已退回", "待审批", "审批意见", "JC-002 比例偏低", "同意执行"):
        assert part in box, part
    assert _plan(app, plan_id)["status"] == "returned" and _plan(app, plan_id)["note"] == "JC-002 比例偏低"
    assert [b["reason"] for b in _log(app, "refused:plans.plan_decide")] == ["stale_version"]
    # a submission of a plan edited since the submitter read it is refused the same way
    seen = loaded_version(staff, f"/plans/{plan_id}")
    assert _edit(login_as("head_jc"), plan_id, matters, {"JC-001": ("4", "2", "", "")}).status_code == 302
    r = post(staff, f"/plans/{plan_id}/submit", {"row_version": seen, "seen_status": "returned"})
    assert r.status_code == 409 and "已有新的修改" in r.text
    assert _plan(app, plan_id)["status"] == "returned"
