"""Section staff import a target .xlsx in real Chromium, watch the job finish,
and find an imported enterprise with the live search (SPEC §2)."""
import re

from ssj import create_app
from ssj.extensions import db
from ssj.models import Township
from tests.browser_support import sign_in
from tests.conftest import TEST_CONFIG
from tests.factories import PASSWORD
from tests.imports.conftest import code, headers, target_row, xlsx


def _seed_townships(instance) -> None:
    app = create_app(dict(TEST_CONFIG), instance_path=str(instance))
    with app.app_context():
        db.session.add_all([Township(code="01", name="东城街道"), Township(code="02", name="黄寨镇")])
        db.session.commit()
        db.engine.dispose()


def test_staff_import_targets_and_find_one(page, live_instance, live_server, tmp_path):
    _seed_townships(live_instance)
    rows = [target_row(n) for n in range(1, 40)]
    rows.append(target_row(40, **{"单位名称": "商水县周口路鑫源食品加工厂"}))
    book = tmp_path / "检查对象名录.xlsx"
    book.write_bytes(xlsx(headers("targets"), rows))

    sign_in(page, live_server, "staff_jc", PASSWORD)
    page.goto(live_server + "/targets")
    page.get_by_role("link", name="从 Excel 导入").click()
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(book))
    page.get_by_role("button", name="上传并检查").click()

    # The job runs in the server's background thread; htmx polls until it is done.
    done = page.get_by_text("导入完成：新增 40 条")
    done.wait_for(timeout=30_000)

    page.goto(live_server + "/targets")
    page.get_by_label("单位名称或信用代码开头").fill("鑫源食品")
    result = page.locator("table").get_by_text("商水县周口路鑫源食品加工厂")
    result.wait_for(timeout=10_000)
    assert page.locator("table").get_by_text(code(40)).is_visible()
    page.wait_for_url(re.compile(r"/targets\?.*q="))  # hx-push-url: the search can be shared
