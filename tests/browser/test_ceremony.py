"""The whole draw ceremony in real Chromium, then an inspector opening their assignment
(SPEC §3, §4; Art 5, 6, 12)."""
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


def test_ceremony_then_inspector_opens_assignment(browser, live_instance, live_server):
    app, world = _world(live_instance)
    base = live_server
    staff = browser.new_context(locale="zh-CN").new_page()
    sign_in(staff, base, "staff_jc", PASSWORD)
    staff.goto(f"{base}/tasks/{world.task_id}/draw")

    # 1. Freeze the pools: sizes and hashes are public.
    staff.get_by_role("button", name=re.compile("冻结名单")).click()
    assert "12" in staff.content()
    # 2. The nonce commitment is shown before any entropy can be entered.
    assert staff.get_by_label("掷骰得到的数字").count() == 0
    staff.get_by_role("button", name="生成服务器随机数并公示承诺").click()
    commitment = staff.get_by_label("随机数承诺值").inner_text().replace(" ", "")
    assert re.fullmatch(r"[0-9a-f]{64}", commitment)
    # 3. A witness from outside the section enters the dice.
    staff.get_by_label("见证人姓名").fill("王纪检")
    staff.get_by_label("单位或科室").fill("纪检监察室")
    staff.get_by_label(re.compile("来自本科室")).check()
    staff.get_by_label("掷骰得到的数字").fill(_digits(app, world.task_id))
    staff.get_by_role("button", name="录入该见证人的数字").click()
    # 4. Draw and seal.
    staff.get_by_role("button", name="开始抽取并封存结果").click()
    staff.get_by_role("link", name="打开抽取记录并打印").click()
    record = staff.content()
    assert commitment in record.replace(" ", "") and "王纪检" in record
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
