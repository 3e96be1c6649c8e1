"""The dashboard in a real browser under the strict CSP: the SVG charts take their colours
from the stylesheet (no inline style), and the year picker swaps only the figures with htmx."""
from datetime import date

import pytest
from sqlalchemy import select

from ssj import create_app
from ssj.extensions import db
from ssj.models import Section, Target, Township
from tests.browser_support import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _seed(instance) -> None:
    app = create_app({"TESTING": True}, instance_path=str(instance))
    with app.app_context():
        rsj = db.session.execute(select(Section.department_id).where(Section.code == "JCDD")).scalar_one()
        busy, empty = Township(code="01", name="城关乡"), Township(code="02", name="张明乡")
        db.session.add_all([busy, empty])
        db.session.flush()
        db.session.add(Target(department_id=rsj, credit_code="91411623MA00000019", name="城关机械厂",
                              township_id=busy.id))
        db.session.commit()
        db.engine.dispose()


def test_charts_are_coloured_by_the_stylesheet_and_the_picker_swaps_the_figures(page, live_instance, request):
    _seed(live_instance)
    base = request.getfixturevalue("live_server")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, base, "supervisor", PASSWORD)
    page.get_by_role("link", name="监管看板").click()
    page.wait_for_url(base + "/oversight/dashboard")
    coverage = page.get_by_role("img", name="各乡镇名录库检查对象户数")
    assert coverage.is_visible()
    # The empty township's label stays, its bar is drawn in the "bad" colour from ssj.css.
    zero_bar = page.locator("#chart-coverage rect.bar-zero")
    assert zero_bar.count() == 1
    assert zero_bar.evaluate("e => getComputedStyle(e).fill") == "rgb(179, 38, 30)"
    town_bar = page.locator("#chart-coverage rect.bar-town")
    assert town_bar.evaluate("e => getComputedStyle(e).fill") == "rgb(31, 95, 168)"

    last_year = str(date.today().year - 1)
    marker = page.evaluate("() => { window.__kept = 1; return window.__kept; }")
    page.get_by_label("年度").select_option(last_year)
    page.wait_for_url(base + f"/oversight/dashboard?year={last_year}&section=")
    page.get_by_role("heading", name=f"{last_year} 年度 · 商水县人力资源和社会保障局（全局）").wait_for()
    # Swapped in place by htmx, not a full page load: the page's own state survived.
    assert page.evaluate("() => window.__kept") == marker
    assert f"{last_year}年度未开展业务培训" in page.locator("#training-flag").inner_text()
    assert not [e for e in errors if "Content Security Policy" in e], errors
