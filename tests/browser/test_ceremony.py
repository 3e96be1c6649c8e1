"""The whole draw ceremony in real Chromium: two witnesses enter their own digits — one
signed in on their own device, one re-entering their password on the ceremony screen —
the organiser cannot type them, and the sealed draw record says who entered what; then
an inspector opens their assignment (SPEC §3, §4; Art 5, 6, 9, 12)."""
import re

from ssj import create_app
from tests.browser_support import sign_in
from tests.ceremony.conftest import build_world, entropy_such_that, jc01_on_some_not_all
from tests.conftest import TEST_CONFIG
from tests.factories import PASSWORD


def _world(instance):
    app = create_app(dict(TEST_CONFIG), instance_path=str(instance))
    return app, build_world(app)


def _digits(app, task_id) -> str:
    """Dice for which the draw fills every team and puts inspector_jc on some teams but not all
    (with random nonces a fixed throw could, rarely, leave the last team short under the cap)."""
    digits = entropy_such_that(app, task_id, jc01_on_some_not_all)
    with app.app_context():
        from ssj.extensions import db

        db.engine.dispose()
    return digits


def test_ceremony_with_two_witnesses_entering_their_own_digits(browser, live_instance, live_server):
    app, world = _world(live_instance)
    base = live_server
    staff = browser.new_context(locale="zh-CN").new_page()
    sign_in(staff, base, "staff_jc", PASSWORD)
    staff.goto(f"{base}/tasks/{world.task_id}/draw")

    # The projector view opens in a window of its own, for the projector, and follows the steps.
    with staff.context.expect_page() as opened:
        staff.get_by_role("link", name=re.compile("投影大屏")).click()
    screen = opened.value
    screen.wait_for_selector("#screen")
    assert screen.evaluate("window.opener !== null"), "opened by the page's link, not as a navigation"
    assert staff.url.endswith(f"/tasks/{world.task_id}/draw"), "the ceremony page stays where it was"

    # 1. Freeze the pools: sizes and hashes are public.
    staff.get_by_role("button", name=re.compile("冻结名单")).click()
    assert "12" in staff.content()
    # 2. The nonce commitment is shown before any entropy can be entered.
    assert staff.get_by_label("掷骰得到的数字").count() == 0
    staff.get_by_role("button", name="生成服务器随机数并公示承诺").click()
    commitment = staff.get_by_label("随机数承诺值").inner_text().replace(" ", "")
    assert re.fullmatch(r"[0-9a-f]{64}", commitment)
    digits = _digits(app, world.task_id)

    # 3a. The organiser cannot type digits in a witness's name, not even with their own password.
    staff.get_by_label("见证人用户名").fill("staff_jc")
    staff.get_by_label("见证人本人密码").fill(PASSWORD)
    staff.get_by_label("掷骰得到的数字").fill(digits[:10])
    staff.get_by_role("button", name="见证人确认身份并录入数字").click()
    assert "不能作为见证人" in staff.locator(".flash-error").inner_text()

    # 3b. The discipline office's witness, signed in on their own device, enters their dice,
    # after checking the commitment against the projector.
    jj = browser.new_context(locale="zh-CN").new_page()
    sign_in(jj, base, "discipline", PASSWORD)
    jj.goto(f"{base}/tasks/{world.task_id}/draw")
    jj.get_by_role("link", name="我是见证人：录入我的数字").click()
    assert jj.get_by_label("随机数承诺值").inner_text().replace(" ", "") == commitment
    jj.get_by_label("我掷骰得到的数字").fill(" ".join(digits[:10]))
    jj.get_by_role("button", name="录入我的数字").click()
    assert "已录入您的 10 位数字" in jj.content()
    screen.get_by_text(digits[:10]).wait_for(timeout=10_000)  # the projector shows it within a poll

    # 3c. A colleague of the section comes to the ceremony screen and types their own password.
    staff.reload()
    staff.get_by_label("见证人用户名").fill("head_jc")
    staff.get_by_label("见证人本人密码").fill("wrong-password-1")
    staff.get_by_label("掷骰得到的数字").fill(digits[10:])
    staff.get_by_role("button", name="见证人确认身份并录入数字").click()
    assert "见证人身份确认失败" in staff.locator(".flash-error").inner_text()
    assert staff.get_by_label("见证人本人密码").input_value() == "", "a password is never echoed back"
    staff.get_by_label("见证人本人密码").fill(PASSWORD)
    staff.get_by_role("button", name="见证人确认身份并录入数字").click()
    assert "已录入见证人 head_jc（劳动保障监察大队）本人确认的 10 位数字" in staff.content()

    # 4. Draw and seal; the record shows who entered which digits, how, and when.
    staff.get_by_role("button", name="开始抽取并封存结果").click()
    screen.get_by_text("抽取完成，结果已加密封存").wait_for(timeout=10_000)
    staff.get_by_role("link", name="打开抽取记录并打印").click()
    record = staff.content()
    assert commitment in record.replace(" ", "")
    rows = staff.locator("table.witnesses tbody tr")
    assert rows.count() == 2
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "discipline" in first and "纪检监察室" in first and digits[:10] in first and "本人登录后录入" in first
    assert "head_jc" in second and digits[10:] in second and "在摇号现场输入本人密码确认" in second
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", first)
    assert not any(name in record for name in world.targets.values()), "the record names no target"

    # The organizer's need-to-know list holds the five drawn targets.
    staff.goto(f"{base}/tasks/{world.task_id}/list")
    listed = [name for name in world.targets.values() if name in staff.content()]
    assert len(listed) == 5

    # 5. The inspector sees their own assignments, and nothing else.
    inspector = browser.new_context(locale="zh-CN").new_page()
    sign_in(inspector, base, "inspector_jc", PASSWORD)
    inspector.get_by_role("link", name=re.compile("待检查")).click()
    assert inspector.get_by_role("heading", name="我的检查任务").is_visible()
    mine = [name for name in world.targets.values() if name in inspector.content()]
    assert 1 <= len(mine) < 5 and set(mine) <= set(listed)
    assert inspector.goto(f"{base}/tasks/{world.task_id}/list").status == 403
