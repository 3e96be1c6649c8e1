"""The demo county: a fresh instance loaded by the real `demo` CLI command.

The shared template instance already holds a small test organisation, so
this module builds its own empty instance, exactly as `flask init` would,
and loads the demo into it once.
"""
from __future__ import annotations

import json

import re
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ssj import create_app
from ssj.auth.passwords import verify_password
from ssj.auth.roles import ROLE_NAMES
from ssj.creditcode import problem
from ssj.demo import DEMO_PASSWORD, demo_logins, generate_targets
from ssj.extensions import db
from ssj.models import (
    AccessLogEntry,
    AnnualPlan,
    Assignment,
    Conflict,
    EvidenceFile,
    FollowUp,
    InspectionRecord,
    PublishedTask,
    Task,
    Department,
    Inspector,
    Matter,
    MatterVersion,
    Section,
    Target,
    Township,
    User,
)
from ssj.models.directories import CONFLICT_KINDS, MATTER_METHODS
from ssj.models.draws import TASK_STATUSES

from .conftest import TEST_CONFIG, login


def _fresh_instance(path):
    from flask_migrate import upgrade

    from ssj.audit.service import ensure_head
    from ssj.keys import create_keys

    create_keys(path / "keys")
    app = create_app(dict(TEST_CONFIG), instance_path=str(path))
    with app.app_context():
        upgrade()
        ensure_head()
        db.session.commit()
    return app


def _run_cli(app, *args):
    # `flask` pushes an app context for every command; the test runner does not.
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, postgres_cluster):
    with pytest.MonkeyPatch.context() as mp:
        if postgres_cluster is not None:  # an empty database of its own, migrated like a new install
            postgres_cluster.execute("CREATE DATABASE ssj_demo")
            mp.setenv("SSJ_DATABASE_URL", postgres_cluster.url("ssj_demo"))
        app = _fresh_instance(tmp_path_factory.mktemp("demo-instance"))
        result = _run_cli(app, "demo", "--if-empty")
        assert result.exit_code == 0, result.output
        assert "演示数据已载入" in result.output
        app.extensions["test.demo_output"] = result.output
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def ctx(demo_app):
    with demo_app.app_context():
        yield
        db.session.rollback()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _counts() -> dict[str, int]:
    return {
        m.__name__: _count(m)
        for m in (Department, Section, Township, User, Inspector, Matter, MatterVersion, Target, Conflict,
                  AnnualPlan, Task, InspectionRecord, EvidenceFile, FollowUp, PublishedTask)
    }


def test_the_organisation_looks_like_a_county_bureau(ctx):
    depts = {d.code: d for d in db.session.scalars(select(Department))}
    assert depts["RSJ"].name == "商水县人力资源和社会保障局"
    assert depts["SCJ"].name == "商水县市场监督管理局"
    rsj_sections = {s.code: s.name for s in depts["RSJ"].sections}
    assert 5 <= len(rsj_sections) <= 8
    assert rsj_sections["JCDD"] == "劳动保障监察大队"
    assert rsj_sections["SBG"] == "社会保险股"
    assert {"JJ", "BGS"} <= set(rsj_sections)
    assert [s.name for s in depts["SCJ"].sections] == ["执法稽查科"]

    townships = {t.name: t.code for t in db.session.scalars(select(Township))}
    assert 18 <= len(townships) <= 25
    assert {"新城街道", "老城街道", "黄寨镇", "练集镇", "城关乡", "汤庄乡"} <= set(townships)
    assert all(code.startswith("411623") for code in townships.values())


def test_three_thousand_employers_with_valid_unique_credit_codes(ctx):
    targets = db.session.scalars(select(Target)).all()
    assert len(targets) == 3000
    codes = [t.credit_code for t in targets]
    assert len(set(codes)) == len(codes)
    bad = [(c, problem(c)) for c in codes if problem(c)]
    assert bad == []
    assert all(c[2:8] == "411623" for c in codes)
    prefixes = Counter(c[:2] for c in codes)
    assert set(prefixes) <= {"91", "92", "93", "51", "52"}
    assert prefixes["91"] > prefixes["92"] > prefixes["52"] > 0
    assert len({t.name for t in targets}) == len(targets), "employer names repeat"
    assert {t.department_id for t in targets} == {
        db.session.scalar(select(Department.id).where(Department.code == "RSJ"))
    }


def test_employers_mix_like_a_real_county(ctx):
    targets = db.session.scalars(select(Target)).all()
    n = len(targets)
    assert 0.5 <= sum(t.is_small_micro for t in targets) / n <= 0.7
    statuses = Counter(t.status for t in targets)
    assert statuses["operating"] / n > 0.85
    assert statuses["cancelled"] and statuses["revoked"] and statuses["moved"]
    special = [t for t in targets if t.is_special]
    assert 0 < len(special) < n * 0.15
    assert any(t.complaint_count >= 3 for t in targets)
    assert any(t.serious_violation for t in targets)
    assert {"C", "D"} <= {t.credit_grade for t in targets}
    assert len({t.industry for t in targets}) >= 8
    assert {"制造业", "建筑业", "批发和零售业", "住宿和餐饮业"} <= {t.industry for t in targets}
    # Every employer sits in a township and its address says which one (Art 19).
    for t in targets:
        assert t.township is not None
        assert t.address.startswith("商水县" + t.township.name), t.address
        assert t.legal_rep and re.fullmatch(r"1\d{10}|0394-\d{7}", t.contact), t.contact
    assert len({t.township_id for t in targets}) == _count(Township)


def test_every_demo_login_exists_with_the_role_it_claims(ctx):
    logins = demo_logins()
    assert len(logins) == len({u for u, _r, _w in logins}) >= 15
    users = {u.username: u for u in db.session.scalars(select(User))}
    for username, role_label, where in logins:
        user = users[username]
        assert user.enabled
        assert [ROLE_NAMES[r] for r in user.roles] == [role_label]
        assert where.endswith("·" + user.section.name)
        assert user.display_name != username
    # One shared argon2 hash of the demo password (hashed once, on purpose).
    hashes = {users[u].password_hash for u, _r, _w in logins}
    assert len(hashes) == 1 and verify_password(hashes.pop(), DEMO_PASSWORD)
    labels = {r for _u, r, _w in logins}
    assert labels == set(ROLE_NAMES.values())


@pytest.mark.parametrize("username", ["jc_staff", "leader", "jc_insp1", "scj_insp"])
def test_demo_accounts_sign_in_through_the_login_form(demo_app, username):
    client = demo_app.test_client()
    r = login(client, username, DEMO_PASSWORD)
    assert r.status_code == 302 and r.location.endswith("/todo")
    assert "待办" in client.get("/todo").text


def test_a_wrong_password_does_not_open_a_demo_account(demo_app):
    r = login(demo_app.test_client(), "admin", "Test-password-1")
    assert r.status_code == 200 and "用户名或密码错误" in r.text


def test_inspector_accounts_work_as_their_directory_entry(ctx):
    for username, staff_no in [("jc_insp1", "SS-JC-001"), ("jc_insp2", "SS-JC-002"),
                               ("sb_insp1", "SS-SB-001"), ("scj_insp", "SS-ZF-001")]:
        inspector = db.session.scalar(select(Inspector).where(Inspector.staff_no == staff_no))
        assert inspector.user is not None and inspector.user.username == username
        assert inspector.name == inspector.user.display_name
        assert inspector.section_id == inspector.user.section_id
        assert inspector.eligible_on(date.today())


def test_inspectors_include_expired_and_unavailable_ones(ctx):
    today = date.today()
    inspectors = db.session.scalars(select(Inspector)).all()
    assert 35 <= len(inspectors) <= 45
    expired = [i for i in inspectors if i.status == "active" and i.cert_expiry < today]
    assert len(expired) >= 2
    assert {i.status for i in inspectors} == {"active", "leave", "left"}
    eligible = [i for i in inspectors if i.eligible_on(today)]
    assert len(eligible) >= 0.75 * len(inspectors)
    assert all(re.fullmatch(r"SS-[A-Z]{2}-\d{3}", i.staff_no) for i in inspectors)
    assert all(re.fullmatch(r"豫周执字第411623\d{5}号", i.cert_no) for i in inspectors)
    assert len({i.cert_no for i in inspectors}) == len(inspectors)
    assert len({i.name for i in inspectors}) == len(inspectors)
    # Every section that keeps matters has inspectors to draw from.
    jc = db.session.scalar(select(Section).where(Section.code == "JCDD"))
    assert sum(1 for i in eligible if i.section_id == jc.id) >= 10
    topics = {t for i in inspectors for t in i.specialties.split("、")}
    assert {"劳动合同", "社会保险", "工资支付和最低工资"} <= topics


def test_matters_have_real_legal_bases_and_a_first_version(ctx):
    matters = db.session.scalars(select(Matter)).all()
    assert len(matters) >= 12
    bases = "\n".join(m.legal_basis for m in matters)
    # A law and one of its articles, within one citation (citations end at "；").
    for law in ["《中华人民共和国劳动合同法》[^；]*第七十四条", "《劳动保障监察条例》第十一条",
                "《禁止使用童工规定》", "《女职工劳动保护特别规定》", "《国务院关于职工工作时间的规定》",
                "《保障农民工工资支付条例》", "《最低工资规定》", "《中华人民共和国社会保险法》[^；]*第七十七条",
                "《人力资源市场暂行条例》", "《中华人民共和国民办教育促进法》"]:
        assert re.search(law, bases), law
    for m in matters:
        assert re.fullmatch(r"[A-Z]{2}-[A-Z]{2}-\d{3}", m.code)
        assert m.legal_basis.startswith("《")
        assert len(m.content_items) >= 2
        assert Decimal(m.ratio_percent) >= 1 and 3 <= m.frequency <= 4
        assert m.method in MATTER_METHODS and m.status == "active"
        assert m.version == 1
        assert [(v.version, v.change_kind) for v in m.versions] == [(1, "create")]
    sections_with_matters = {m.section.code for m in matters}
    assert {"JCDD", "SBG", "JYZX", "LDGX", "RLSC", "ZYNL", "ZFJC"} <= sections_with_matters
    assert Counter(m.ratio_percent for m in matters).most_common(2)[0][0] in {"3", "5"}


def test_declared_conflicts_name_their_reason(ctx):
    conflicts = db.session.scalars(select(Conflict)).all()
    assert len(conflicts) >= 3
    for c in conflicts:
        assert c.kind in CONFLICT_KINDS
        assert len(c.reason) >= 8
        assert c.target.status == "operating"
        assert c.declared_by is not None
    assert {c.kind for c in conflicts} == set(CONFLICT_KINDS)
    # An inspector account can see a conflict of its own in the demo.
    assert any(c.inspector.user and c.inspector.user.username == "jc_insp1" for c in conflicts)


def test_loading_is_recorded_in_the_access_log(ctx):
    entry = db.session.scalar(select(AccessLogEntry).where(AccessLogEntry.action == "demo_loaded"))
    assert entry is not None and entry.username == "cli"
    assert '"targets":3000' in entry.body


def test_demo_if_empty_twice_keeps_the_data(demo_app):
    with demo_app.app_context():
        before = _counts()
    result = _run_cli(demo_app, "demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert "演示数据已存在" in result.output
    assert "jc_staff" in result.output and DEMO_PASSWORD in result.output
    with demo_app.app_context():
        assert _counts() == before


def test_demo_without_if_empty_adds_nothing_twice(demo_app):
    with demo_app.app_context():
        before = _counts()
    result = _run_cli(demo_app, "demo")
    assert result.exit_code == 0, result.output
    with demo_app.app_context():
        assert _counts() == before


def test_generation_is_repeatable_and_scales_with_unique_codes():
    small = list(generate_targets(500))
    big = list(generate_targets(20_000))
    # A bigger load extends a smaller one: the same employers come first.
    assert big[:500] == small
    codes = [r["credit_code"] for r in big]
    assert len(set(codes)) == len(codes)
    assert len({r["name"] for r in big}) == len(big)
    assert all(problem(c) is None for c in codes[::97])


# ------------------------------------------------------------- the life cycle (issue #4)
# The draw's nonce is fresh at every load, so these tests find the drawn
# positions and units from the database instead of expecting particular ones.


def _task(stage: str, section: str = "JCDD") -> Task:
    return db.session.scalar(
        select(Task).join(Section, Task.section_id == Section.id).where(Task.status == stage, Section.code == section))


def _signed_in(demo_app, username: str):
    client = demo_app.test_client()
    assert login(client, username, DEMO_PASSWORD).status_code == 302
    return client


def current_app_request():
    """A request context: clock.today() reads the app's time zone, as the pages do."""
    from flask import current_app

    return current_app.test_request_context()


def _todo_item(page: str, title: str) -> str:
    """The <li> of the to-do page whose heading holds `title`."""
    for item in page.split("<li class=\"card\">")[1:]:
        if title in item.split("</li>")[0]:
            return item.split("</li>")[0]
    raise AssertionError(f"no to-do item {title!r}")


def test_the_cli_summary_mentions_the_tasks(demo_app):
    output = demo_app.extensions["test.demo_output"]
    assert re.search(r"tasks 8\b", output), output
    assert re.search(r"annual_plans [2-6]\b", output), output


def test_staff_see_a_task_in_every_stage_on_their_task_list(demo_app):
    page = _signed_in(demo_app, "jc_staff").get("/tasks").text
    for stage, label in TASK_STATUSES.items():
        if stage == "drawing":  # a ceremony half done: nobody leaves a task there
            continue
        assert label in page, label
    with demo_app.app_context():
        names = {t.section.code: t.name for t in db.session.scalars(select(Task))}
        mine = [t.name for t in db.session.scalars(select(Task).join(Section).where(Section.code == "JCDD"))]
    assert len(mine) == 6 and all(n in page for n in mine)
    # The 大队 co-organises every section's draw (Art 5, SPEC §3), so the 社会保险股 task is on its
    # list too; the 社会保险股's own staff see theirs and none of the 大队's.
    assert names["SBG"] in page
    sbg_page = _signed_in(demo_app, "sb_staff").get("/tasks").text
    assert names["SBG"] in sbg_page
    assert not any(n in sbg_page for n in mine)


def test_the_sections_plan_is_approved_and_one_task_is_out_of_plan(ctx):
    from ssj import clock

    jc = db.session.scalar(select(Section).where(Section.code == "JCDD"))
    with current_app_request():
        year = clock.today().year
    plan = db.session.scalar(select(AnnualPlan).where(AnnualPlan.section_id == jc.id, AnnualPlan.year == year))
    assert plan is not None and plan.status == "approved" and plan.decided_by.username == "leader"
    assert {p.section.code for p in db.session.scalars(
        select(AnnualPlan).where(AnnualPlan.year == year, AnnualPlan.status == "approved"))} == {"JCDD", "SBG"}
    assert plan.submitted_by.username == "jc_staff"
    # The one matter left out of the plan carries its reason (Art 7), and the task on it its own (Art 18).
    skipped = [i for i in plan.items if i.rounds == 0]
    assert len(skipped) == 1 and skipped[0].reason
    out = db.session.scalars(select(Task).where(Task.out_of_plan.is_(True))).all()
    assert len(out) == 1 and "细则第十八条" in out[0].out_of_plan_reason
    assert {tm.matter_id for tm in out[0].matters} == {skipped[0].matter_id}
    # Every task stands on its own section's approved plan of its year.
    for t in db.session.scalars(select(Task)):
        assert t.plan is not None and t.plan.status == "approved"
        assert (t.plan.section_id, t.plan.year) == (t.section_id, t.year)



def test_the_public_results_notice_lists_every_unit_with_result_and_handling(demo_app):
    with demo_app.app_context():
        notice = db.session.get(PublishedTask, _task("published").id)
        units = [(r.unit_name, r.result, r.handling) for r in notice.results]
        task_id, name = notice.task_id, notice.name
        others = [n.name for n in db.session.scalars(select(PublishedTask)) if n.task_id != task_id]
    client = demo_app.test_client()  # nobody signed in
    listing = client.get("/public/results")
    assert listing.status_code == 200 and name in listing.text
    assert others and all(o in listing.text for o in others)  # the 社会保险股's notice too
    assert f"/public/results/{task_id}" in listing.text
    page = client.get(f"/public/results/{task_id}").text
    assert len(units) >= 5
    for unit, result, handling in units:
        assert unit in page and result in page and handling in page
    results = {r for _u, r, _h in units}
    assert {"未发现问题", "发现问题已责令改正", "发现问题待后续处理（立案查处）"} <= results
    assert "未录入" not in results  # every drawn unit was inspected and recorded
    handlings = " ".join(h for _u, _r, h in units)
    assert "处罚决定书文号 商人社监罚决字" in handlings and "改正期限" in handlings
    assert "劳动保障监察建议书" in handlings


def test_the_published_bundle_verifies_with_the_standalone_verifier(demo_app, tmp_path):
    import json
    import subprocess
    import sys

    from ssj import verify

    with demo_app.app_context():
        task_id = _task("published").id
    r = demo_app.test_client().get(f"/public/results/{task_id}/bundle.json")
    assert r.status_code == 200
    bundle = json.loads(r.data)
    assert verify.verify(bundle) is None
    assert bundle["replacements"], "the demo's recusal should be in the bundle for the verifier to replay"
    assert bundle["format"] == "ssj-draw-v2" and bundle["attempt"] == 2
    # The redraw is public: the void attempt, what it drew, why, and who approved it.
    [void] = bundle["void_attempts"]
    assert void["attempt"] == 1 and void["teams"] and void["void_reason"] and void["approved_by"]
    # The teams are the final ones: the recusal's substitute is on the team.
    rep = bundle["replacements"][0]
    team = next(t for t in bundle["teams"] if t["target"] == rep["target"])
    assert rep["in"] in team["inspectors"] and rep["out"] not in team["inspectors"]
    path = tmp_path / "bundle.json"
    path.write_bytes(r.data)
    run = subprocess.run([sys.executable, "-m", "ssj.verify", str(path)], capture_output=True, text=True)
    assert run.returncode == 0 and "verified" in run.stdout, run.stdout + run.stderr
    # Someone who edits the notice's bundle is caught.
    bundle["entropy"] = bundle["entropy"][:-1] + str((int(bundle["entropy"][-1]) + 1) % 10)
    with pytest.raises(verify.Mismatch):
        verify.verify(bundle)


def test_the_published_task_has_its_follow_ups(ctx):
    from ssj import clock

    with current_app_request():
        today = clock.today()
    task = _task("published")
    rows = db.session.scalars(select(FollowUp).where(FollowUp.task_id == task.id)).all()
    rectify = [f for f in rows if f.deadline is not None]
    # One order re-checked and closed, one past its deadline and still open (Art 10).
    assert any(f.closed for f in rectify)
    assert any(not f.closed and f.deadline < today for f in rectify)
    assert len(rows) >= 4  # plus the penalty and the advisory letter, closed when issued
    assert task.publish_date < today and task.planned_end < task.publish_date


def test_the_inspecting_task_has_a_submitted_record_whose_photo_is_encrypted_at_rest(demo_app):
    from pathlib import Path

    from ssj.inspections import evidence
    from ssj.sealing import envelope
    from ssj.sealing.service import data_key

    with demo_app.app_context():
        task = _task("inspecting")
        states = {r.position: r.state for r in db.session.scalars(
            select(InspectionRecord).where(InspectionRecord.task_id == task.id))}
        assert "submitted" in states.values() and "draft" in states.values()
        row = db.session.scalars(select(EvidenceFile).where(EvidenceFile.task_id == task.id)
                                 .order_by(EvidenceFile.position)).first()
        assert states[row.position] == "submitted"
        stored = (Path(demo_app.instance_path) / "evidence" / row.stored_name).read_bytes()
        meta = evidence.meta_of(row)
        body = envelope.open_sealed(data_key(task.id), task.id, "evidence", row.id, stored)
        writer = db.session.scalars(
            select(User).join(Inspector, Inspector.user_id == User.id).join(Assignment, Assignment.inspector_id == Inspector.id)
            .where(Assignment.task_id == task.id, Assignment.position == row.position, Assignment.active.is_(True))
        ).first().username
        task_id, position, evidence_id = task.id, row.position, row.id
    # A real PNG, kept only as ciphertext: not its bytes, not its name.
    assert body.startswith(b"\x89PNG\r\n\x1a\n") and meta["filename"].endswith(".png")
    assert b"PNG" not in stored and b"IHDR" not in stored and b"IDAT" not in stored
    dump = _database_dump(demo_app)
    assert not _occurrences(dump, meta["filename"])
    assert not any(isinstance(cell, bytes) and body[33:97] in cell for cell in dump)  # image data
    # The inspector who took it downloads the same photo.
    client = _signed_in(demo_app, writer)
    r = client.get(f"/tasks/{task_id}/positions/{position}/evidence/{evidence_id}")
    assert r.status_code == 200 and r.data == body
    assert r.headers["Cache-Control"] == "no-store"


def test_the_section_heads_todo_shows_the_overdue_report_in_red(demo_app):
    with demo_app.app_context():
        inspecting, published = _task("inspecting").name, _task("published").name
    page = _signed_in(demo_app, "jc_head").get("/todo").text
    report = _todo_item(page, f"形成检查报告：{inspecting}")
    assert 'class="overdue"' in report
    assert 'class="overdue"' in _todo_item(page, f"复查逾期的责令改正：{published}")


def test_the_leaders_todo_lists_the_publication_waiting_for_approval(demo_app):
    with demo_app.app_context():
        task = _task("publishing")
        name, task_id = task.name, task.id
    page = _signed_in(demo_app, "leader").get("/todo").text
    item = _todo_item(page, f"审批公开：{name}")
    assert f"/tasks/{task_id}/publication" in item
    # The page it links to offers the approval with a password.
    publication_page = _signed_in(demo_app, "leader").get(f"/tasks/{task_id}/publication").text
    assert 'name="password"' in publication_page


def test_the_organizer_is_asked_to_request_publication_of_the_reported_task(demo_app):
    with demo_app.app_context():
        name = _task("reported").name
    page = _signed_in(demo_app, "jc_staff").get("/todo").text
    assert f"申请公开结果：{name}" in page
    assert "组织摇号：" in page  # the planned task of next month


def test_each_step_is_logged_as_the_person_whose_job_it_is(ctx):
    def who(action: str) -> set[str]:
        return set(db.session.scalars(select(AccessLogEntry.username).where(AccessLogEntry.action == action)))

    assert who("plan_submitted") == {"jc_staff", "sb_staff"} and who("plan_approved") == {"leader"}
    assert who("draw_sealed") == {"jc_staff", "sb_staff"}
    writers = who("inspection_record_submit")
    assert writers and all(re.fullmatch(r"[a-z]+_insp\d+", u) for u in writers)
    assert who("final_report_draft") == {"jc_staff", "sb_staff"}
    assert who("final_report_approve") == {"jc_head", "sb_head"}
    assert who("publication_requested") == {"jc_staff", "sb_staff"} and who("publication_approved") == {"leader"}
    witnesses = [json.loads(b) for b in db.session.scalars(
        select(AccessLogEntry.body).where(AccessLogEntry.action == "draw_witness_added"))]
    assert witnesses and all(w["objects"]["external"] == (w["objects"]["affiliation"] == "纪检监察室") for w in witnesses)
    # Each witness typed their own digits, signed in as themselves; never the organiser.
    assert all(w["username"] == w["objects"]["witness_username"] for w in witnesses)
    assert {w["username"] for w in witnesses}.isdisjoint({"jc_staff", "sb_staff"})


def test_the_access_log_verifies_after_the_demo(demo_app):
    result = _run_cli(demo_app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK")


def _database_dump(demo_app) -> list:
    """Every cell of every table but the target directory, from a copy of the database file
    (on PostgreSQL, read from the database itself)."""
    import shutil
    import sqlite3
    import tempfile
    from pathlib import Path

    from sqlalchemy import inspect, text

    with demo_app.app_context():
        if db.engine.dialect.name != "sqlite":
            tables = [t for t in inspect(db.engine).get_table_names() if t != "target"]
            cells = [cell for t in tables for row in db.session.execute(text(f'SELECT * FROM "{t}"')) for cell in row]
            db.session.remove()
            return cells
    src = Path(demo_app.instance_path) / "ssj.sqlite3"
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in ("", "-wal", "-shm"):
            if Path(str(src) + suffix).exists():
                shutil.copy(str(src) + suffix, Path(tmp) / (src.name + suffix))
        con = sqlite3.connect(Path(tmp) / src.name)
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return [cell for t in tables if t != "target" for row in con.execute(f'SELECT * FROM "{t}"') for cell in row]
        finally:
            con.close()


def _occurrences(cells: list, value: str) -> int:
    import json

    forms = {value, json.dumps(value)[1:-1]}
    n = 0
    for cell in cells:
        if isinstance(cell, bytes):
            n += sum(cell.count(f.encode("utf-8")) for f in forms)
        elif isinstance(cell, str):
            n += sum(cell.count(f) for f in forms)
    return n


def test_no_drawn_target_of_an_unpublished_task_is_in_the_database_in_plaintext(demo_app):
    from pathlib import Path

    from ssj.ceremony import service as ceremony
    from ssj.sealing.service import open_json

    with demo_app.app_context():
        drawn = []
        for task in db.session.scalars(select(Task).where(Task.status.in_(("sealed", "inspecting", "reported", "publishing")))):
            attempt = ceremony.sealed_attempt(task)
            result = open_json(task.id, "result", attempt.id, attempt.result_sealed)
            drawn += [t["target"] for t in result["teams"]]
        names = dict(db.session.execute(select(Target.credit_code, Target.name).where(Target.credit_code.in_(drawn))).all())
    assert len(drawn) >= 4 * 2 and len(names) == len(drawn)
    cells = _database_dump(demo_app)
    files = [p.read_bytes() for p in (Path(demo_app.instance_path) / "evidence").iterdir()]
    for code, name in names.items():
        assert not _occurrences(cells, code), f"a drawn credit code is in plaintext ({code[:4]}…)"
        assert not _occurrences(cells, name), "a drawn unit's name is in plaintext"
        assert not any(code.encode() in f or name.encode() in f for f in files)
    # The check would see one: the published task's units are public, and found.
    with demo_app.app_context():
        public = db.session.get(PublishedTask, _task("published").id).results[0].credit_code
    assert _occurrences(cells, public)


def test_the_discipline_office_finds_no_read_beyond_need_to_know_in_the_demo(demo_app):
    """Every step was taken by someone entitled to it, so the console flags none of them."""
    import json

    r = _signed_in(demo_app, "jijian").get("/discipline/flags")
    assert r.status_code == 200
    with demo_app.app_context():
        body = db.session.scalars(select(AccessLogEntry.body).where(AccessLogEntry.action == "oversight_flags_viewed")
                                  .order_by(AccessLogEntry.seq.desc())).first()
    counts = json.loads(body)["objects"]["counts"]
    assert counts["need_to_know"] == 0 and counts["denials"] == 0
    assert counts["publication"] == 7  # three requests and approvals, and the request still waiting


def test_the_bundle_that_skipped_a_sealed_tasks_targets_is_withheld(demo_app, tmp_path):
    """The 社会保险股's 巴村镇 round was drawn after the 监察大队's still-sealed sweep of the same
    township: its walk skipped the sweep's targets (Art 16), so its bundle waits for the sweep."""
    import json
    import subprocess
    import sys

    from ssj.sealing.service import open_json

    with demo_app.app_context():
        sweep = _task("sealed")
        skipping = db.session.scalars(
            select(Task).join(Section, Task.section_id == Section.id)
            .where(Task.status == "published", Section.code == "SBG", Task.name.contains("巴村镇"))
        ).one()
        notice = db.session.get(PublishedTask, skipping.id)
        assert notice.bundle_json == "" and notice.bundle_sealed
        held = open_json(skipping.id, "bundle", skipping.id, notice.bundle_sealed)
        sweep_id, skipping_id = sweep.id, skipping.id
    assert held["waits_for"] == [sweep_id]
    bundle = json.loads(held["text"])
    skipped = [x for s in bundle["strata"] for x in s["skipped"]]
    assert skipped and {x["by_task"] for x in skipped} == {sweep_id}
    client = demo_app.test_client()
    page = client.get(f"/public/results/{skipping_id}")
    assert page.status_code == 200 and "核验数据将在该任务结果公开后自动在此发布" in page.text
    assert client.get(f"/public/results/{skipping_id}/bundle.json").status_code == 404
    # What will be released verifies (the skips are checked as a walk; the sweep's bundle is not out yet).
    path = tmp_path / "held.json"
    path.write_text(held["text"], encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "ssj.verify", str(path)], capture_output=True, text=True)
    assert (run.returncode, run.stdout.strip()) == (0, "verified"), run.stdout + run.stderr

