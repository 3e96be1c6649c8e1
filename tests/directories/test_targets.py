"""Targets (Art 6, 7, 19): department scope, credit-code check, search, filters, htmx, pagination."""
from sqlalchemy import select

from ssj import creditcode
from ssj.extensions import db
from ssj.models import AccessLogEntry, Target
from tests.conftest import post, post_as_loaded

from . import builders

FORM = {
    "name": "商水县新建测试有限公司", "industry": "建筑业", "township_id": "", "address": "东城街道建设路 8 号",
    "legal_rep": "李四", "contact": "0394-5420001", "status": "operating", "complaint_count": "0",
    "credit_grade": "A",
}


def _targets(app):
    with app.app_context():
        return db.session.execute(select(Target.credit_code, Target.name)).all()


def test_staff_adds_a_target_with_a_valid_code(app, login_as):
    c = login_as("staff_jc")
    code = builders.code(1)
    r = post(c, "/targets/new", dict(FORM, credit_code=code.lower() + " ", is_small_micro="on"))
    assert r.status_code == 302
    assert "商水县新建测试有限公司" in c.get(r.location).text
    with app.app_context():
        t = db.session.execute(select(Target)).scalar_one()
        assert (t.credit_code, t.is_small_micro, t.department_id) == (code, True, builders.department("RSJ").id)


def test_invalid_credit_code_is_refused_with_the_reason_and_nothing_written(app, login_as):
    c = login_as("staff_jc")
    good = builders.code(2)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    r = post(c, "/targets/new", dict(FORM, credit_code=wrong))
    assert r.status_code == 422
    assert creditcode.problem(wrong) in r.text  # e.g. "校验位错误：最后一位应为 X，而不是 0"
    assert f"最后一位应为 {good[-1]}" in r.text
    assert "商水县新建测试有限公司" in r.text and "东城街道建设路 8 号" in r.text  # nothing typed is lost
    r = post(c, "/targets/new", dict(FORM, credit_code="91411623MA12345"))
    assert r.status_code == 422 and "应为18位，此处为15位" in r.text
    r = post(c, "/targets/new", dict(FORM, credit_code="91411623MA1234567O"))
    assert r.status_code == 422 and "不允许的字符" in r.text
    assert _targets(app) == []


def test_duplicate_code_in_the_department_is_refused(app, login_as):
    builders.target(app, 3)
    r = post(login_as("staff_jc"), "/targets/new", dict(FORM, credit_code=builders.code(3)))
    assert r.status_code == 422 and "已在本部门检查对象名录库中" in r.text
    assert len(_targets(app)) == 1


def test_another_department_cannot_see_targets(app, login_as):
    tid = builders.target(app, 4, name="商水县保密测试有限公司")
    c = login_as("staff_scj")
    assert c.get(f"/targets/{tid}").status_code == 404
    assert c.get(f"/targets/{tid}/edit").status_code == 404
    assert post_as_loaded(c, f"/targets/{tid}/edit", dict(FORM, name="被改掉")).status_code == 404
    assert "保密测试" not in c.get("/targets").text
    assert "保密测试" not in c.get("/targets", query_string={"q": builders.code(4)[:12]}).text
    assert _targets(app)[0][1] == "商水县保密测试有限公司"


def test_supervisor_reads_but_cannot_edit(app, login_as):
    tid = builders.target(app, 5)
    c = login_as("supervisor")
    assert c.get(f"/targets/{tid}").status_code == 200
    assert post_as_loaded(c, f"/targets/{tid}/edit", dict(FORM, name="被改掉")).status_code == 403
    assert _targets(app)[0][1] == "商水县测试005有限公司"


def test_edit_keeps_the_code_and_logs_the_target_only_by_its_hmac(app, login_as):
    tid = builders.target(app, 6)
    c = login_as("staff_jc")
    r = post_as_loaded(c, f"/targets/{tid}/edit", dict(FORM, credit_code=builders.code(99), complaint_count="5"))
    assert r.status_code == 302
    page = c.get(r.location).text
    assert "特殊监管对象" in page and "被投诉举报 5 次" in page
    r = post_as_loaded(c, f"/targets/{tid}/edit", dict(FORM, complaint_count="很多"))
    assert r.status_code == 422 and "被投诉举报次数应为 0 或正整数" in r.text
    with app.app_context():
        t = db.session.get(Target, tid)
        assert t.credit_code == builders.code(6) and t.complaint_count == 5
        from ssj.audit import sealed_ref

        ref = sealed_ref(t.credit_code, task_id=None)
        entries = db.session.execute(select(AccessLogEntry.action, AccessLogEntry.body)).all()
    mine = {action: body for action, body in entries if action.startswith("target_")}
    assert {"target_updated", "target_read", "target_update_rejected"} <= set(mine)
    for action, body in entries:
        assert builders.code(6) not in body, action
        assert f'"target_id":{tid}' not in body.replace(" ", ""), action
    assert ref in mine["target_updated"] and ref in mine["target_read"]


def test_search_by_name_substring_and_by_code_prefix(app, login_as):
    builders.target(app, 10, name="商水县宏达建筑有限公司")
    builders.target(app, 11, name="商水县金利食品有限公司")
    builders.target(app, 12, name="周口市宏达物流有限公司", credit_code=builders.code(12, prefix="92411623MB"))
    c = login_as("staff_jc")
    r = c.get("/targets", query_string={"q": "宏达"})
    assert "宏达建筑" in r.text and "宏达物流" in r.text and "金利食品" not in r.text
    r = c.get("/targets", query_string={"q": "92411623mb"})  # a code prefix, typed in lower case
    assert "宏达物流" in r.text and "宏达建筑" not in r.text and "共 1 个检查对象" in r.text
    r = c.get("/targets", query_string={"q": builders.code(11)})
    assert "金利食品" in r.text and "共 1 个检查对象" in r.text
    r = c.get("/targets", query_string={"q": "4116"})  # not the start of any code
    assert "没有符合条件的检查对象" in r.text
    r = c.get("/targets", query_string={"q": "100%_"})  # LIKE wildcards are literal
    assert "没有符合条件的检查对象" in r.text
    builders.target(app, 13, name="商水县ABC电子科技有限公司")
    r = c.get("/targets", query_string={"q": "abc电子"})  # Latin letters match in either case, on both databases
    assert "ABC电子科技" in r.text and "共 1 个检查对象" in r.text
    builders.target(app, 14, name="商水县Ärzte诊所")
    r = c.get("/targets", query_string={"q": "Ärzte"})  # a non-ASCII capital, typed as registered
    assert "Ärzte诊所" in r.text and "共 1 个检查对象" in r.text


def test_filters(app, login_as):
    east = builders.township(app, "东城街道", "001")
    west = builders.township(app, "新城街道", "002")
    builders.target(app, 20, name="甲单位", township_id=east, is_small_micro=True, industry="建筑业")
    builders.target(app, 21, name="乙单位", township_id=west, credit_grade="D", status="cancelled")
    builders.target(app, 22, name="丙单位", township_id=west, serious_violation=True)
    c = login_as("staff_jc")

    def names(**args):
        text = c.get("/targets", query_string=args, headers={"HX-Request": "true"}).text
        return {n for n in ("甲单位", "乙单位", "丙单位") if n in text}

    assert names(township=east) == {"甲单位"}
    assert names(township=west) == {"乙单位", "丙单位"}
    assert names(size="small") == {"甲单位"}
    assert names(size="other") == {"乙单位", "丙单位"}
    assert names(status="cancelled") == {"乙单位"}
    assert names(special="yes") == {"乙单位", "丙单位"}
    assert names(special="no") == {"甲单位"}
    assert names(industry="建筑业") == {"甲单位"}
    assert names(township=west, special="yes", q="丙") == {"丙单位"}
    assert names(status="nonsense") == {"甲单位", "乙单位", "丙单位"}  # an unknown value filters nothing
    page = c.get("/targets").text
    assert '<option value="建筑业"' in page and "东城街道" in page


def test_pagination_without_javascript(app, login_as):
    for n in range(30):
        builders.target(app, 100 + n, name=f"分页测试{n:02d}公司")
    c = login_as("staff_jc")
    first = c.get("/targets", query_string={"q": "分页测试"}).text
    assert "共 30 个检查对象" in first and "第 1 / 2 页" in first
    assert "分页测试00公司" in first and "分页测试24公司" in first and "分页测试25公司" not in first
    assert 'href="/targets?q=%E5%88%86%E9%A1%B5%E6%B5%8B%E8%AF%95&amp;page=2"' in first  # keeps the search
    second = c.get("/targets", query_string={"q": "分页测试", "page": "2"}).text
    assert "分页测试25公司" in second and "分页测试29公司" in second and "分页测试00公司" not in second
    assert "第 2 / 2 页" in second
    beyond = c.get("/targets", query_string={"q": "分页测试", "page": "99"}).text
    assert "分页测试29公司" in beyond  # a page past the end shows the last page
    assert "分页测试00公司" in c.get("/targets", query_string={"q": "分页测试", "page": "x"}).text


def test_pagination_of_a_filtered_list(app, login_as):
    for n in range(27):
        builders.target(app, 200 + n, name=f"小微{n:02d}", is_small_micro=True)
    builders.target(app, 300, name="大型企业")
    c = login_as("staff_jc")
    second = c.get("/targets", query_string={"size": "small", "page": "2"}).text
    assert "共 27 个检查对象" in second and "小微25" in second and "小微26" in second and "大型企业" not in second


def test_htmx_gets_only_the_results_fragment(app, login_as):
    builders.target(app, 30, name="碎片测试公司")
    c = login_as("staff_jc")
    full = c.get("/targets", query_string={"q": "碎片"})
    assert "<html" in full.text and 'hx-get="/targets"' in full.text and 'id="results"' in full.text
    assert "HX-Request" in full.headers.get("Vary", "")
    part = c.get("/targets", query_string={"q": "碎片"}, headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "<html" not in part.text and "<form" not in part.text
    assert part.text.lstrip().startswith('<div id="results">') and "碎片测试公司" in part.text
    assert "HX-Request" in part.headers.get("Vary", "")
    restore = c.get("/targets", query_string={"q": "碎片"},
                    headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text  # the back button after the history cache is gone


def test_empty_directory_says_what_to_do_first(login_as):
    page = login_as("staff_jc").get("/targets").text
    assert "检查对象名录库还是空的" in page and "添加检查对象" in page
    page = login_as("supervisor").get("/targets").text
    assert "请由科室工作人员先录入或导入检查对象" in page


def test_import_export_links_follow_the_imports_endpoints(app, login_as):
    page = login_as("staff_jc").get("/targets").text
    for endpoint, url in (("imports.upload", "/imports/targets"), ("imports.export", "export")):
        present = endpoint in app.view_functions
        if present:
            with app.test_request_context():
                from flask import url_for

                url = url_for(endpoint, kind="targets")
        assert (f'href="{url}"' in page) == present, endpoint


def test_an_edit_form_opened_before_an_import_changed_the_target_is_refused(app, login_as):
    from tests.conftest import loaded_version
    from tests.imports.conftest import headers, target_row, upload, xlsx

    from ssj.models import Township

    with app.app_context():
        db.session.add(Township(code="01", name="东城街道"))
        db.session.commit()
    c = login_as("staff_jc")
    r = upload(c, "targets", xlsx(headers("targets"), [target_row(1)]))
    assert r.status_code == 303
    with app.app_context():
        tid = db.session.execute(select(Target.id)).scalar_one()
    url = f"/targets/{tid}/edit"
    stale = loaded_version(c, url)
    assert upload(c, "targets", xlsx(headers("targets"), [target_row(1, 单位名称="导入改的名称")])).status_code == 303
    r = post(c, url, dict(FORM, name="表单改的名称", row_version=stale))
    assert r.status_code == 409 and "导入改的名称" in r.text
