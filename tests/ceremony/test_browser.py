"""The ceremony in real Chromium under the strict CSP: the organizer clicks through
the steps while the projector view, open in another tab, follows on its own
(htmx polling), and the record's print button comes alive (SPEC §3, §9)."""
from __future__ import annotations

import pytest

from ssj import create_app
from ssj.extensions import db
from tests.browser_support import sign_in
from tests.conftest import TEST_CONFIG
from tests.factories import PASSWORD

from .conftest import build_world

pytestmark = pytest.mark.browser


def test_the_projector_follows_the_ceremony_live(page, context, live_instance, live_server):
    app = create_app(dict(TEST_CONFIG), instance_path=str(live_instance))
    world = build_world(app, tag="屏")
    with app.app_context():
        db.engine.dispose()
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)

    sign_in(page, live_server, "staff_jc", PASSWORD)
    screen = context.new_page()
    screen.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    screen.goto(f"{live_server}/tasks/{world.task_id}/draw/screen")
    screen.get_by_text("等待组织人冻结本次可抽取的名单").wait_for()

    page.goto(f"{live_server}/tasks/{world.task_id}/draw")
    page.get_by_role("button", name="冻结名单，开始第 1 次抽取").click()
    screen.get_by_text("第 1 步已完成：名单已冻结").wait_for(timeout=15_000)

    page.get_by_role("button", name="生成服务器随机数并公示承诺").click()
    commitment = page.locator(".commitment").first.inner_text()
    screen.get_by_text("随机数承诺（掷骰前已公示）").wait_for(timeout=15_000)
    assert screen.locator(".screen-hash").inner_text() == commitment

    # Each witness confirms who they are with their own password on the ceremony screen (ssj-draw-v2).
    for username, digits in (("head_jc", "3 5 1 6 2 4 4 1 6 5"), ("discipline", "6 2 2 5 1 3 4 4 6 1")):
        page.get_by_label("见证人用户名").fill(username)
        page.get_by_label("见证人本人密码").fill(PASSWORD)
        page.get_by_label("掷骰得到的数字").fill(digits)
        page.get_by_role("button", name="见证人确认身份并录入数字").click()
        page.get_by_text(f"已录入见证人 {username}").wait_for()
    screen.get_by_text("6225134461").wait_for(timeout=15_000)

    page.get_by_role("button", name="开始抽取并封存结果").click()
    page.get_by_text("抽取完成，结果已加密封存").wait_for()
    screen.get_by_text("抽取完成，结果已加密封存").wait_for(timeout=15_000)
    assert "35162441656225134461" in screen.inner_text("body")
    assert not any(name in screen.inner_text("body") for name in world.targets.values())

    page.goto(f"{live_server}/tasks/{world.task_id}/draw/record")
    assert page.get_by_role("button", name="打印").is_visible()  # shown by the static script
    assert not csp_errors, csp_errors
