"""One clock on the inspection pages (SPEC §7, §9): at 00:30 in Beijing (16:30 UTC) an end date
of today is accepted, and the report deadline reads the same on the record page, the 待办 and the
dashboard."""
from __future__ import annotations

from datetime import date, datetime, timezone

from ssj import clock
from ssj.extensions import db
from ssj.models import Task
from tests.conftest import post

from .conftest import complete, record_url, save_record

# 2026-03-09 16:30 UTC = Tuesday 2026-03-10 00:30 in Beijing.
LATE_EVENING_UTC = datetime(2026, 3, 9, 16, 30, tzinfo=timezone.utc)


def test_an_end_date_of_today_is_accepted_after_midnight_in_beijing(app, login_as, drawn):
    p = drawn.own_position()
    me = login_as("inspector_jc")
    with clock.frozen(LATE_EVENING_UTC):
        response = post(me, record_url(drawn.task_id, p),
                         {**complete(started="2026-03-09", ended="2026-03-10", rectify_deadline="2026-03-30"),
                          "action": "submit"})
        assert response.status_code == 302, response.text
        page = me.get(record_url(drawn.task_id, p)).text
    assert "不能晚于今天" not in page
    assert "报告期限 2026-03-17" in page and "还剩5个工作日" in page
    # The 填写 time is shown as the Beijing time of submission, not as a raw UTC stamp.
    seen = login_as("head_jc").get(record_url(drawn.task_id, p)).text
    assert "2026-03-10 00:30" in seen and "T16:30" not in seen


def test_the_deadline_is_the_same_on_the_record_page_the_todo_and_the_dashboard(app, login_as, drawn):
    """Ended Monday 03-02, due Monday 03-09; at 00:30 on 03-10 in Beijing it is overdue everywhere."""
    with app.app_context():
        task = db.session.get(Task, drawn.task_id)
        task.planned_start, task.planned_end, task.year = date(2026, 2, 20), date(2026, 3, 2), 2026
        db.session.commit()
    p = drawn.own_position()
    me = login_as("inspector_jc")
    assert save_record(me, drawn, p, {"action": "save", "started": "2026-02-27",
                                                     "ended": "2026-03-02"}).status_code == 302
    head = login_as("head_jc")
    with clock.frozen(LATE_EVENING_UTC):
        record = me.get(record_url(drawn.task_id, p)).text
        todo = head.get("/todo").text
        dashboard = head.get("/oversight/dashboard?year=2026").text
    assert 'class="due overdue">报告期限 2026-03-09（已逾期1个工作日）' in record
    assert "今天是 2026-03-10" in todo
    assert "期限：2026-03-09，已逾期1个工作日" in todo
    assert '<td class="overdue">2026-03-09</td><td>逾期未交</td>' in dashboard
