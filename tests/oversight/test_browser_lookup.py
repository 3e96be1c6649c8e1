"""In real Chromium: the discipline office, under an approved investigation 立案核查, looks up an
enterprise by its credit code and finds who viewed its assignment in a sealed task (SPEC §5), with the
code never in the address bar."""
from __future__ import annotations

import pytest

from ssj import create_app
from ssj.extensions import db
from tests.browser_support import sign_in
from tests.ceremony.conftest import build_world, full_draw, teams_by_code
from tests.conftest import TEST_CONFIG, login
from tests.factories import PASSWORD
from tests.oversight.conftest import approved_investigation

pytestmark = pytest.mark.browser


@pytest.fixture
def drawn_instance(live_instance):
    """The live server's instance with a task drawn through the ceremony's routes (before the server starts)."""
    app = create_app(dict(TEST_CONFIG), instance_path=str(live_instance))
    world = build_world(app)
    organizer = app.test_client()
    assert login(organizer, "staff_jc").status_code == 302
    full_draw(organizer, app, world.task_id)
    teams = teams_by_code(app, world.task_id)
    code = next(c for c, staff in teams.items() if "JC01" in staff)
    approved_investigation(app, [code])
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return world, teams


def test_the_office_finds_who_viewed_an_enterprises_assignment(page, drawn_instance, live_server):
    world, teams = drawn_instance
    code = next(c for c, staff in teams.items() if "JC01" in staff)  # on inspector_jc's team
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    sign_in(page, live_server, "inspector_jc", PASSWORD)
    page.get_by_role("link", name="我的检查任务").click()
    assert page.get_by_text(world.targets[code]).first.is_visible()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(live_server + "/login?ended=logout")

    sign_in(page, live_server, "discipline", PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="访问日志").click()
    page.get_by_label("企业（统一社会信用代码）").fill(code)
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"{live_server}/discipline?ent=*")
    assert code not in page.url

    results = page.locator("#results")
    row = results.locator("tr", has_text="inspector_jc")
    assert row.count() == 1
    assert "读取保密内容：查看本人的检查任务" in row.inner_text()
    assert "其中包括所查企业" in row.inner_text()
    assert world.targets[code] not in page.content()  # the console shows no sealed content

    row.get_by_role("link").first.click()
    page.wait_for_url(f"{live_server}/discipline/entries/*")
    assert page.get_by_role("heading", name="完整性").is_visible()
    assert page.get_by_text("由本系统写入").is_visible()
    assert not [e for e in errors if "Content Security Policy" in e], errors
