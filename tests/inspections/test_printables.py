"""The inspection notice 检查通知书 and the checklist 检查表 (SPEC §7; Art 8, 9, 12): the team fills in
and prints the notice with the matter's documents to prepare; both sheets name the unit, so only the
position's team and the need-to-know readers see them, every view is logged first without naming the
unit, and the notice is stored only encrypted."""
from __future__ import annotations

import json

from sqlalchemy import select

from ssj import audit
from ssj.audit import chain
from ssj.extensions import db
from ssj.models import AccessLogEntry, InspectionNotice, Inspector, Matter
from ssj import clock
from tests.ceremony.conftest import text_of
from tests.conftest import post, post_as_loaded

from .conftest import ITEMS, record_url, task_status

DOCUMENTS = ["营业执照副本", "劳动合同及职工花名册", "近12个月工资支付凭证和考勤记录"]
PLACE = "单位经营场所（东城街道建设路188号二楼会议室）"


def _with_documents(app) -> None:
    """The drawn task's matter lists the documents a unit must prepare, as the matter directory would."""
    with app.app_context():
        matter = db.session.execute(select(Matter).where(Matter.code == "JC-T-01")).scalar_one()
        matter.documents = "\n".join(DOCUMENTS)
        db.session.commit()


def notice_form(**over) -> dict:
    data = {
        "number": "劳动监察检通〔2026〕7号",
        "method": "onsite",
        "inspect_date": "2026-03-10",
        "time_from": "09:00",
        "time_to": "11:30",
        "place": PLACE,
        "contact_person": "王检查",
        "contact_phone": "0394-5421234",
        "documents": "\n".join(DOCUMENTS + ["2025年度社会保险缴费凭证"]),
    }
    data.update(over)
    return data


def _notice_row(app, task_id, position):
    with app.app_context():
        return db.session.execute(
            select(InspectionNotice.version).where(InspectionNotice.task_id == task_id,
                                                   InspectionNotice.position == position)
        ).scalar_one_or_none()


def _entries(app, action: str) -> list[AccessLogEntry]:
    with app.app_context():
        rows = db.session.execute(
            select(AccessLogEntry).where(AccessLogEntry.action == action).order_by(AccessLogEntry.seq)
        ).scalars().all()
        db.session.expunge_all()
        return rows


def test_the_assigned_inspector_fills_in_and_prints_the_notice_with_the_matters_documents(app, login_as, drawn):
    _with_documents(app)
    p = drawn.own_position()
    me = login_as("inspector_jc")
    page = me.get(record_url(drawn.task_id, p)).text
    assert "打印检查通知书" in page and "打印检查表" in page and "细则第八条" in page

    form = me.get(record_url(drawn.task_id, p, "notice"))
    assert form.status_code == 200
    text = text_of(form.text)
    assert drawn.name_of(p) in text
    for d in DOCUMENTS:  # prefilled from the matter directory
        assert d in form.text
    with app.app_context():
        year = clock.today().year
    assert f"劳动监察检通〔{year}〕1号" in form.text  # the suggested number
    assert "还没有检查通知书" not in text

    r = post_as_loaded(me, record_url(drawn.task_id, p, "notice"), notice_form())
    assert r.status_code == 302, r.text
    assert _notice_row(app, drawn.task_id, p) == 1

    sheet = me.get(record_url(drawn.task_id, p, "notice/print"))
    assert sheet.status_code == 200
    assert sheet.headers["Cache-Control"] == "no-store"
    text = text_of(sheet.text)
    assert drawn.name_of(p) in text and drawn.code_of[p] in text
    for d in DOCUMENTS + ["2025年度社会保险缴费凭证"]:
        assert d in text
    assert "劳动监察检通〔2026〕7号" in text and "2026年3月10日（星期二） 09:00 至 11:30" in text
    assert PLACE in text and "王检查" in text and "0394-5421234" in text
    assert "《劳动保障监察条例》" in text  # the legal basis, from the matter
    for item in ITEMS:
        assert item in text
    assert "送达回证" in text and "受送达人签名或盖章" in text
    assert "保密 · inspector_jc" in sheet.text  # the watermark names the viewer
    with app.app_context():
        certs = db.session.execute(
            select(Inspector.cert_no).where(Inspector.id.in_(drawn.world.inspectors[s] for s in ("JC01", "JC02", "JC03")))
        ).scalars().all()
    assert sum(c in text for c in certs) == len(drawn.team_of[p])  # each team member's certificate number

    # A second save replaces the notice and counts a version; the head of the section may read it too.
    assert post_as_loaded(me, record_url(drawn.task_id, p, "notice"), notice_form(time_to="12:00")).status_code == 302
    assert _notice_row(app, drawn.task_id, p) == 2
    for who in ("head_jc", "staff_jc", "supervisor"):
        r = login_as(who).get(record_url(drawn.task_id, p, "notice/print"))
        assert r.status_code == 200 and "09:00 至 12:00" in text_of(r.text), who


def test_an_inspector_of_the_same_section_not_on_the_team_sees_nothing(app, login_as, drawn):
    _with_documents(app)
    other = drawn.foreign_position("inspector_jc")
    member = login_as(drawn.member(other))
    assert post_as_loaded(member, record_url(drawn.task_id, other, "notice"), notice_form()).status_code == 302
    name, code = drawn.name_of(other), drawn.code_of[other]

    outsider = login_as("inspector_jc")
    for tail in ("notice", "notice/print", "checklist"):
        r = outsider.get(record_url(drawn.task_id, other, tail))
        assert r.status_code == 403, tail
        assert name not in r.text and code not in r.text and PLACE not in r.text
    r = post(outsider, record_url(drawn.task_id, other, "notice"), notice_form(place="被改掉的地点"))
    assert r.status_code == 403 and name not in r.text
    assert _notice_row(app, drawn.task_id, other) == 1
    assert PLACE in member.get(record_url(drawn.task_id, other, "notice/print")).text

    for who in ("admin", "discipline", "staff_sb", "inspector_scj", "staff_scj"):
        c = login_as(who)
        for tail in ("notice", "notice/print", "checklist"):
            r = c.get(record_url(drawn.task_id, other, tail))
            assert r.status_code in (403, 404), (who, tail, r.status_code)
            assert name not in r.text and code not in r.text
    # The refusals are on the record for the discipline office.
    denied = [e for e in _entries(app, "read:inspections.notice_print") if e.outcome == "denied"]
    assert {e.username for e in denied} >= {"inspector_jc", "admin", "discipline"}


def test_printing_is_logged_first_naming_the_position_but_not_the_unit(app, login_as, drawn):
    _with_documents(app)
    p = drawn.own_position()
    me = login_as("inspector_jc")
    assert post_as_loaded(me, record_url(drawn.task_id, p, "notice"), notice_form()).status_code == 302
    name, code = drawn.name_of(p), drawn.code_of[p]

    # If the entry cannot be written, the sheet is not served (fail closed).
    real = chain.canonical_json

    def refuse_print_entries(body, *a, **kw):
        if body.get("action") in ("sealed_read:print_notice", "sealed_read:print_checklist"):
            raise OSError("no space left on device")
        return real(body, *a, **kw)

    from _pytest.monkeypatch import MonkeyPatch

    with MonkeyPatch.context() as mp:
        mp.setattr(chain, "canonical_json", refuse_print_entries)
        for tail in ("notice/print", "checklist"):
            r = me.get(record_url(drawn.task_id, p, tail))
            assert r.status_code == 503 and "访问日志暂时无法写入" in r.text, tail  # never the sheet
            assert name not in r.text and code not in r.text and PLACE not in r.text
    assert _entries(app, "sealed_read:print_notice") == []

    assert me.get(record_url(drawn.task_id, p, "notice/print")).status_code == 200
    assert me.get(record_url(drawn.task_id, p, "checklist")).status_code == 200
    with app.app_context():
        ref = audit.sealed_ref(code, task_id=drawn.task_id)
    for action in ("sealed_read:print_notice", "sealed_read:print_checklist"):
        (entry,) = _entries(app, action)
        body = json.loads(entry.body)
        assert entry.task_id == drawn.task_id and entry.username == "inspector_jc"
        assert body["objects"]["positions"] == [p] and body["objects"]["kind"] == "notice"
        assert body["objects"]["target_refs"] == [ref]  # the discipline office can ask by HMAC
        assert name not in entry.body and code not in entry.body
        assert json.dumps(name)[1:-1] not in entry.body
    (saved,) = _entries(app, "inspection_notice_save")
    assert name not in saved.body and code not in saved.body


def test_the_stored_notice_is_not_readable_in_the_database_file(app, login_as, drawn, database_bytes):
    _with_documents(app)
    p = drawn.own_position()
    me = login_as("inspector_jc")
    unique = dict(place="独特的检查地点-6c1e号院", contact_person="独特联系人甲乙", number="独特文号〔2026〕99号")
    assert post_as_loaded(me, record_url(drawn.task_id, p, "notice"), notice_form(**unique)).status_code == 302
    assert unique["place"] in me.get(record_url(drawn.task_id, p, "notice/print")).text
    database = database_bytes()  # the SQLite file and WAL, or a pg_dump
    assert drawn.name_of(p).encode() in database  # its directory row: the copy holds readable rows
    for value in unique.values():
        for form in (value.encode(), json.dumps(value)[1:-1].encode()):
            assert form not in database, value
    with app.app_context():
        blob = db.session.execute(select(InspectionNotice.sealed)).scalar_one()
    for needle in (drawn.name_of(p), drawn.code_of[p], *unique.values()):
        assert needle.encode() not in blob


def test_bad_input_gets_a_chinese_message_and_nothing_is_saved(app, login_as, drawn):
    _with_documents(app)
    p = drawn.own_position()
    me = login_as("inspector_jc")
    r = post_as_loaded(me, record_url(drawn.task_id, p, "notice"), notice_form(inspect_date="", time_from="14:00", time_to="09:30"))
    assert r.status_code == 422
    assert "检查通知书没有保存" in r.text
    assert "请填写检查日期" in r.text
    assert "结束时间 09:30 早于或等于开始时间 14:00，请核对" in r.text
    assert PLACE in r.text and "0394-5421234" in r.text  # what was typed is kept
    assert _notice_row(app, drawn.task_id, p) is None

    r = post_as_loaded(me, record_url(drawn.task_id, p, "notice"),
             notice_form(inspect_date="2026-02-30", contact_phone="请打电话", documents=" \n "))
    assert r.status_code == 422
    assert "不是有效日期" in r.text and "联系电话只能包含数字" in r.text and "请至少填写一项需备查的材料" in r.text
    assert _notice_row(app, drawn.task_id, p) is None
    assert task_status(app, drawn.task_id) == "sealed"
    assert "这个检查对象还没有检查通知书" in text_of(me.get(record_url(drawn.task_id, p, "notice/print"),
                                                           follow_redirects=True).text)


def test_a_notice_saved_over_a_teammates_newer_save_is_refused_showing_what_changed(app, login_as, drawn):
    from tests.conftest import loaded_version

    _with_documents(app)
    p = drawn.own_position()
    me, mate = login_as("inspector_jc"), login_as(next(u for u in drawn.team_of[p] if u != "inspector_jc"))
    url = record_url(drawn.task_id, p, "notice")
    assert post_as_loaded(me, url, notice_form()).status_code == 302
    stale = loaded_version(me, url)  # both open the saved notice at the same version
    assert post_as_loaded(mate, url, notice_form(place="劳动监察大队三楼询问室", contact_person="同事")).status_code == 302
    reads_before = len(_entries(app, "sealed_read:notice_form"))
    r = post(me, url, {**notice_form(time_from="14:00", time_to="16:30"), "row_version": stale})
    assert r.status_code == 409
    assert "别人已经保存了新的内容" in r.text and "您这次的修改没有保存" in r.text
    box = r.text[r.text.index("stale-changes"):r.text.index("</section>", r.text.index("stale-changes"))]
    for part in ("检查地点", "劳动监察大队三楼询问室", PLACE, "检查组联系人", "同事", "王检查", "开始时间", "14:00",
                 "09:00"):
        assert part in box, part
    assert "通知书文号" not in box  # unchanged fields are not listed
    assert 'value="14:00"' in r.text and 'value="16:30"' in r.text  # what I typed is kept in the form
    # the box shows what the page's own logged read showed, nothing read unlogged
    assert len(_entries(app, "sealed_read:notice_form")) == reads_before + 1
    assert _notice_row(app, drawn.task_id, p) == 2  # the refused save wrote nothing
    assert "劳动监察大队三楼询问室" in me.get(url).text
    refused = [json.loads(e.body)["reason"] for e in _entries(app, "refused:inspections.notice")]
    assert refused == ["stale_version"]


def test_the_checklist_lists_every_content_item_of_the_tasks_matters(app, login_as, drawn):
    with app.app_context():
        from ssj.models import TaskMatter

        second = Matter(code="JC-T-02", name="工资发放的检查", legal_basis="《工资支付暂行规定》",
                        content="工资支付情况\n最低工资标准执行情况\n工资支付记录保存情况", ratio_percent="5",
                        frequency=3, method="onsite",
                        section_id=db.session.execute(select(Matter.section_id)).scalars().first())
        db.session.add(second)
        db.session.flush()
        db.session.add(TaskMatter(task_id=drawn.task_id, matter_id=second.id))
        db.session.commit()
    p = drawn.own_position()
    for who in ("inspector_jc", "head_jc"):
        r = login_as(who).get(record_url(drawn.task_id, p, "checklist"))
        assert r.status_code == 200
        text = text_of(r.text)
        for item in ITEMS + ["最低工资标准执行情况", "工资支付记录保存情况"]:
            assert item in text, item
        assert text.count("工资支付情况") == 1  # shared by both matters, checked once
        assert drawn.name_of(p) in text and drawn.code_of[p] in text
        assert "符合" in text and "不符合" in text and "不涉及" in text and "备注" in text
        assert "被检查单位负责人签名" in text and "《工资支付暂行规定》" in text
        assert f"保密 · {who}" in r.text


# --- the matter directory keeps the documents a unit must prepare (Art 4, 8) ---------------------

MATTER_FORM = {
    "code": "JC-D-01", "name": "工资支付情况检查", "legal_basis": "《劳动保障监察条例》第十一条",
    "content": "工资支付情况\n最低工资标准执行情况", "documents": "营业执照副本\n工资支付凭证",
    "ratio_percent": "3", "frequency": "3", "method": "both", "status": "active",
}


def _matter_state(app, code: str):
    with app.app_context():
        m = db.session.execute(select(Matter).where(Matter.code == code)).scalar_one()
        return m.documents, m.version, [(v.change_kind, sorted(json.loads(v.changes_json))) for v in m.versions]


def test_matter_documents_survive_an_edit_and_each_change_is_a_version(app, login_as):
    c = login_as("staff_jc")
    r = post(c, "/matters/new", MATTER_FORM)
    assert r.status_code == 302
    assert "工资支付凭证" in c.get(r.location).text
    documents, version, _ = _matter_state(app, "JC-D-01")
    assert (documents, version) == ("营业执照副本\n工资支付凭证", 1)

    # Another field changes: the documents stay as they were.
    with app.app_context():
        mid = db.session.execute(select(Matter.id).where(Matter.code == "JC-D-01")).scalar_one()
    assert post_as_loaded(c, f"/matters/{mid}/edit", dict(MATTER_FORM, ratio_percent="5")).status_code == 302
    documents, version, versions = _matter_state(app, "JC-D-01")
    assert (documents, version) == ("营业执照副本\n工资支付凭证", 2)
    assert versions[0] == ("update", ["ratio_percent"])

    r = post_as_loaded(c, f"/matters/{mid}/edit", dict(MATTER_FORM, ratio_percent="5",
                                              documents="营业执照副本\n近12个月工资支付凭证\n考勤记录"))
    assert r.status_code == 302
    documents, version, versions = _matter_state(app, "JC-D-01")
    assert documents == "营业执照副本\n近12个月工资支付凭证\n考勤记录" and version == 3
    assert versions[0] == ("update", ["documents"])
    history = text_of(c.get(f"/matters/{mid}/versions").text)
    assert "需备查的材料" in history and "考勤记录" in history and "工资支付凭证" in history

    r = post_as_loaded(c, f"/matters/{mid}/edit", dict(MATTER_FORM, documents="甲" * 5001))
    assert r.status_code in (200, 422) and "需备查的材料过长" in r.text
    assert _matter_state(app, "JC-D-01")[1] == 3


def test_matter_import_with_and_without_the_documents_column(app, login_as):
    from tests.imports.conftest import headers, job_of, upload, xlsx

    row = {"事项编码": "JC-D-02", "事项名称": "劳动用工检查", "抽查依据": "《劳动保障监察条例》第十一条",
           "抽查内容": "劳动合同签订情况；工资支付情况", "需备查的材料": "营业执照副本；劳动合同及职工花名册",
           "抽查比例(%)": 1, "抽查频次(次/年)": 3, "检查方式(现场检查/书面检查/现场检查、书面检查)": "现场检查",
           "责任科室": "劳动保障监察大队", "状态": "有效"}
    staff = login_as("staff")
    with_column = headers("matters")
    assert "需备查的材料" in with_column
    job = job_of(app, upload(staff, "matters", xlsx(with_column, [[row[h] for h in with_column]])))
    assert (job.state, job.created) == ("done", 1)
    assert _matter_state(app, "JC-D-02")[:2] == ("营业执照副本\n劳动合同及职工花名册", 1)

    # A file made from the old template, without the column: it imports and leaves the documents alone.
    old = [h for h in with_column if h != "需备查的材料"]
    job = job_of(app, upload(staff, "matters", xlsx(old, [[row[h] for h in old]])))
    assert (job.state, job.created, job.updated, job.unchanged) == ("done", 0, 0, 1)
    job = job_of(app, upload(staff, "matters", xlsx(old, [[{**row, "抽查比例(%)": 2}[h] for h in old]])))
    assert (job.state, job.updated) == ("done", 1)
    documents, version, versions = _matter_state(app, "JC-D-02")
    assert (documents, version) == ("营业执照副本\n劳动合同及职工花名册", 2)
    assert versions[0] == ("import", ["ratio_percent"])

    # With the column, a changed list is a new version of its own.
    changed = {**row, "抽查比例(%)": 2, "需备查的材料": "营业执照副本\n考勤记录"}
    job = job_of(app, upload(staff, "matters", xlsx(with_column, [[changed[h] for h in with_column]])))
    assert (job.state, job.updated) == ("done", 1)
    documents, version, versions = _matter_state(app, "JC-D-02")
    assert (documents, version) == ("营业执照副本\n考勤记录", 3)
    assert versions[0] == ("import", ["documents"])

    # A new matter from an old file starts with an empty list, which the notice form then asks for.
    job = job_of(app, upload(staff, "matters", xlsx(old, [[{**row, "事项编码": "JC-D-03"}[h] for h in old]])))
    assert (job.state, job.created) == ("done", 1)
    assert _matter_state(app, "JC-D-03")[:2] == ("", 1)


def test_after_publication_the_same_people_still_print_but_nobody_changes_the_notice(app, login_as, drawn):
    from datetime import date, timedelta

    from tests.publication.conftest import publish, set_publish_date

    _with_documents(app)
    p = drawn.own_position()
    me = login_as("inspector_jc")
    assert post_as_loaded(me, record_url(drawn.task_id, p, "notice"), notice_form()).status_code == 302
    set_publish_date(app, drawn.task_id, date.today() - timedelta(days=1))
    publish(login_as, drawn.task_id)
    assert task_status(app, drawn.task_id) == "published"

    for who in ("inspector_jc", "head_jc"):
        c = login_as(who)
        assert PLACE in c.get(record_url(drawn.task_id, p, "notice/print")).text, who
        assert drawn.name_of(p) in c.get(record_url(drawn.task_id, p, "checklist")).text, who
        page = c.get(record_url(drawn.task_id, p, "notice")).text
        assert "保存检查通知书" not in page and PLACE in page, who
    r = post_as_loaded(me, record_url(drawn.task_id, p, "notice"), notice_form(place="公开后改的地点"))
    assert r.status_code == 409 and "检查通知书不能再修改" in r.text
    assert _notice_row(app, drawn.task_id, p) == 1
    assert "公开后改的地点" not in me.get(record_url(drawn.task_id, p, "notice/print")).text
    for who in ("admin", "discipline", "staff_sb"):
        assert login_as(who).get(record_url(drawn.task_id, p, "notice/print")).status_code in (403, 404), who
