"""Art 9 deadlines in Chinese working days, the per-target report, follow-up (Art 10) and
the section's final report approved by a head who did not draft it."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from ssj.extensions import db
from ssj.inspections import reports
from ssj.models import AccessLogEntry, FinalReport
from tests.ceremony.conftest import add_user, text_of
from tests.conftest import loaded_version, post, post_as_loaded

from .conftest import recheck, record_url, save_record, submit, task_status


def test_report_due_skips_the_national_day_holiday_and_counts_the_make_up_saturday(app):
    with app.test_request_context():
        due = reports.report_due({"ended": "2025-09-30"}, today=date(2025, 10, 9))
        # 10-01..10-08 are holidays; Saturday 10-11 is a make-up working day.
        assert due.due == date(2025, 10, 14)
        assert not due.overdue and due.countdown.label == "还剩4个工作日"
        assert not due.warnings
        late = reports.report_due({"ended": "2025-09-30"}, today=date(2025, 10, 15))
        assert late.overdue and late.countdown.label == "已逾期1个工作日"


def test_a_year_without_holiday_data_warns_and_does_not_crash(app, login_as, drawn):
    with app.test_request_context():
        due = reports.report_due({"ended": "2030-12-27"}, today=date(2030, 12, 27))
        assert any("2031年的法定节假日尚未录入" in w for w in due.warnings)
    p = drawn.own_position()
    me = login_as("inspector_jc")
    assert save_record(me, drawn, p, {"action": "save", "ended": "2030-12-27"}).status_code == 302
    page = me.get(record_url(drawn.task_id, p)).text
    assert "2031年的法定节假日尚未录入" in page and "报告期限 2031-01-03" in page


def test_an_overdue_report_is_shown_in_red_to_the_section(app, login_as, drawn):
    p = drawn.own_position()
    submit(login_as("inspector_jc"), drawn, p, started="2026-01-05", ended="2026-01-06")
    page = login_as("head_jc").get(f"/tasks/{drawn.task_id}/inspections").text
    assert 'class="due overdue"' in page and "报告期限 2026-01-13" in page and "已逾期" in page


def test_the_art9_report_has_every_required_part_and_a_watermark(app, login_as, drawn):
    p = drawn.own_position()
    submit(login_as("inspector_jc"), drawn, p)
    r = login_as("supervisor").get(record_url(drawn.task_id, p, "report"))
    assert r.status_code == 200
    page = text_of(r.text)
    for part in ("检查时间", "检查人姓名", "检查单位名称", "检查内容", "现场检查笔录",
                 "对被查对象执行法律法规等情况的评价", "处理意见和建议"):
        assert part in page, part
    assert drawn.name_of(p) in page and "检查员JC01" in page and "2026-03-02 至 2026-03-03" in page
    assert 'class="watermark"' in r.text and "supervisor" in page
    assert r.headers["Cache-Control"].startswith("no-store")


def test_an_overdue_rectification_is_flagged_until_rechecked(app, login_as, drawn):
    """Art 10: the 责令改正 chosen in the record, with its one deadline, is the tracked order."""
    p = drawn.own_position()
    me = login_as("inspector_jc")
    # The form below the record no longer takes a second rectification deadline.
    submit(me, drawn, p, rectify_deadline="2026-01-10")
    r = post(me, record_url(drawn.task_id, p, "followups"), {"kind": "rectify", "deadline": "2026-02-01"})
    assert r.status_code == 422 and "请在上方检查记录的“处理”中选择并填写改正期限" in r.text
    r = post(me, record_url(drawn.task_id, p, "followups"), {"kind": "penalty"})
    assert r.status_code == 422 and "处罚决定书文号" in r.text
    assert "逾期未复查" in login_as("staff_jc").get(f"/tasks/{drawn.task_id}/inspections").text
    assert "有逾期未复查的责令改正" in me.get("/inspections").text
    with app.app_context():
        from ssj.models import FollowUp
        fid = db.session.execute(select(FollowUp.id)).scalar_one()
    assert recheck(me, drawn, p, fid, recheck_date="2026-01-12", recheck_outcome="已补发到位").status_code == 302
    assert "逾期未复查" not in login_as("staff_jc").get(f"/tasks/{drawn.task_id}/inspections").text
    assert "已补发到位" in me.get(record_url(drawn.task_id, p)).text


def _submit_all(login_as, drawn, done=()):
    for position in drawn.team_of:
        if position in done:
            continue
        r = submit(login_as(drawn.member(position)), drawn, position,
                   result="未发现问题" if position % 2 else "发现问题已责令改正")
        assert r.status_code == 302


def test_the_final_report_is_approved_by_a_head_who_did_not_draft_it(app, login_as, drawn):
    url = f"/tasks/{drawn.task_id}/final-report"
    staff = login_as("staff_jc")
    # not before every record is in
    first = next(iter(drawn.team_of))
    submit(login_as(drawn.member(first)), drawn, first)
    r = post_as_loaded(staff, url, {"text": "总体良好。"})
    assert r.status_code == 409 and "还有" in r.text and "总体良好。" in r.text
    _submit_all(login_as, drawn, done={first})

    head = login_as("head_jc")
    assert post_as_loaded(head, url, {"text": "负责人自己起草的报告。"}).status_code == 302
    r = post(head, url + "/approve", {"row_version": loaded_version(head, url)})
    assert r.status_code == 403 and "起草人以外" in r.text
    assert task_status(app, drawn.task_id) == "inspecting"

    assert post_as_loaded(staff, url, {"text": "本次抽查总体良好，个别单位工资支付不规范。"}).status_code == 302
    assert post(staff, url + "/approve", {"row_version": loaded_version(staff, url)}).status_code == 403  # staff cannot approve at all
    assert "审核总结报告" in head.get("/todo").text
    page = text_of(head.get(url).text)
    assert "发现问题已责令改正" in page and "本次抽查总体良好" in page
    assert post(head, url + "/approve", {"row_version": loaded_version(head, url)}).status_code == 302
    assert task_status(app, drawn.task_id) == "reported"
    with app.app_context():
        row = db.session.execute(select(FinalReport)).scalar_one()
        assert row.state == "approved" and row.approved_by.username == "head_jc" and row.drafted_by.username == "staff_jc"
    # records are closed once reported
    p = drawn.own_position()
    r = submit(login_as("inspector_jc"), drawn, p)
    assert r.status_code == 409


def test_a_second_head_may_approve_what_the_first_drafted(app, login_as, drawn):
    with app.app_context():
        add_user("head_jc2", ["section_head"], "RSJ", "JCDD")
        db.session.commit()
    _submit_all(login_as, drawn)
    url = f"/tasks/{drawn.task_id}/final-report"
    assert post_as_loaded(login_as("head_jc"), url, {"text": "报告正文"}).status_code == 302
    second = login_as("head_jc2")
    assert post(second, url + "/approve", {"row_version": loaded_version(second, url)}).status_code == 302
    assert task_status(app, drawn.task_id) == "reported"


def test_an_overdue_final_report_is_flagged_to_the_section_head(app, login_as, drawn):
    from ssj.models import Task

    with app.app_context():
        task = db.session.get(Task, drawn.task_id)
        task.planned_end = date(2026, 1, 6)
        db.session.commit()
    page = login_as("head_jc").get("/inspections").text
    assert "总结报告期限 2026-01-13" in page and 'class="due overdue"' in page
    with app.app_context():
        task = db.session.get(Task, drawn.task_id)
        task.planned_end = date.today()
        db.session.commit()
    page = login_as("head_jc").get("/inspections").text
    assert "总结报告期限" in page and 'class="due overdue"' not in page


def test_the_to_do_page_lists_overdue_rectifications_and_reports_without_naming_targets(app, login_as, drawn):
    p = drawn.own_position()
    me = login_as("inspector_jc")
    submit(me, drawn, p)
    for who in ("inspector_jc", "staff_jc"):
        page = login_as(who).get("/todo").text
        assert "复查逾期的责令改正" in page and f"第 {p} 号对象" in page, who
        assert drawn.name_of(p) not in page
    assert "复查逾期的责令改正" not in login_as("staff_sb").get("/todo").text
    assert "形成检查报告" in login_as("head_jc").get("/todo").text
    post(login_as("staff_jc"), f"/tasks/{drawn.task_id}/final-report", {"text": "x"})  # refused: records missing
    assert "审核总结报告" not in login_as("head_jc").get("/todo").text


def test_a_refused_final_report_is_still_logged(app, login_as, drawn):
    # The refusal rolls back the reads the view had logged; the request must
    # then be logged afresh, not left out of the access log altogether.
    def entries():
        with app.app_context():
            return db.session.execute(
                select(AccessLogEntry.action, AccessLogEntry.outcome).where(AccessLogEntry.username == "staff_jc")
                .order_by(AccessLogEntry.seq)
            ).all()

    submit(login_as("inspector_jc"), drawn, drawn.own_position())
    staff = login_as("staff_jc")
    before = len(entries())
    r = post(staff, f"/tasks/{drawn.task_id}/final-report", {"text": "检查已完成。"})
    assert r.status_code >= 400
    after = entries()
    assert len(after) == before + 1 and after[-1].outcome != "ok"


def test_a_redraft_after_the_head_opened_the_report_is_not_approved_unseen(app, login_as, drawn):
    _submit_all(login_as, drawn, done=set())
    url = f"/tasks/{drawn.task_id}/final-report"
    staff, head = login_as("staff_jc"), login_as("head_jc")
    assert post_as_loaded(staff, url, {"text": "第一稿：总体良好。"}).status_code == 302
    seen = loaded_version(head, url)  # the head reads the first draft
    assert post_as_loaded(staff, url, {"text": "第二稿：另有两家单位拖欠工资。"}).status_code == 302
    r = post(head, url + "/approve", {"row_version": seen})
    assert r.status_code == 409 and "第二稿" in r.text
    assert task_status(app, drawn.task_id) == "inspecting"
    assert post(head, url + "/approve", {"row_version": loaded_version(head, url)}).status_code == 302


def test_a_final_report_drafted_over_a_colleagues_newer_draft_is_refused_showing_what_changed(app, login_as, drawn):
    _submit_all(login_as, drawn, done=set())
    url = f"/tasks/{drawn.task_id}/final-report"
    staff, head = login_as("staff_jc"), login_as("head_jc")
    assert post_as_loaded(staff, url, {"text": "第一稿：总体良好。"}).status_code == 302
    stale = loaded_version(staff, url)  # both open the first draft
    assert post_as_loaded(head, url, {"text": "科长改的第二稿。"}).status_code == 302
    r = post(staff, url, {"row_version": stale, "text": "我改的第二稿。"})
    assert r.status_code == 409 and "别人已经重新起草或审核了它" in r.text
    box = r.text[r.text.index("stale-changes"):r.text.index("</section>", r.text.index("stale-changes"))]
    assert "总体情况与处理意见" in box and "科长改的第二稿。" in box and "我改的第二稿。" in box
    assert "我改的第二稿。</textarea>" in r.text  # the typed text is kept in the form
    assert "我改的第二稿" not in staff.get(url).text  # nothing overwritten
    with app.app_context():
        refused = db.session.execute(select(AccessLogEntry.body).where(AccessLogEntry.outcome == "refused")).scalars()
        assert [json.loads(b)["reason"] for b in refused] == ["stale_version"]


def test_the_approved_final_report_reaches_the_leaderships_todo_and_is_acknowledged(app, login_as, drawn):
    """Art 9 "报局党组": the approved report is on the supervisor's 待办 until read; the reading is logged."""
    _submit_all(login_as, drawn)
    url = f"/tasks/{drawn.task_id}/final-report"
    assert post(login_as("staff_jc"), url, {"text": "本次抽查总体良好。"}).status_code == 302
    leader = login_as("supervisor")
    assert "阅知总结报告" not in leader.get("/todo").text  # a draft is not yet for the leadership
    head = login_as("head_jc")
    assert post(head, url + "/approve", {"row_version": loaded_version(head, url)}).status_code == 302
    todo = leader.get("/todo").text
    assert "阅知总结报告" in todo and url in todo
    assert post(login_as("head_jc"), url + "/acknowledge").status_code == 403  # only the leadership
    page = leader.get(url).text
    assert "已阅" in page and "本次抽查总体良好" in page
    assert post(leader, url + "/acknowledge").status_code == 302
    assert "阅知总结报告" not in leader.get("/todo").text
    assert "阅知" in text_of(leader.get(url).text)
    r = post(leader, url + "/acknowledge")
    assert r.status_code == 409 and "已由" in r.text
    with app.app_context():
        row = db.session.execute(select(FinalReport)).scalar_one()
        assert row.acknowledged_by.username == "supervisor" and row.acknowledged_at is not None
        logged = db.session.execute(select(AccessLogEntry.task_id).where(
            AccessLogEntry.action == "final_report_acknowledged")).scalars().all()
    assert logged == [drawn.task_id]
