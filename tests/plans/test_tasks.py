"""Tasks: validation in Chinese with nothing saved on error, the out-of-plan flag
(Art 18), section scoping, and the pool preview the draw will start from (Art 5, 7, 11, 16)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AnnualPlan, PlanItem, Task
from tests.conftest import post, post_as_loaded

from .conftest import add_inspector, add_targets, add_user, department, section, this_year


def _form(app, matters, **overrides) -> dict:
    year = this_year(app)
    data = {
        "name": "第二季度工资支付专项抽查",
        "year": str(year),
        "matter_ids": [str(matters["JC-001"])],
        "size_filter": "all",
        "exclusion_days": "180",
        "team_size": "2",
        "cap_per_inspector": "",
        "planned_start": f"{year}-05-01",
        "planned_end": f"{year}-05-31",
        "publish_date": f"{year}-06-30",
        "special_enabled": "on",
        "special_ratio": "2",
        "small_micro_enabled": "on",
        "small_micro_ratio": "1",
        "general_ratio": "1",
        "out_of_plan_reason": "县政府交办的专项检查",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _tasks(app) -> list[dict]:
    with app.app_context():
        return [
            {
                "id": t.id,
                "name": t.name,
                "team_size": t.team_size,
                "out_of_plan": t.out_of_plan,
                "reason": t.out_of_plan_reason,
                "plan_id": t.plan_id,
                "strata": [(s.kind, s.ratio_percent, s.fixed_count, s.reason) for s in t.strata],
                "partners": [p.department.code for p in t.partners],
                "status": t.status,
                "publish_date": t.publish_date.isoformat() if t.publish_date else None,
            }
            for t in db.session.execute(select(Task).order_by(Task.id)).scalars()
        ]


def _create(app, client, matters, **overrides) -> int:
    r = post(client, "/tasks/new", _form(app, matters, **overrides))
    assert r.status_code == 302, r.text
    return _tasks(app)[-1]["id"]


def _approve_plan(app, matters, codes=("JC-001",)) -> int:
    with app.app_context():
        plan = AnnualPlan(section_id=section("JCDD").id, year=this_year(app), status="approved")
        for code in codes:
            plan.items.append(PlanItem(matter_id=matters[code], rounds=3, ratio_percent="1.5", months=""))
        db.session.add(plan)
        db.session.commit()
        return plan.id


def test_a_valid_task_is_saved_with_three_disjoint_strata(app, login_as, matters):
    staff = login_as("staff")
    _create(app, staff, matters, cap_per_inspector="3")
    (task,) = _tasks(app)
    assert task["team_size"] == 2 and task["status"] == "planned"
    assert task["strata"] == [("special", "2", None, ""), ("small_micro", "1", None, ""), ("general", "1", None, "")]


def test_team_of_one_is_refused_and_nothing_is_saved(app, login_as, matters):
    r = post(login_as("staff"), "/tasks/new", _form(app, matters, team_size="1"))
    assert r.status_code == 422 and "每个检查组至少 2 名执法检查人员" in r.text
    assert "第二季度工资支付专项抽查" in r.text  # what was typed is kept
    assert _tasks(app) == []


def test_publish_date_before_the_end_is_refused(app, login_as, matters):
    year = this_year(app)
    r = post(login_as("staff"), "/tasks/new", _form(app, matters, publish_date=f"{year}-05-20"))
    assert r.status_code == 422 and "结果公开日期不能早于" in r.text
    r = post(login_as("staff"), "/tasks/new", _form(app, matters, publish_date=f"{year}-05-31"))
    assert r.status_code == 422
    assert _tasks(app) == []


def test_publish_date_needs_the_reports_five_working_days_on_create_and_edit(app, login_as, matters):
    """SPEC §3: publish date ≥ planned end + 5 working days (Art 9's report), in the bureau's calendar."""
    from datetime import date, timedelta

    from ssj.plans.forms import earliest_publish_date

    year = this_year(app)
    end = date(year, 5, 29)  # a Friday: five working days later is the next Friday, not the Wednesday
    with app.test_request_context():
        earliest = earliest_publish_date(end)
    assert (earliest - end).days >= 7
    staff = login_as("staff")
    day_before = (earliest - timedelta(days=1)).isoformat()
    r = post(staff, "/tasks/new", _form(app, matters, planned_end=end.isoformat(), publish_date=day_before))
    assert r.status_code == 422
    assert f"结果公开日期不能早于 {earliest.isoformat()}" in r.text and "5 个工作日" in r.text
    assert _tasks(app) == []  # a refused form writes nothing
    r = post(staff, "/tasks/new", _form(app, matters, planned_end=end.isoformat(), publish_date=earliest.isoformat()))
    assert r.status_code == 302
    (task,) = _tasks(app)
    r = post(staff, f"/tasks/{task['id']}/edit",
             _form(app, matters, planned_end=end.isoformat(), publish_date=day_before))
    assert r.status_code == 422 and f"结果公开日期不能早于 {earliest.isoformat()}" in r.text
    assert _tasks(app)[0]["publish_date"] == earliest.isoformat()  # the edit changed nothing


def test_small_micro_below_one_percent_needs_a_reason(app, login_as, matters):
    staff = login_as("staff")
    r = post(staff, "/tasks/new", _form(app, matters, small_micro_ratio="0.5"))
    assert r.status_code == 422 and "小微企业抽查比例 0.5% 低于 1%" in r.text
    assert _tasks(app) == []
    _create(app, staff, matters, small_micro_ratio="0.5", small_micro_reason="本县小微餐饮企业多、风险低")
    assert _tasks(app)[0]["strata"][1] == ("small_micro", "0.5", None, "本县小微餐饮企业多、风险低")


def test_special_ratio_below_general_is_refused(app, login_as, matters):
    r = post(login_as("staff"), "/tasks/new", _form(app, matters, special_ratio="1", general_ratio="1.5"))
    assert r.status_code == 422 and "重点监管对象的抽查比例 1% 低于一般对象的 1.5%" in r.text
    assert _tasks(app) == []


def test_special_fixed_count_is_compared_on_todays_pools(app, login_as, matters):
    with app.app_context():
        add_targets("RSJ", 10)  # general
        add_targets("RSJ", 10, complaint_count=5)  # special
        db.session.commit()
    staff = login_as("staff")
    # 1 of 10 special (10%) is below the general 50%.
    r = post(staff, "/tasks/new", _form(app, matters, special_ratio="", special_count="1", general_ratio="50"))
    assert r.status_code == 422 and "低于一般对象" in r.text
    _create(app, staff, matters, special_ratio="", special_count="5", general_ratio="50")


def test_ratio_and_count_together_are_refused(app, login_as, matters):
    r = post(login_as("staff"), "/tasks/new", _form(app, matters, general_count="10"))
    assert r.status_code == 422 and "抽查比例和固定户数只能填一项" in r.text


def test_only_the_sections_active_matters_can_be_chosen(app, login_as, matters):
    staff = login_as("staff")
    for code in ("SB-001", "JC-009"):
        r = post(staff, "/tasks/new", _form(app, matters, matter_ids=[str(matters[code])]))
        assert r.status_code == 422 and "只能选择本科室状态为“有效”的抽查事项" in r.text
    assert _tasks(app) == []


def test_without_an_approved_plan_the_task_is_out_of_plan_and_needs_a_reason(app, login_as, matters):
    staff = login_as("staff")
    r = post(staff, "/tasks/new", _form(app, matters, out_of_plan_reason=""))
    assert r.status_code == 422 and "属于计划外检查（细则第十八条）" in r.text
    task_id = _create(app, staff, matters)
    task = _tasks(app)[0]
    assert task["out_of_plan"] is True and task["reason"] == "县政府交办的专项检查" and task["plan_id"] is None
    assert "计划外" in staff.get(f"/tasks/{task_id}").text
    assert "计划外" in staff.get("/tasks").text


def test_a_task_inside_the_approved_plan_is_not_flagged(app, login_as, matters):
    plan_id = _approve_plan(app, matters, ("JC-001",))
    staff = login_as("staff")
    _create(app, staff, matters, out_of_plan_reason="", general_ratio="1.5")
    task = _tasks(app)[0]
    assert task["out_of_plan"] is False and task["plan_id"] == plan_id and task["reason"] == ""
    # A matter the plan does not cover makes the next task out of plan.
    r = post(staff, "/tasks/new", _form(app, matters, matter_ids=[str(matters["JC-001"]), str(matters["JC-002"])],
                                         out_of_plan_reason="", general_ratio="2"))
    assert r.status_code == 422 and "事项JC-002" in r.text and "计划外" in r.text


def test_general_ratio_below_the_plan_needs_a_reason(app, login_as, matters):
    _approve_plan(app, matters, ("JC-001",))
    staff = login_as("staff")
    r = post(staff, "/tasks/new", _form(app, matters, general_ratio="1.2", out_of_plan_reason=""))
    assert r.status_code == 422 and "低于已批准年度计划中的 1.5%" in r.text
    # Left blank, the general stratum takes the plan's ratio.
    _create(app, staff, matters, general_ratio="", out_of_plan_reason="")
    assert _tasks(app)[0]["strata"][2] == ("general", "1.5", None, "")


def test_pool_preview_counts_disjoint_strata_and_eligible_inspectors(app, login_as, matters):
    with app.app_context():
        general = add_targets("RSJ", 150)
        special = (
            add_targets("RSJ", 2, complaint_count=3)
            + add_targets("RSJ", 1, serious_violation=True)
            + add_targets("RSJ", 1, credit_grade="D")
            + add_targets("RSJ", 1, credit_grade="C", is_small_micro=True)  # special wins over small/micro
        )
        small = add_targets("RSJ", 40, is_small_micro=True)
        add_targets("RSJ", 3, status="cancelled")  # not operating: never drawn
        add_targets("RSJ", 2, status="revoked", credit_grade="D")
        add_targets("SCJ", 7)  # another department's directory
        for no in ("J1", "J2", "J3"):
            add_inspector("RSJ", "JCDD", no)
        add_inspector("RSJ", "JCDD", "J4", expires_in_days=-1)  # certificate expired
        add_inspector("RSJ", "SBG", "S1", status="leave")
        add_inspector("SCJ", "ZFJC", "M1")
        db.session.commit()
    staff = login_as("staff")
    task_id = _create(app, staff, matters, special_ratio="50", small_micro_ratio="0.5",
                      small_micro_reason="小微企业多", general_ratio="1")
    page = staff.get(f"/tasks/{task_id}").text
    # N = 5 special, 40 small/micro, 150 general; k = ceil(N × ratio / 100).
    assert "<td>重点监管对象</td><td>50%</td><td class=\"num\">5</td><td class=\"num\">3</td>" in page
    assert "<td>小微企业</td><td>0.5%</td><td class=\"num\">40</td><td class=\"num\">1</td>" in page
    assert "<td>一般对象</td><td>1%</td><td class=\"num\">150</td><td class=\"num\">2</td>" in page
    assert "可参加抽取的执法检查人员：<strong>3</strong> 名" in page

    from ssj.plans.service import eligible_pools

    with app.test_request_context():
        task = db.session.get(Task, task_id)
        pools, inspectors = eligible_pools(task, date.today())
        assert [(s.kind, codes) for s, codes in pools] == [
            ("special", sorted(special)), ("small_micro", sorted(small)), ("general", sorted(general))
        ]
        assert inspectors == ["J1", "J2", "J3"]
        db.session.remove()

    # A joint task with SCJ also draws SCJ's eligible inspectors (Art 11).
    edit = _form(app, matters, special_ratio="50", small_micro_ratio="0.5", small_micro_reason="小微企业多",
                 partner_ids=[str(_dept_id(app, "SCJ"))])
    assert post_as_loaded(staff, f"/tasks/{task_id}/edit", edit).status_code == 302
    assert "可参加抽取的执法检查人员：<strong>4</strong> 名" in staff.get(f"/tasks/{task_id}").text
    with app.test_request_context():
        assert eligible_pools(db.session.get(Task, task_id), date.today())[1] == ["J1", "J2", "J3", "M1"]
        db.session.remove()


def _dept_id(app, code) -> int:
    with app.app_context():
        return department(code).id


def test_scope_filters_and_disabled_strata_change_the_pools(app, login_as, matters):
    with app.app_context():
        from ssj.models import Township

        t1 = db.session.execute(select(Township.id).where(Township.code == "T01")).scalar_one()
        add_targets("RSJ", 4, industry="建筑业", township_id=t1)
        add_targets("RSJ", 3, industry="建筑业", township_id=t1, is_small_micro=True)
        add_targets("RSJ", 2, industry="建筑业", township_id=t1, complaint_count=9)
        add_targets("RSJ", 5, industry="餐饮业", township_id=t1)
        add_targets("RSJ", 6, industry="建筑业")  # no township
        db.session.commit()
    staff = login_as("staff")
    # Without a special stratum, the special targets fall into the next one that takes them.
    task_id = _create(app, staff, matters, industries=["建筑业"], township_ids=[str(t1)],
                      special_enabled=None, small_micro_enabled=None)
    assert [s[0] for s in _tasks(app)[0]["strata"]] == ["general"]
    page = staff.get(f"/tasks/{task_id}").text
    assert "<td>一般对象</td><td>1%</td><td class=\"num\">9</td>" in page
    r = post(staff, "/tasks/new", _form(app, matters, size_filter="not_small"))
    assert r.status_code == 422 and "请取消“小微企业”分层" in r.text


def test_preview_fragment_for_htmx_and_the_page_without_it(app, login_as, matters):
    staff = login_as("staff")
    task_id = _create(app, staff, matters)
    r = staff.get(f"/tasks/{task_id}/preview", headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.lstrip().startswith("<section id=\"pool-preview\"")
    assert "HX-Request" in r.headers.get("Vary", "")
    assert staff.get(f"/tasks/{task_id}/preview").status_code == 302


def test_tasks_are_scoped_to_the_section_and_department(app, login_as, matters):
    staff = login_as("staff")
    task_id = _create(app, staff, matters, name="监察大队的任务")
    staff_sb = login_as("staff_sb")
    assert staff_sb.get(f"/tasks/{task_id}").status_code == 403
    assert staff_sb.get(f"/tasks/{task_id}/edit").status_code == 403
    assert "监察大队的任务" not in staff_sb.get("/tasks").text
    staff_scj = login_as("staff_scj")
    assert staff_scj.get(f"/tasks/{task_id}").status_code == 404
    assert post(staff_scj, f"/tasks/{task_id}/edit", _form(app, matters)).status_code == 404
    supervisor = login_as("supervisor")
    assert "监察大队的任务" in supervisor.get("/tasks").text
    assert supervisor.get(f"/tasks/{task_id}").status_code == 200
    assert supervisor.get(f"/tasks/{task_id}/edit").status_code == 403  # supervisors approve, sections plan
    for who in ("inspector", "discipline", "admin"):
        assert login_as(who).get(f"/tasks/{task_id}").status_code == 403
    assert login_as("head_jc").get(f"/tasks/{task_id}/edit").status_code == 200


def test_a_task_can_be_edited_only_while_planned(app, login_as, matters):
    staff = login_as("staff")
    task_id = _create(app, staff, matters)
    assert post_as_loaded(staff, f"/tasks/{task_id}/edit", _form(app, matters, team_size="3")).status_code == 302
    assert _tasks(app)[0]["team_size"] == 3
    with app.app_context():
        db.session.get(Task, task_id).status = "sealed"
        db.session.commit()
    r = post_as_loaded(staff, f"/tasks/{task_id}/edit", _form(app, matters, team_size="4"))
    assert r.status_code == 409 and "不能再修改" in r.text
    assert _tasks(app)[0]["team_size"] == 3
    assert staff.get(f"/tasks/{task_id}/edit").status_code == 302
    assert "修改设置" not in staff.get(f"/tasks/{task_id}").text


def test_a_task_saved_over_a_colleagues_newer_save_is_refused_showing_what_changed(app, login_as, matters):
    import json

    from ssj.models import AccessLogEntry
    from tests.conftest import loaded_version

    staff, head = login_as("staff"), login_as("head_jc")
    task_id = _create(app, staff, matters)
    url = f"/tasks/{task_id}/edit"
    stale = loaded_version(staff, url)  # both open the task at the same version
    assert post_as_loaded(head, url, _form(app, matters, team_size="3", name="同事改的任务名称")).status_code == 302
    r = post(staff, url, {**_form(app, matters, team_size="2", exclusion_days="90"), "row_version": stale})
    assert r.status_code == 409 and "别人已经保存了修改" in r.text and "别人已经保存了新的内容" in r.text
    box = r.text[r.text.index("stale-changes"):r.text.index("</section>", r.text.index("stale-changes"))]
    for part in ("任务名称", "同事改的任务名称", "第二季度工资支付专项抽查", "每组执法人员人数", "避免重复检查（天）", "90", "180"):
        assert part in box, part
    assert "抽查事项" not in box and "计划开始日期" not in box  # unchanged fields are not listed
    assert 'value="90"' in r.text  # what I typed is kept in the form
    assert (_tasks(app)[0]["name"], _tasks(app)[0]["team_size"]) == ("同事改的任务名称", 3)  # nothing overwritten
    with app.app_context():
        refused = db.session.execute(select(AccessLogEntry.body).where(AccessLogEntry.outcome == "refused")).scalars()
        assert [json.loads(b)["reason"] for b in refused] == ["stale_version"]


def test_a_user_without_a_section_cannot_create_tasks(app, login_as, matters):
    with app.app_context():
        add_user("floating", ["staff"], "RSJ", None)
        db.session.commit()
    from tests.conftest import login

    c = app.test_client()
    login(c, "floating")
    assert c.get("/tasks/new").status_code == 403
    assert post(c, "/tasks/new", _form(app, matters)).status_code == 403


def test_task_list_filters_and_returns_its_fragment_to_htmx(app, login_as, matters):
    staff = login_as("staff")
    link = f'href="/tasks/{_create(app, staff, matters, name="今年的任务")}"'
    year = this_year(app)
    r = staff.get(f"/tasks?year={year}", headers={"HX-Request": "true"})
    assert r.text.lstrip().startswith('<div id="results">') and link in r.text
    assert "HX-Request" in r.headers.get("Vary", "")
    r = staff.get(f"/tasks?year={year - 1}")
    assert "<html" in r.text and link not in r.text and "没有符合条件的抽查任务" in r.text


def test_after_the_draw_the_live_preview_is_computed_only_when_asked_for(app, login_as):
    """A drawn task's pools are frozen in its draw record: its page does not pass over the whole
    directory on every visit (bench/pages.py), and still offers the live count on request."""
    from tests.ceremony.conftest import build_world, full_draw

    world = build_world(app)
    staff = login_as("staff")
    page = staff.get(f"/tasks/{world.task_id}").text
    assert "可参加抽取的执法检查人员" in page  # planned: the preview is the page's point
    full_draw(staff, app, world.task_id)
    page = staff.get(f"/tasks/{world.task_id}").text
    assert "可参加抽取的执法检查人员" not in page and "按最新名录计算" in page
    assert "可参加抽取的执法检查人员" in staff.get(f"/tasks/{world.task_id}?preview=1").text
    fragment = staff.get(f"/tasks/{world.task_id}/preview", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<section id="pool-preview"') and "可参加抽取的执法检查人员" in fragment


def test_the_task_form_explains_which_stratum_a_target_falls_in(app, login_as, matters):
    """The strata rule in its words (rules.STRATUM_RULE_TEXT): no test showed it on a page, so
    mutmut 13-16 of round 4 (the text wrapped in XX, or None shown instead) survived."""
    page = login_as("staff").get("/tasks/new").text
    assert ("各分层互不重叠：每个检查对象只归入它符合条件的第一个分层，顺序为"
            "①重点监管对象（被投诉举报 3 次以上、有严重违法违规记录或信用等级为 C/D 级）、"
            "②小微企业、③一般对象（其余全部）。不单独设置的分层，其对象并入后面的分层。 每个分层填写") in page
