"""The whole journey of a drawn task in real Chromium, as the people who do it would
(SPEC §4, §6, §7, §9; Art 8, 9, 10, 13 "一抽查一通报"): the assigned inspector records
each target on a phone with a photo (the second one with JavaScript off), staff drafts the section's final report and the
section head approves it, the head asks for publication after the publish date, a
supervisor approves it with their password, and anyone, without signing in, reads
the results notice and re-runs the draw from its verification bundle.

The draw itself is prepared through the app's own routes with a test client before
the server starts (tests/browser/test_ceremony.py drives it in the browser); from
then on everything goes through the pages.
"""
from __future__ import annotations

import hashlib
import json
import re
import struct
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ssj import create_app, verify
from ssj.extensions import db
from ssj.models import DrawAttempt, Matter, PublishedTask, Task, TaskMatter
from tests.browser_support import sign_in
from tests.ceremony.conftest import build_world, drawn_codes, full_draw, section
from tests.conftest import TEST_CONFIG, login
from tests.factories import PASSWORD
from tests.inspections.conftest import ITEMS

PHONE = {"width": 390, "height": 844}


@dataclass
class Prepared:
    app: object
    task_id: int
    task_name: str
    drawn: dict[str, str]  # credit code -> unit name, of the drawn targets
    undrawn: list[str]  # names of the targets the draw left out
    commitment: str  # SHA-256 of the nonce, printed at the ceremony


def _prepare(instance) -> Prepared:
    """A task of two drawn targets, sealed; both inspectors sit on both teams.

    Two inspectors, teams of two and no cap: inspector_jc is on every team
    whatever the dice, so one person can record every target in the browser.
    The inspection started three weeks ago, so its end can be dated in the past.
    """
    app = create_app(dict(TEST_CONFIG), instance_path=str(instance))
    world = build_world(app, n_targets=5, ratio="40", jc_inspectors=2, cap=None, tag="乙",
                        planned_start=date.today() - timedelta(days=21))
    with app.app_context():
        matter = Matter(code="JC-J-01", name="用人单位遵守劳动保障法律法规情况", legal_basis="《劳动保障监察条例》",
                        content="\n".join(ITEMS), ratio_percent="5", frequency=3, method="现场检查",
                        section_id=section("JCDD").id)
        db.session.add(matter)
        db.session.flush()
        db.session.add(TaskMatter(task_id=world.task_id, matter_id=matter.id))
        db.session.commit()
    staff = app.test_client()
    assert login(staff, "staff_jc").status_code == 302
    full_draw(staff, app, world.task_id, digits=lambda teams: True)
    codes = drawn_codes(app, world.task_id)
    with app.app_context():
        task = db.session.get(Task, world.task_id)
        commitment = db.session.execute(
            select(DrawAttempt.nonce_sha256).where(DrawAttempt.task_id == task.id, DrawAttempt.state == "sealed")
        ).scalar_one()
        name = task.name
        db.engine.dispose()  # the server opens the database next; hold no connection
    assert len(codes) == 2
    return Prepared(
        app, world.task_id, name,
        drawn={c: world.targets[c] for c in codes},
        undrawn=[n for c, n in world.targets.items() if c not in codes],
        commitment=commitment,
    )


def _png(width: int = 16, height: int = 12) -> bytes:
    """A small but valid PNG (a red rectangle), as a phone camera would hand over a photo."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xcc\x22\x22" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _move_publish_date_into_the_past(app, task_id: int) -> None:
    """Let the publish date come. Publication is refused before it (Art 13) and the
    task's date is weeks ahead; a test cannot wait for the calendar, and a drawn task's
    settings can no longer be edited in the browser, so the date moves in the database."""
    from ssj import clock

    with app.app_context():
        db.session.get(Task, task_id).publish_date = clock.today() - timedelta(days=1)
        db.session.commit()
        db.engine.dispose()


def _published(app, task_id: int) -> bool:
    with app.app_context():
        found = db.session.get(PublishedTask, task_id) is not None
        db.session.remove()
        db.engine.dispose()
        return found


def _record(page, name: str, *, finding: bool, photo, photo_bytes: bytes, today: date) -> None:
    """The inspector opens one assignment from 我的检查任务 and records it, with a photo."""
    page.get_by_role("link", name="我的检查任务").click()
    card = page.get_by_role("article").filter(has=page.get_by_role("heading", name=name))
    card.get_by_role("link", name="填写检查记录、上传证据").click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling on a phone"

    page.get_by_label("现场检查" if finding else "书面检查", exact=True).check()
    page.get_by_label("检查开始日期").fill((today - timedelta(days=3)).isoformat())
    page.get_by_label("检查结束日期").fill((today - timedelta(days=2)).isoformat())
    page.get_by_label(ITEMS[0]).check()
    page.get_by_label(ITEMS[1]).check()
    if finding:
        page.get_by_label("发现的问题").fill("未按月足额支付3名职工2026年9月工资。")
    page.get_by_label("现场检查笔录").fill("检查人员二人出示执法证件，查阅劳动合同和工资台账，询问人事负责人。")
    page.get_by_label("对被查对象执行法律法规等情况的评价").fill(
        "基本遵守劳动保障法律法规，工资支付存在问题。" if finding else "遵守劳动保障法律法规。")
    page.get_by_label("检查结果").select_option("发现问题已责令改正" if finding else "未发现问题")
    if finding:
        page.get_by_label("处理意见（细则第十条）").select_option(label="责令改正")
        page.get_by_label("改正期限（责令改正时填写）").fill((today + timedelta(days=10)).isoformat())
        page.get_by_label("处理意见和建议").fill("责令十日内补发拖欠工资。")
    else:
        page.get_by_label("处理意见（细则第十条）").select_option(label="无需处理")
    # The photo goes with the record in the same form, so nothing typed is lost (issue 14).
    page.get_by_label("选择文件").set_input_files(str(photo))
    page.get_by_label("文件说明").fill("工资台账照片")
    page.get_by_role("button", name="提交检查记录").click()
    expect(page.get_by_role("status").filter(has_text="检查记录已提交")).to_be_visible()
    expect(page.get_by_label("更正原因（已提交的记录只能更正，原版本留存）")).to_be_visible()

    # The photo, encrypted on the server, then opened again by the inspector.
    link = page.get_by_role("link", name=photo.name)
    with page.expect_download() as download:
        link.click()
    assert download.value.path().read_bytes() == photo_bytes, "the photo comes back exactly as uploaded"
    served = page.request.get(urljoin(page.url, link.get_attribute("href")))
    assert served.headers["content-type"] == "image/png" and served.headers["cache-control"] == "no-store"

    if finding:
        # The record's rectification deadline, entered once, is tracked for its re-check (Art 10).
        expect(page.locator("#followups").get_by_label("复查日期")).to_be_visible()


@pytest.fixture
def prepared(live_instance) -> Prepared:
    return _prepare(live_instance)


def test_record_report_publish_and_verify(prepared, live_server, browser, tmp_path):
    base, app, task_id = live_server, prepared.app, prepared.task_id
    today = date.today()
    (with_finding, name_finding), (without, name_clean) = sorted(prepared.drawn.items())
    photo_bytes = _png()
    photo = tmp_path / "gongzi-taizhang.png"
    photo.write_bytes(photo_bytes)

    # 1. The inspector, on a phone, records both targets with a photo each: the first
    #    with a finding and a rectification order.
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", accept_downloads=True)
    inspector = phone.new_page()
    csp_errors = []
    inspector.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(inspector, base, "inspector_jc", PASSWORD)
    inspector.get_by_role("link", name="您有 2 户检查对象待检查").click()
    expect(inspector.get_by_role("heading", name="我的检查任务")).to_be_visible()
    _record(inspector, name_finding, finding=True, photo=photo, photo_bytes=photo_bytes, today=today)
    assert not csp_errors, csp_errors
    phone.close()

    # The second target on a phone with JavaScript off: the core flow is plain forms.
    # The to-do counts only what is still to be recorded.
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", accept_downloads=True, java_script_enabled=False)
    inspector = phone.new_page()
    sign_in(inspector, base, "inspector_jc", PASSWORD)
    inspector.get_by_role("link", name="您有 1 户检查对象待检查").click()
    _record(inspector, name_clean, finding=False, photo=photo, photo_bytes=photo_bytes, today=today)
    inspector.get_by_role("link", name="待办").click()
    expect(inspector.get_by_role("heading", level=1, name="待办")).to_be_visible()
    expect(inspector.get_by_role("link", name=re.compile("检查对象待检查"))).to_have_count(0)
    phone.close()

    # 2. Staff drafts the section's final report; the head of the section approves it.
    desk = browser.new_context(locale="zh-CN")
    staff = desk.new_page()
    sign_in(staff, base, "staff_jc", PASSWORD)
    staff.get_by_role("navigation", name="主导航").get_by_role("link", name="检查记录").click()
    staff.get_by_role("link", name=prepared.task_name).click()
    for name, result in ((name_finding, "发现问题已责令改正"), (name_clean, "未发现问题")):
        expect(staff.get_by_role("row").filter(has_text=name)).to_contain_text(result)
    staff.get_by_role("link", name="查看、起草或审核总结报告").click()
    staff.get_by_label("起草总结报告：总体情况、主要问题和处理意见").fill(
        "本次抽查2户，1户存在拖欠工资问题，已责令限期改正，到期复查。")
    staff.get_by_role("button", name="保存总结报告").click()
    expect(staff.get_by_role("status").filter(has_text="总结报告已起草")).to_be_visible()
    expect(staff.get_by_role("button", name="审核通过，报局领导")).to_have_count(0)
    desk.close()

    desk = browser.new_context(locale="zh-CN")
    head = desk.new_page()
    sign_in(head, base, "head_jc", PASSWORD)
    head.get_by_role("link", name=f"审核总结报告：{prepared.task_name}").click()
    expect(head.get_by_role("article")).to_contain_text(name_finding)  # the problems list names the unit
    head.get_by_role("button", name="审核通过，报局领导").click()
    expect(head.get_by_role("status").filter(has_text="总结报告已审核")).to_be_visible()

    # 3. The head asks for publication: refused before the publish date, accepted after it.
    nav = head.get_by_role("navigation", name="主导航")
    nav.get_by_role("link", name="待办").click()
    expect(head.get_by_role("link", name=f"申请公开结果：{prepared.task_name}")).to_have_count(0)  # not yet due
    nav.get_by_role("link", name="抽查任务").click()
    head.get_by_role("link", name=prepared.task_name).click()
    head.get_by_role("link", name="结果公开").click()
    head.get_by_role("button", name="申请公开结果").click()
    expect(head.get_by_role("alert")).to_contain_text("还不能公开结果")
    expect(head.get_by_role("heading", name="申请公开")).to_be_visible()  # nothing was requested
    _move_publish_date_into_the_past(app, task_id)
    nav.get_by_role("link", name="待办").click()
    head.get_by_role("link", name=f"申请公开结果：{prepared.task_name}").click()
    expect(head.get_by_text("还不能公开结果")).to_have_count(0)
    head.get_by_label("申请说明（可选）").fill("检查和总结报告已全部完成。")
    head.get_by_role("button", name="申请公开结果").click()
    expect(head.get_by_role("status").filter(has_text="公开申请已提交")).to_be_visible()
    desk.close()

    # A supervisor (another person) approves from their to-do; a mistyped password publishes nothing.
    desk = browser.new_context(locale="zh-CN")
    supervisor = desk.new_page()
    sign_in(supervisor, base, "supervisor", PASSWORD)
    supervisor.get_by_role("link", name=f"审批公开：{prepared.task_name}").click()
    supervisor.get_by_label("请输入您本人的登录密码确认").fill("not-my-password")
    supervisor.get_by_role("button", name="批准并公开").click()
    expect(supervisor.get_by_role("alert")).to_contain_text("密码不正确，未批准公开")
    assert not _published(app, task_id)
    supervisor.get_by_label("请输入您本人的登录密码确认").fill(PASSWORD)
    supervisor.get_by_role("button", name="批准并公开").click()
    expect(supervisor.get_by_role("status").filter(has_text="已解封并公开抽查结果和核验包")).to_be_visible()
    desk.close()

    # 4. Anyone, without signing in, reads the notice and re-runs the draw.
    public = browser.new_context(locale="zh-CN", accept_downloads=True)
    citizen = public.new_page()
    citizen.goto(base + "/public/results")
    citizen.get_by_role("link", name=prepared.task_name).click()
    results = citizen.get_by_role("table", name="被抽查单位及检查结果")
    deadline = (today + timedelta(days=10)).isoformat()
    for name, result, handling in ((name_finding, "发现问题已责令改正", f"责令改正（改正期限 {deadline}）"),
                                   (name_clean, "未发现问题", "无需处理")):
        row = results.get_by_role("row").filter(has=citizen.get_by_role("cell", name=name, exact=True))
        expect(row.get_by_role("cell", name=result, exact=True)).to_be_visible()
        expect(row.get_by_role("cell", name=handling, exact=True)).to_be_visible()
    for name in prepared.undrawn:
        expect(results).not_to_contain_text(name)
    with citizen.expect_download() as download:
        citizen.get_by_role("link", name="下载核验包（JSON）").click()
    bundle = json.loads(download.value.path().read_text(encoding="utf-8"))
    public.close()

    verify.verify(bundle)  # raises at the first check that does not hold
    assert bundle["nonce_sha256"] == prepared.commitment, "the nonce is the one committed to at the ceremony"
    assert hashlib.sha256(bytes.fromhex(bundle["nonce"])).hexdigest() == prepared.commitment
    assert {t["target"] for t in bundle["teams"]} == {with_finding, without}
    forged = {**bundle, "nonce": "0" * 64}
    with pytest.raises(verify.Mismatch):
        verify.verify(forged)
