"""The ceremony's pages as people use them (SPEC §9): every step explains itself and
cites its article, the projector view works with htmx and by reload, nothing needs
inline script or style (strict CSP), and the ceremony page tells a newcomer what to do."""
from __future__ import annotations

import re

from .conftest import commit, draw_url, freeze, full_draw, text_of, witness


def test_each_step_says_what_it_is_for_and_which_article_requires_it(app, login_as, world):
    from ssj.ceremony.service import STEPS

    html = login_as("staff").get(draw_url(world.task_id)).text
    for step in STEPS:
        assert f"第 {step.number} 步：{step.title}" in html
        assert step.purpose in html
        assert re.search(r"（细则第[一二三四五六七八九十]+条(、第[一二三四五六七八九十]+条)*）。$", step.purpose), step.title
    assert "冻结名单，开始第 1 次抽取" in html


def test_the_projector_view_refreshes_with_htmx_and_without_javascript(app, login_as, world):
    staff = login_as("staff")
    freeze(staff, world.task_id)
    commit(staff, app, world.task_id)
    witness(staff, app, world.task_id, "3516244165", username="head_jc")
    full = staff.get(draw_url(world.task_id, "screen"))
    assert full.status_code == 200 and "HX-Request" in full.headers["Vary"]
    assert 'class="topbar"' not in full.text  # no navigation chrome
    assert '<noscript><meta http-equiv="refresh"' in full.text
    assert 'hx-trigger="every 3s"' in full.text
    assert "head_jc（劳动保障监察大队）" in full.text and "3516244165" in full.text
    part = staff.get(draw_url(world.task_id, "screen"), headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<main id="screen"')
    assert "<html" not in part.text and "HX-Request" in part.headers["Vary"]
    assert "至少还需 10 位" in text_of(part.text)


def test_no_inline_script_or_style_on_any_ceremony_page(app, login_as, world):
    staff = login_as("staff")
    full_draw(staff, app, world.task_id)
    for path in (
        draw_url(world.task_id), draw_url(world.task_id, "record"), draw_url(world.task_id, "commitment"),
        draw_url(world.task_id, "screen"), f"/tasks/{world.task_id}/list", f"/tasks/{world.task_id}/list/print",
    ):
        html = staff.get(path).text
        assert " style=" not in html and "<style" not in html, path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert "hx-on" not in html, path
    # The print button exists only once JavaScript can make it work.
    assert "data-print hidden" in staff.get(draw_url(world.task_id, "record")).text


def test_an_inspector_without_a_directory_entry_is_told_what_to_do(app, login_as):
    r = login_as("inspector").get("/my/inspections")
    assert r.status_code == 200
    assert "还没有关联执法检查人员名录中的记录" in r.text
