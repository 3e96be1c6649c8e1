"""The oversight dashboard 监管看板 (SPEC §8): the figures a leader reads, built through the
app's own routes (draw ceremony, inspection records, follow-ups, publication) where they exist,
and the access rules of who sees which section's figures."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ssj.extensions import db
from ssj.models import (
    AccessLogEntry,
    AnnualPlan,
    Matter,
    PlanItem,
    Section,
    Target,
    Task,
    TaskMatter,
    Township,
    TrainingAttendance,
    TrainingSession,
)
from tests.ceremony.conftest import build_world, full_draw, section, text_of, user
from tests.conftest import login
from tests.inspections.conftest import build_drawn, submit
from tests.publication.conftest import publish, set_publish_date

URL = "/oversight/dashboard"


def page(client, **args):
    r = client.get(URL, query_string=args)
    assert r.status_code == 200, r.text
    return r.text


def part(html: str, name: str) -> str:
    """The visible text of one numbered part of the dashboard (its <section id="dash-...">)."""
    m = re.search(rf'<section class="dash-part[^"]*" id="dash-{name}".*?</section>', html, re.S)
    assert m, f"no part {name}"
    return text_of(m.group(0))


def row(html: str, table_id: str, heading: str) -> str:
    """The text of the row whose header cell starts with `heading` in the table with that id."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    for tr in re.findall(r"<tr[^>]*>.*?</tr>", table, re.S):
        if text_of(tr).strip().startswith(heading):
            return tr
    raise AssertionError(f"no row {heading} in {table_id}")


def cells(tr: str) -> list[str]:
    return [text_of(c).strip() for c in re.findall(r"<t[dh][^>]*>.*?</t[dh]>", tr, re.S)]


def add_matter(code: str, name: str, section_code: str = "JCDD", ratio: str = "5") -> int:
    m = Matter(code=code, name=name, legal_basis="《劳动保障监察条例》", content="工资支付情况",
               ratio_percent=ratio, frequency=3, method="onsite", section_id=section(section_code).id)
    db.session.add(m)
    db.session.flush()
    return m.id


def approve_plan(year: int, items: list[tuple[int, int, str, str]], shortfall_reason: str = "") -> int:
    """An approved plan of JCDD: items are (matter id, rounds, ratio, reason)."""
    plan = AnnualPlan(section_id=section("JCDD").id, year=year, status="approved",
                      shortfall_reason=shortfall_reason, decided_by_id=user("supervisor").id)
    plan.items = [PlanItem(matter_id=m, rounds=r, ratio_percent=ratio, reason=why) for m, r, ratio, why in items]
    db.session.add(plan)
    db.session.flush()
    return plan.id


# --- Art 7 and Art 18 ------------------------------------------------------------------------


def test_a_matter_below_art7_is_flagged_with_the_plans_reason_and_an_unplanned_task_is_listed(app, login_as):
    world = build_world(app, planned_start=date(date.today().year, 1, 2))
    with app.app_context():
        year = db.session.get(Task, world.task_id).year
        wage = add_matter("JC-W-01", "工资支付情况专项检查")
        contract = add_matter("JC-C-01", "劳动合同签订情况检查")
        dispatch = add_matter("JC-D-01", "劳务派遣用工情况检查")
        approve_plan(year, [
            (wage, 2, "0.5", "本年度农民工工资专项整治任务重，只安排两次，比例按上级要求"),
            (contract, 3, "5", ""),
        ])
        db.session.add(TaskMatter(task_id=world.task_id, matter_id=wage))
        outside = Task(section_id=section("JCDD").id, year=year, name="上级交办劳务派遣专项检查",
                       organizer_id=user("staff_jc").id, out_of_plan=True,
                       out_of_plan_reason="市局临时交办，已报局领导同意")
        outside.matters = [TaskMatter(matter_id=dispatch)]
        db.session.add(outside)
        db.session.commit()
    full_draw(login_as("staff"), app, world.task_id)

    html = page(login_as("supervisor"), year=year)
    wage_row = cells(row(html, "matters-table", "JC-W-01"))
    assert wage_row[2:8] == ["2", "0.5%", "1", "0", "5／12", "41.67%"]  # 34 % of 12 drawn: ceil = 5
    assert "未达第七条要求" in wage_row[8]
    assert "每年计划 2 次，少于细则第七条规定的每年不少于 3 次" in wage_row[8]
    assert "本年度农民工工资专项整治任务重，只安排两次，比例按上级要求" in wage_row[8]
    contract_row = cells(row(html, "matters-table", "JC-C-01"))
    assert contract_row[4] == "0" and "符合" in contract_row[8]  # planned 3, none done yet: not flagged mid-year
    assert "row-below" in row(html, "matters-table", "JC-W-01")
    assert "row-below" not in row(html, "matters-table", "JC-C-01")
    # An unplanned matter of the section is flagged too.
    assert "未列入本年度已批准的抽查计划" in cells(row(html, "matters-table", "JC-D-01"))[8]

    outside_part = part(html, "outside")
    assert "上级交办劳务派遣专项检查" in outside_part
    assert "市局临时交办，已报局领导同意" in outside_part
    assert "劳务派遣用工情况检查" in outside_part  # the matter the plan does not cover
    assert "甲号工资支付专项抽查" not in outside_part  # the planned task is not listed

    summary = text_of(re.search(r'<ul class="dash-summary".*?</ul>', html, re.S).group(0))
    assert "2 个事项未达第七条要求" in summary and "1 个计划外抽查任务" in summary


def test_a_drawn_round_below_one_percent_is_flagged(app, login_as):
    world = build_world(app, n_targets=12, ratio="1", planned_start=date(date.today().year, 1, 2))
    with app.app_context():
        task = db.session.get(Task, world.task_id)
        year = task.year
        # 1 % of 12 rounds up to one target, 8.33 % of the pool: above Art 7's 1 %, below this plan's 10 %.
        wage = add_matter("JC-W-02", "工资支付情况")
        approve_plan(year, [(wage, 3, "10", "")])
        db.session.add(TaskMatter(task_id=world.task_id, matter_id=wage))
        db.session.commit()
    full_draw(login_as("staff"), app, world.task_id, digits="12345678901234567890")
    html = page(login_as("head_jc"), year=year)
    r = cells(row(html, "matters-table", "JC-W-02"))
    assert r[6:8] == ["1／12", "8.33%"]
    assert "一般对象实际抽取 1/12 户（8.33%，按全县同类型对象计），低于计划的 10%" in r[8]


# --- Art 9 and Art 10 ------------------------------------------------------------------------


def test_reports_on_time_late_and_overdue_and_an_overdue_rectification(app, login_as):
    drawn = build_drawn(app, login_as)
    today = date.today()
    with app.app_context():
        task = db.session.get(Task, drawn.task_id)
        year = task.year
        # The inspection was planned to end a month ago: positions without a record are overdue.
        task.planned_end = today - timedelta(days=30)
        db.session.commit()
    positions = sorted(drawn.team_of)
    late, on_time, *open_ = positions
    members = {}
    for p in (late, on_time):
        c = app.test_client()
        assert login(c, drawn.member(p)).status_code == 302
        members[p] = c
    # Ended 2026-03-03, submitted today: far past five working days; the record orders a
    # rectification whose deadline has passed, not re-checked (tracked from the record, Art 10).
    assert submit(members[late], drawn, late, rectify_deadline=(today - timedelta(days=3)).isoformat()).status_code == 302
    # Ended today, submitted today: on time; no rectification ordered.
    assert submit(members[on_time], drawn, on_time, ended=today.isoformat(), started=today.isoformat(),
                  result="未发现问题", handling="none", rectify_deadline="").status_code == 302

    html = page(login_as("supervisor"), year=year)
    assert cells(row(html, "reports-table", "按期提交"))[1] == "1"
    assert cells(row(html, "reports-table", "逾期提交"))[1] == "1"
    assert cells(row(html, "reports-table", "逾期未交"))[1] == str(len(open_))
    assert cells(row(html, "reports-table", "合计"))[1] == str(len(positions))
    late_rows = part(html, "reports")
    assert "2026-03-03" in late_rows  # the late report's end date is shown, its target is not
    for code, name in drawn.world.targets.items():
        assert code not in html and name not in html

    assert cells(row(html, "rectify-table", "未复查"))[1] == "1"
    assert cells(row(html, "rectify-table", "其中已过改正期限"))[1] == "1"
    overdue = re.search(r'<table[^>]*id="rectify-overdue".*?</table>', html, re.S).group(0)
    assert (today - timedelta(days=3)).isoformat() in overdue and f">{late}<" in overdue


def test_the_dashboard_reads_nothing_sealed(app, login_as):
    drawn = build_drawn(app, login_as)
    c = app.test_client()
    p = sorted(drawn.team_of)[0]
    assert login(c, drawn.member(p)).status_code == 302
    assert submit(c, drawn, p).status_code == 302
    supervisor = login_as("supervisor")
    with app.app_context():
        year = db.session.get(Task, drawn.task_id).year
        before = db.session.scalar(select(db.func.max(AccessLogEntry.seq)))
    page(supervisor, year=year)
    with app.app_context():
        actions = list(db.session.scalars(select(AccessLogEntry.action).where(AccessLogEntry.seq > before)))
    assert actions == ["oversight_dashboard_viewed"]  # one entry for the view, no sealed_read:*


# --- published results by category ------------------------------------------------------------


def test_published_results_are_counted_by_category_and_unpublished_ones_are_not(app, login_as):
    drawn = build_drawn(app, login_as)
    positions = sorted(drawn.team_of)
    for p, result in zip(positions, ("发现问题已责令改正", "未发现问题")):
        c = app.test_client()
        assert login(c, drawn.member(p)).status_code == 302
        over = {} if result != "未发现问题" else {"handling": "none", "rectify_deadline": ""}
        assert submit(c, drawn, p, result=result, **over).status_code == 302
    with app.app_context():
        year = db.session.get(Task, drawn.task_id).year
        town = Township(code="07", name="固墙镇")
        db.session.add(town)
        db.session.flush()
        for t in db.session.scalars(select(Target).where(Target.credit_code.in_(drawn.world.targets))):
            t.township_id = town.id
        db.session.commit()
    supervisor = login_as("supervisor")
    before = page(supervisor, year=year)
    # Before publication nothing says how many of the township's units were drawn.
    assert cells(row(before, "coverage-table", "固墙镇"))[1:3] == [str(len(drawn.world.targets)), "0"]
    assert cells(row(before, "results-table", "发现问题已责令改正"))[1] == "0"
    assert "另有 1 个已摇号未公开的任务" in part(before, "results")

    set_publish_date(app, drawn.task_id, date.today() - timedelta(days=1))
    publish(login_as, drawn.task_id)
    after = page(supervisor, year=year)
    assert cells(row(after, "results-table", "发现问题已责令改正"))[1] == "1"
    # Publication needs every record (SPEC §4): the others were submitted as 未发现问题 before it.
    assert cells(row(after, "results-table", "未发现问题"))[1] == str(len(positions) - 1)
    assert "已摇号未公开" not in part(after, "results")
    assert cells(row(after, "coverage-table", "固墙镇"))[1:3] == [str(len(drawn.world.targets)), str(len(positions))]


# --- Art 15 ---------------------------------------------------------------------------------


def test_a_year_without_training_is_red_and_a_year_with_a_session_is_not(app, login_as):
    this_year = date.today().year
    with app.app_context():
        rsj = section("JCDD").department_id
        s = TrainingSession(department_id=rsj, title="双随机抽查业务培训", date=date(this_year - 1, 6, 1),
                            section_id=section("JCDD").id, hours="2", trainer="市局专家", content="细则解读",
                            created_by_id=user("staff_jc").id)
        s.attendance = [TrainingAttendance(user_id=user("inspector_jc").id, name="inspector_jc",
                                           section_id=section("JCDD").id),
                        TrainingAttendance(name="外单位人员", affiliation="市场监管局")]
        db.session.add(s)
        db.session.commit()
    supervisor = login_as("supervisor")
    none_year = page(supervisor, year=this_year)
    flag = re.search(r'<p class="([^"]+)" id="training-flag">(.*?)</p>', none_year, re.S)
    assert flag.group(1) == "dash-flag-bad"
    assert "本年度尚未开展业务培训（细则第十五条要求每年至少1次）" in flag.group(2)
    held = page(supervisor, year=this_year - 1)
    flag = re.search(r'<p class="([^"]+)" id="training-flag">(.*?)</p>', held, re.S)
    assert flag.group(1) == "dash-flag-ok" and "已开展 1 次培训，参训 2 人" in flag.group(2)
    assert cells(row(held, "training-table", "参训人数"))[1] == "2"


# --- Art 19 ---------------------------------------------------------------------------------


def test_a_township_without_targets_is_highlighted(app, login_as):
    with app.app_context():
        rsj = section("JCDD").department_id
        town, empty, moved_only = (Township(code="01", name="城关乡"), Township(code="02", name="张明乡"),
                                   Township(code="03", name="汤庄乡"))
        db.session.add_all([town, empty, moved_only])
        db.session.flush()
        from tests.ceremony.conftest import credit_code
        for n in range(3):
            db.session.add(Target(department_id=rsj, credit_code=credit_code(), name=f"城关{n}厂", township_id=town.id))
        # A unit that moved away does not cover its township any more.
        db.session.add(Target(department_id=rsj, credit_code=credit_code(), name="已迁出厂", township_id=moved_only.id,
                              status="moved"))
        db.session.add(Target(department_id=rsj, credit_code=credit_code(), name="无乡镇厂"))
        db.session.commit()
    html = page(login_as("supervisor"))
    assert cells(row(html, "coverage-table", "城关乡"))[1] == "3"
    for name in ("张明乡", "汤庄乡"):
        tr = row(html, "coverage-table", name)
        assert "row-below" in tr and cells(tr)[1] == "0" and "名录库无检查对象" in text_of(tr)
    assert "row-below" not in row(html, "coverage-table", "城关乡")
    assert "另有 1 户未填写所属乡镇" in part(html, "coverage")
    assert "2 个乡镇名录库无检查对象" in text_of(html)


# --- charts ---------------------------------------------------------------------------------


def test_charts_are_inline_svg_with_a_title_description_and_a_table(app, login_as):
    with app.app_context():
        db.session.add(Township(code="01", name="城关乡"))
        add_matter("JC-W-03", "工资支付情况")
        db.session.commit()
    r = login_as("supervisor").get(URL)
    svgs = re.findall(r"<svg[^>]*>.*?</svg>", r.text, re.S)
    assert len(svgs) == 3  # ratios, reports, coverage (no published results yet: a sentence instead)
    for svg in svgs:
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
        assert "style=" not in svg and "<script" not in svg
    assert "细则第七条：每次不低于 1%" in svgs[0]
    assert 'id="matters-table"' in r.text and 'id="coverage-table"' in r.text
    assert "本年度还没有公开的抽查结果" in r.text


def test_the_picker_works_with_and_without_htmx(app, login_as):
    c = login_as("supervisor")
    year = date.today().year
    full = c.get(URL, query_string={"year": year - 1})
    assert full.status_code == 200 and "<html" in full.text and f"{year - 1} 年度" in full.text
    assert "HX-Request" in full.headers["Vary"]
    frag = c.get(URL, query_string={"year": year - 1}, headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "<html" not in frag.text
    assert 'id="dashboard"' in frag.text and 'name="year"' not in frag.text
    bad = c.get(URL, query_string={"year": "明年"})
    assert bad.status_code == 422
    assert "年度“明年”无法识别：请从列表中选择年度" in bad.text


# --- who sees what ----------------------------------------------------------------------------


def _section_id(app, code: str) -> int:
    with app.app_context():
        return db.session.execute(select(Section.id).where(Section.code == code)).scalar_one()


def test_heads_and_staff_see_their_own_section_and_supervisors_choose(app, login_as):
    jc, sb = _section_id(app, "JCDD"), _section_id(app, "SBG")
    with app.app_context():
        add_matter("JC-W-04", "劳动监察事项")
        add_matter("SB-01", "社会保险费缴纳情况", section_code="SBG")
        db.session.commit()
    head = page(login_as("head_jc"))
    assert "劳动监察事项" in head and "社会保险费缴纳情况" not in head
    assert 'name="section"' not in head  # nothing to choose: their own section only
    assert "劳动保障监察大队" in text_of(re.search(r'<h2 class="dash-scope">.*?</h2>', head, re.S).group(0))

    staff_sb = login_as("staff_sb")
    own = page(staff_sb)
    assert "社会保险费缴纳情况" in own and "劳动监察事项" not in own
    refused = staff_sb.get(URL, query_string={"section": jc})
    assert refused.status_code == 403 and "只能查看本科室的监管看板" in refused.text
    assert login_as("head_jc").get(URL, query_string={"section": sb}).status_code == 403

    supervisor = login_as("supervisor")
    everything = page(supervisor)
    assert "劳动监察事项" in everything and "社会保险费缴纳情况" in everything
    only_sb = page(supervisor, section=sb)
    assert "社会保险费缴纳情况" in only_sb and "劳动监察事项" not in only_sb
    # The discipline office reads the department's figures too (read-only: there is nothing to change).
    assert "社会保险费缴纳情况" in page(login_as("discipline"))


def test_other_departments_inspectors_and_anonymous_are_refused(app, login_as, client):
    jc = _section_id(app, "JCDD")
    other = login_as("staff_scj")
    r = other.get(URL, query_string={"section": jc})
    assert r.status_code == 403
    with app.app_context():
        denied = db.session.execute(
            select(AccessLogEntry.outcome, AccessLogEntry.username)
            .where(AccessLogEntry.action == "read:oversight.dashboard").order_by(AccessLogEntry.seq.desc())
        ).first()
    assert tuple(denied) == ("denied", "staff_scj")
    assert login_as("inspector").get(URL).status_code == 403
    anon = client.get(URL)
    assert anon.status_code == 302 and "/login" in anon.headers["Location"]


@pytest.mark.parametrize("who", ["admin"])
def test_the_administrator_has_no_dashboard(login_as, who):
    assert login_as(who).get(URL).status_code == 403
