"""An inspector fills in and submits a record on a phone-sized screen (375 px), in a real
browser against a real server, under the strict CSP."""
from __future__ import annotations

import pytest

from ssj import create_app
from tests.conftest import TEST_CONFIG, login
from tests.browser_support import sign_in
from tests.factories import PASSWORD

from .conftest import build_drawn, record_url

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(live_instance):
    app = create_app(dict(TEST_CONFIG), instance_path=str(live_instance))

    def login_as(who: str):
        c = app.test_client()
        assert login(c, {"staff": "staff_jc"}.get(who, who)).status_code == 302
        return c

    drawn = build_drawn(app, login_as)
    with app.app_context():
        from ssj.extensions import db

        db.engine.dispose()
    return drawn


def test_an_inspector_submits_a_record_on_a_phone(seeded, live_server, browser):
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, "inspector_jc", PASSWORD)
    p = seeded.own_position()
    page.goto(live_server + record_url(seeded.task_id, p))
    assert seeded.name_of(p) in page.content()
    form = page.locator("form.record-form")
    box = form.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    page.get_by_label("现场检查", exact=True).check()
    page.get_by_label("检查开始日期").fill("2026-03-02")
    page.get_by_label("检查结束日期").fill("2026-03-03")
    page.get_by_label("工资支付情况").check()
    page.get_by_label("现场检查笔录").fill("查阅工资台账，未发现问题。")
    page.get_by_label("检查结果").select_option("未发现问题")
    page.get_by_role("button", name="提交检查记录").click()
    page.wait_for_load_state()
    assert "检查记录已提交" in page.content()
    assert "更正原因" in page.content()
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()


def test_an_inspector_fills_the_record_uploads_a_photo_and_submits_without_retyping(seeded, live_server, browser, tmp_path):
    """SPEC §9: the photo goes with the record, so nothing typed is lost on the way."""
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 2048)
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, "inspector_jc", PASSWORD)
    p = seeded.own_position()
    page.goto(live_server + record_url(seeded.task_id, p))
    page.get_by_label("现场检查", exact=True).check()
    page.get_by_label("检查开始日期").fill("2026-03-02")
    page.get_by_label("检查结束日期").fill("2026-03-03")
    page.get_by_label("工资支付情况").check()
    page.get_by_label("发现的问题").fill("3名职工工资低于最低工资标准")
    page.get_by_label("现场检查笔录").fill("查阅工资台账和考勤记录，询问职工2人。")
    page.get_by_label("检查结果").select_option("发现问题已责令改正")
    page.get_by_label("处理意见（细则第十条）").select_option("rectify")
    page.get_by_label("改正期限（责令改正时填写）").fill("2026-03-20")
    # The page invites a photo: it is chosen inside the record form, not in a second form.
    page.get_by_label("选择文件").set_input_files(str(photo))
    page.get_by_label("文件说明").fill("工资台账首页")
    page.get_by_role("button", name="提交检查记录").click()
    page.wait_for_load_state()
    html = page.content()
    assert "检查记录已提交" in html and "证据文件已加密保存" in html
    assert "现场照片.png" in html and "工资台账首页" in html
    # Everything typed before choosing the photo is in the submitted record.
    assert page.get_by_label("发现的问题").input_value() == "3名职工工资低于最低工资标准"
    assert page.get_by_label("现场检查笔录").input_value() == "查阅工资台账和考勤记录，询问职工2人。"
    assert "改正期限 2026-03-20" in html  # and the rectification is tracked (Art 10)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
