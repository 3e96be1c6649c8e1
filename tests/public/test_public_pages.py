"""Public pages (SPEC §6, Art 4, 5): no login, only the published fields, search and pagination."""
import re
from datetime import timedelta

from ssj.public import service
from tests.directories import builders


def test_public_matter_list_shows_active_matters_without_login(app, client):
    builders.matter(app, code_="JC-001", name="工资支付情况检查", ratio_percent="2.5", frequency=4, method="both")
    builders.matter(app, code_="JC-002", name="已暂停的事项", status="suspended")
    r = client.get("/public/matters")
    assert r.status_code == 200
    text = r.text
    for shown in ("JC-001", "工资支付情况检查", "《劳动保障监察条例》第十一条", "执行最低工资标准情况", "2.5%",
                  "每年 4 次", "现场检查、书面检查", "劳动保障监察大队"):
        assert shown in text, shown
    assert re.search(r"最近更新</dt><dd>\d{4}-\d{2}-\d{2}", text)
    assert "已暂停的事项" not in text
    assert "修改" not in text


def test_public_inspector_list_never_shows_private_fields(app, client):
    today = builders.bureau_today(app)
    expiry = today + timedelta(days=321)
    with app.app_context():
        linked = builders.user("inspector_jc")
        uid, username = linked.id, linked.username
    builders.inspector(app, "STAFF7788", "公开张三", cert_no="豫ZJ41160777", cert_expiry=expiry,
                       specialties="工资支付", user_id=uid)
    builders.inspector(app, "STAFF0002", "休假李四", status="leave")
    builders.inspector(app, "STAFF0003", "调离王五", status="left")
    builders.inspector(app, "STAFF0004", "过期赵六", cert_expiry=today - timedelta(days=1))
    text = client.get("/public/inspectors").text
    assert "公开张三" in text and "豫ZJ41160777" in text and "劳动保障监察大队" in text
    for secret in ("STAFF7788", expiry.isoformat(), expiry.strftime("%Y年"), "工资支付", username, "在岗"):
        assert secret not in text, secret
    for hidden in ("休假李四", "调离王五", "过期赵六"):
        assert hidden not in text, hidden


def test_public_field_lists_are_explicit():
    assert service.PUBLIC_INSPECTOR_FIELDS == ("name", "section", "department", "cert_no")
    assert "staff_no" not in service.PUBLIC_MATTER_FIELDS

    class Row:
        name, section, department, cert_no, staff_no, cert_expiry = "甲", "科", "局", "证", "工号", "到期"

    assert service.as_public([Row()], service.PUBLIC_INSPECTOR_FIELDS) == [
        {"name": "甲", "section": "科", "department": "局", "cert_no": "证"}
    ]


def test_public_search_by_name_and_certificate(app, client):
    builders.inspector(app, "A1", "陈立", cert_no="豫ZJ1001")
    builders.inspector(app, "A2", "周敏", cert_no="豫ZJ2002")
    r = client.get("/public/inspectors", query_string={"q": "陈"})
    assert "陈立" in r.text and "周敏" not in r.text
    r = client.get("/public/inspectors", query_string={"q": "zj2002"})
    assert "周敏" in r.text and "陈立" not in r.text
    r = client.get("/public/inspectors", query_string={"q": "不存在"})
    assert "名录中没有与“不存在”相符的执法检查人员" in r.text
    builders.matter(app, code_="SB-009", name="社会保险参保检查", section_code="SBG")
    assert "社会保险参保检查" in client.get("/public/matters", query_string={"q": "sb-009"}).text


def test_public_pages_paginate_and_serve_htmx_fragments(app, client):
    for n in range(27):
        builders.inspector(app, f"P{n:03d}", f"分页人员{n:02d}", cert_no=f"豫ZJP{n:03d}")
    first = client.get("/public/inspectors")
    assert "共 27 名执法检查人员" in first.text and "第 1 / 2 页" in first.text and "<html" in first.text
    assert "HX-Request" in first.headers.get("Vary", "")
    second = client.get("/public/inspectors", query_string={"page": 2}, headers={"HX-Request": "true"})
    assert "<html" not in second.text and "分页人员25" in second.text and "分页人员00" not in second.text


def test_public_pages_are_empty_politely(client):
    assert "抽查事项清单正在编制中" in client.get("/public/matters").text
    assert "执法检查人员名录正在编制中" in client.get("/public/inspectors").text
