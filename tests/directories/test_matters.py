"""Matters (Art 4): own-section editing, versions with field-by-field diffs, Art 7 checks."""
import json

from sqlalchemy import func, select

from ssj.extensions import db
from ssj.models import Matter, MatterVersion
from tests.conftest import post, post_as_loaded

from . import builders

FORM = {
    "code": "JC-010", "name": "劳动合同签订情况检查", "legal_basis": "《劳动合同法》第十条",
    "content": "劳动合同签订情况\n劳务派遣用工情况", "ratio_percent": "2.5", "frequency": "3",
    "method": "both", "status": "active",
}


def _matter(app, matter_id):
    with app.app_context():
        m = db.session.get(Matter, matter_id)
        versions = [(v.version, v.change_kind, json.loads(v.changes_json), v.changed_by_id) for v in m.versions]
        return {f: getattr(m, f) for f in ("code", "name", "ratio_percent", "frequency", "version", "section_id")}, versions


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_staff_creates_a_matter_for_their_own_section(app, login_as):
    c = login_as("staff_jc")
    r = post(c, "/matters/new", FORM)
    assert r.status_code == 302
    page = c.get(r.location).text
    assert "劳动合同签订情况检查" in page and "劳务派遣用工情况" in page and "2.5%" in page
    with app.app_context():
        m = db.session.execute(select(Matter)).scalar_one()
        assert m.section_id == builders.section("JCDD").id
        assert (m.version, m.ratio_percent, m.frequency) == (1, "2.5", 3)
        v = m.versions[0]
        assert v.change_kind == "create" and v.changed_by.username == "staff_jc"


def test_editing_creates_a_version_with_the_changed_fields_only(app, login_as):
    mid = builders.matter(app, ratio_percent="1", frequency=3)
    c = login_as("staff_jc")
    form = dict(FORM, code="JC-001", name="工资支付情况检查", legal_basis="《劳动保障监察条例》第十一条",
                content="支付劳动者工资情况\n执行最低工资标准情况\n加班费支付情况", ratio_percent="3", frequency="4",
                method="onsite")
    r = post_as_loaded(c, f"/matters/{mid}/edit", form)
    assert r.status_code == 302
    fields, versions = _matter(app, mid)
    assert fields["version"] == 2 and fields["ratio_percent"] == "3" and fields["frequency"] == 4
    version, kind, changes, by = versions[0]
    assert (version, kind) == (2, "update")
    assert set(changes) == {"content", "ratio_percent", "frequency"}
    assert changes["ratio_percent"] == ["1", "3"] and changes["frequency"] == [3, 4]
    history = c.get(f"/matters/{mid}/versions").text
    assert "第 2 版" in history and "staff_jc" in history
    assert "<del>1%</del>" in history and "<ins>3%</ins>" in history
    assert "<ins>加班费支付情况</ins>" in history


def test_saving_without_changes_adds_no_version(app, login_as):
    mid = builders.matter(app)
    c = login_as("staff_jc")
    form = dict(code="JC-001", name="工资支付情况检查", legal_basis="《劳动保障监察条例》第十一条",
                content="支付劳动者工资情况\n执行最低工资标准情况", ratio_percent="2.0", frequency="3",
                method="onsite", status="active")
    r = post_as_loaded(c, f"/matters/{mid}/edit", form)
    assert r.status_code == 302
    assert "没有需要保存的修改" in c.get(r.location).text
    assert _matter(app, mid)[0]["version"] == 1


def test_another_section_cannot_edit_and_nothing_changes(app, login_as):
    mid = builders.matter(app, section_code="JCDD")
    c = login_as("staff_sb")  # 社会保险股, same department
    assert c.get(f"/matters/{mid}").status_code == 200  # may read
    assert "修改</a>" not in c.get(f"/matters/{mid}").text
    assert c.get(f"/matters/{mid}/edit").status_code == 403
    r = post_as_loaded(c, f"/matters/{mid}/edit", dict(FORM, code="JC-001", name="被改掉的名称"))
    assert r.status_code == 403
    fields, versions = _matter(app, mid)
    assert fields["name"] == "工资支付情况检查" and fields["version"] == 1 and len(versions) == 1


def test_section_head_edits_own_sections_matter(app, login_as):
    mid = builders.matter(app)
    c = login_as("head_jc")
    r = post_as_loaded(c, f"/matters/{mid}/edit", dict(FORM, code="JC-001"))
    assert r.status_code == 302
    assert _matter(app, mid)[0]["name"] == FORM["name"]


def test_supervisor_reads_but_cannot_edit(app, login_as):
    mid = builders.matter(app)
    c = login_as("supervisor")
    assert c.get(f"/matters/{mid}").status_code == 200
    assert c.get(f"/matters/{mid}/versions").status_code == 200
    assert post_as_loaded(c, f"/matters/{mid}/edit", dict(FORM, code="JC-001")).status_code == 403
    assert c.get("/matters/new").status_code == 403


def test_another_department_gets_not_found(app, login_as):
    mid = builders.matter(app)
    c = login_as("staff_scj")
    assert c.get(f"/matters/{mid}").status_code == 404
    assert c.get(f"/matters/{mid}/versions").status_code == 404
    assert post_as_loaded(c, f"/matters/{mid}/edit", dict(FORM, code="JC-001")).status_code == 404
    assert "工资支付情况检查" not in c.get("/matters").text


def test_inspector_and_admin_cannot_open_the_matter_list(login_as):
    assert login_as("inspector").get("/matters").status_code == 403
    assert login_as("admin").get("/matters").status_code == 403


def test_bad_ratio_is_refused_with_a_reason_and_keeps_the_input(app, login_as):
    c = login_as("staff_jc")
    for ratio, reason in [
        ("abc", "不是有效的数字"), ("0", "应大于 0 且不超过 100"), ("101", "应大于 0 且不超过 100"),
        ("-1", "不是有效的数字"), ("1.234", "最多保留 2 位小数"), ("1e2", "不是有效的数字"), ("", "请填写抽查比例"),
    ]:
        r = post(c, "/matters/new", dict(FORM, ratio_percent=ratio))
        assert r.status_code == 422, ratio
        assert reason in r.text, ratio
        assert "劳动合同签订情况检查" in r.text  # what was typed is still there
    assert _count(app, Matter) == 0 and _count(app, MatterVersion) == 0


def test_ratio_below_one_percent_needs_an_explicit_confirmation(app, login_as):
    c = login_as("staff_jc")
    r = post(c, "/matters/new", dict(FORM, ratio_percent="0.5"))
    assert r.status_code == 422
    assert "低于细则第七条规定的 1%" in r.text and 'name="accept_low_ratio"' in r.text
    assert _count(app, Matter) == 0
    r = post(c, "/matters/new", dict(FORM, ratio_percent="0.5", accept_low_ratio="on"))
    assert r.status_code == 302
    page = c.get(r.location).text
    assert "低于细则第七条规定的 1%" in page  # the warning stays visible on the matter


def test_frequency_below_three_saves_with_a_warning(app, login_as):
    c = login_as("staff_jc")
    r = post(c, "/matters/new", dict(FORM, frequency="2"))
    assert r.status_code == 302
    assert "少于细则第七条规定的每年 3 次" in c.get(r.location).text
    for bad in ("0", "x", "2.5"):
        r = post(c, "/matters/new", dict(FORM, code="JC-011", frequency=bad))
        assert r.status_code == 422 and "抽查频次应为不小于 1 的整数" in r.text


def test_duplicate_code_and_missing_fields_are_named(app, login_as):
    builders.matter(app, code_="JC-010")
    c = login_as("staff_jc")
    r = post(c, "/matters/new", FORM)
    assert r.status_code == 422 and "事项编码 JC-010 已被其他事项使用" in r.text
    r = post(c, "/matters/new", dict(FORM, code="JC-020", name="", legal_basis="", content=" \n "))
    assert r.status_code == 422
    assert "请填写事项名称" in r.text and "请填写抽查依据" in r.text and "请至少填写一项抽查内容" in r.text
    assert _count(app, Matter) == 1


def test_list_searches_by_code_and_name_and_filters(app, login_as):
    builders.matter(app, code_="JC-001", name="工资支付情况检查")
    builders.matter(app, code_="SB-001", name="社会保险参保缴费检查", section_code="SBG", status="suspended")
    c = login_as("staff_sb")
    assert "SB-001" in c.get("/matters?q=sb-0").text and "JC-001" not in c.get("/matters?q=sb-0").text
    r = c.get("/matters", query_string={"q": "工资"})
    assert "JC-001" in r.text and "SB-001" not in r.text
    with app.app_context():
        sbg = builders.section("SBG").id
    r = c.get("/matters", query_string={"section": sbg})
    assert "SB-001" in r.text and "JC-001" not in r.text
    r = c.get("/matters", query_string={"status": "active"})
    assert "JC-001" in r.text and "SB-001" not in r.text
    assert "没有符合条件的抽查事项" in c.get("/matters?q=不存在的事项").text


def test_empty_matter_list_says_what_to_do_first(login_as):
    page = login_as("staff_jc").get("/matters").text
    assert "本部门还没有抽查事项" in page and "新建抽查事项" in page


def test_a_matter_saved_over_a_colleagues_newer_save_is_refused_showing_what_changed(app, login_as):
    from tests.conftest import loaded_version

    mid = builders.matter(app, ratio_percent="1", frequency=3)
    me, colleague = login_as("staff_jc"), login_as("head_jc")
    url = f"/matters/{mid}/edit"
    stale = loaded_version(me, url)  # both open the form at the same version
    assert post_as_loaded(colleague, url, dict(FORM, code="JC-001", name="同事改的名称")).status_code == 302
    r = post(me, url, dict(FORM, code="JC-001", name="我改的名称", row_version=stale))
    assert r.status_code == 409
    assert "别人已经保存了新的内容" in r.text and "同事改的名称" in r.text and "我改的名称" in r.text
    fields, versions = _matter(app, mid)
    assert fields["name"] == "同事改的名称" and fields["version"] == 2  # the refused save wrote nothing
    from ssj.models import AccessLogEntry

    with app.app_context():
        refused = db.session.execute(select(AccessLogEntry.body).where(AccessLogEntry.outcome == "refused")).scalars().all()
    assert [json.loads(b)["reason"] for b in refused] == ["stale_version"]
    # the page now carries the current version: saving again, knowingly, goes through
    assert post_as_loaded(me, url, dict(FORM, code="JC-001", name="我改的名称")).status_code == 302
