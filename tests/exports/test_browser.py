"""Staff ask for a directory export in real Chromium under the strict CSP, watch the job
finish in the server's background thread, and download the workbook (SPEC §9)."""
from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import select

from ssj import create_app
from ssj.extensions import db
from ssj.models import Department, Target
from tests.browser_support import sign_in
from tests.ceremony.conftest import credit_code
from tests.conftest import TEST_CONFIG
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_staff_export_targets_and_come_back_for_the_file(page, live_instance, live_server, tmp_path):
    app = create_app(dict(TEST_CONFIG), instance_path=str(live_instance))
    with app.app_context():
        rsj = db.session.execute(select(Department).where(Department.code == "RSJ")).scalar_one()
        db.session.add_all(Target(department_id=rsj.id, credit_code=credit_code(), name=f"商水县浏览器导出{n:02d}有限公司")
                           for n in range(30))
        db.session.commit()
        db.engine.dispose()
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)

    sign_in(page, live_server, "staff_jc", PASSWORD)
    page.goto(live_server + "/targets")
    page.get_by_role("link", name="导出 Excel").click()
    page.get_by_role("button", name="生成导出文件").click()
    # The job runs in a thread of the server; the page polls with htmx until the file is ready.
    page.get_by_text("已生成，共 30 行").wait_for(timeout=60_000)

    page.goto(live_server + "/my/exports")  # left and came back
    assert page.locator("table").get_by_text("已完成").is_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="下载").first.click()
    path = tmp_path / "export.xlsx"
    info.value.save_as(path)
    rows = list(openpyxl.load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 31 and "商水县浏览器导出07有限公司" in {r[1] for r in rows}
    assert info.value.suggested_filename.endswith(".xlsx")
    assert csp_errors == []
