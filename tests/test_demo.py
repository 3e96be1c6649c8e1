"""The demo county: a fresh instance loaded by the real `demo` CLI command.

The shared template instance already holds a small test organisation, so
this module builds its own empty instance, exactly as `flask init` would,
and loads the demo into it once.
"""
from __future__ import annotations

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
    Conflict,
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
def demo_app(tmp_path_factory):
    app = _fresh_instance(tmp_path_factory.mktemp("demo-instance"))
    result = _run_cli(app, "demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert "演示数据已载入" in result.output
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
        for m in (Department, Section, Township, User, Inspector, Matter, MatterVersion, Target, Conflict)
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
