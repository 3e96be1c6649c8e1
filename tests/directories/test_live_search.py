"""In a real browser under the strict CSP: typing in the target search swaps only the
results (htmx), pushes the search into the address bar, and pages without a reload."""
from pathlib import Path

import pytest

from ssj import create_app
from ssj.extensions import db
from ssj.models import Department, Target
from tests.browser_support import sign_in
from tests.conftest import TEST_CONFIG
from tests.factories import PASSWORD

from .builders import code

pytestmark = pytest.mark.browser


def _seed(instance: Path) -> None:
    app = create_app(dict(TEST_CONFIG), instance_path=str(instance))
    with app.app_context():
        dept = db.session.execute(db.select(Department).where(Department.code == "RSJ")).scalar_one()
        for n in range(30):
            db.session.add(Target(department_id=dept.id, credit_code=code(n), name=f"浏览器测试{n:02d}公司"))
        db.session.add(Target(department_id=dept.id, credit_code=code(99), name="独一无二名称有限公司"))
        db.session.commit()
        db.engine.dispose()


def test_live_search_and_paging(page, live_server, tmp_path):
    _seed(tmp_path / "live-instance")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, "staff_jc", PASSWORD)
    page.goto(live_server + "/targets")
    assert "共 31 个检查对象" in page.content()
    page.evaluate("window.notReloaded = true")

    page.get_by_label("单位名称或信用代码开头").press_sequentially("独一无二")
    page.get_by_text("共 1 个检查对象").wait_for()
    assert "独一无二名称有限公司" in page.content() and "浏览器测试00公司" not in page.content()
    page.wait_for_url("**/targets?q=*")
    assert page.evaluate("window.notReloaded") is True  # only the results were swapped

    page.get_by_label("单位名称或信用代码开头").fill("浏览器测试")
    page.get_by_text("共 30 个检查对象").wait_for()
    page.get_by_role("link", name="下一页").click()
    page.get_by_text("第 2 / 2 页").wait_for()
    assert "浏览器测试29公司" in page.content() and "浏览器测试00公司" not in page.content()
    assert "page=2" in page.url
    assert page.evaluate("window.notReloaded") is True
    assert not [e for e in errors if "Content Security Policy" in e], errors
