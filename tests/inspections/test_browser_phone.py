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
