"""The two-person unseal (SPEC §4 "Publication"; Art 13): who may ask, who may
approve, and every refusal on the record."""
from __future__ import annotations

from datetime import date, timedelta

from ssj.extensions import db
from ssj.models import PublishedTask, Task, User
from tests.ceremony.conftest import add_user, build_world, full_draw
from tests.conftest import login
from tests.factories import PASSWORD

from .conftest import approve, ask, log_entries, publish, set_publish_date


def _status(app, task_id: int) -> str:
    with app.app_context():
        return db.session.get(Task, task_id).status


def _published(app, task_id: int) -> bool:
    with app.app_context():
        return db.session.get(PublishedTask, task_id) is not None


def test_before_the_publish_date_the_request_is_refused_with_the_date(app, login_as):
    world = build_world(app)
    full_draw(login_as("staff"), app, world.task_id)
    later = date.today() + timedelta(days=30)
    set_publish_date(app, world.task_id, later)
    r = ask(login_as("staff"), world.task_id)
    assert r.status_code == 409
    assert f"{later:%Y年%m月%d日}" in r.text and "还不能公开" in r.text
    assert _status(app, world.task_id) == "sealed"
    refused = log_entries(app, "publication_refused")
    assert [e.outcome for e in refused] == ["denied"]
    assert "before_publish_date" in refused[0].body


def test_the_requester_cannot_approve_their_own_request(app, drawn, login_as):
    with app.app_context():
        add_user("head_and_boss", ["section_head", "supervisor"], "RSJ", "JCDD")
        db.session.commit()
    both = app.test_client()
    assert login(both, "head_and_boss").status_code == 302
    assert ask(both, drawn.task_id).status_code == 302
    r = approve(both, drawn.task_id, PASSWORD)
    assert r.status_code == 403
    assert "申请人不能自己批准" in r.text
    assert not _published(app, drawn.task_id)
    assert "same_person" in log_entries(app, "publication_refused")[-1].body
    # Another supervisor may.
    assert approve(login_as("supervisor"), drawn.task_id, PASSWORD).status_code == 302
    assert _published(app, drawn.task_id)


def test_a_wrong_password_is_refused_logged_and_counted(app, drawn, login_as):
    assert ask(login_as("staff"), drawn.task_id).status_code == 302
    boss = login_as("supervisor")
    r = approve(boss, drawn.task_id, "not-my-password")
    assert r.status_code == 422
    assert "密码不正确" in r.text
    assert not _published(app, drawn.task_id)
    assert _status(app, drawn.task_id) == "publishing"
    assert "wrong_password" in log_entries(app, "publication_refused")[-1].body
    with app.app_context():
        from sqlalchemy import select

        assert db.session.execute(select(User.failed_logins).where(User.username == "supervisor")).scalar() == 1
    # The right password then works, and resets the count.
    assert approve(boss, drawn.task_id, PASSWORD).status_code == 302
    assert _published(app, drawn.task_id)


def test_staff_cannot_approve_and_other_sections_cannot_ask(app, drawn, login_as):
    assert ask(login_as("staff_sb"), drawn.task_id).status_code == 403
    assert ask(login_as("staff"), drawn.task_id).status_code == 302
    assert approve(login_as("staff"), drawn.task_id, PASSWORD).status_code == 403
    assert approve(login_as("head_jc"), drawn.task_id, PASSWORD).status_code == 403
    assert not _published(app, drawn.task_id)


def test_approval_publishes_and_logs_each_step(app, drawn, login_as):
    publish(login_as, drawn.task_id)
    assert _status(app, drawn.task_id) == "published"
    assert len(log_entries(app, "publication_requested")) == 1
    approved = log_entries(app, "publication_approved")
    assert len(approved) == 1 and '"nonce_revealed":true' in approved[0].body
    # The supervisor's decryption was a logged read of the sealed result.
    assert log_entries(app, "sealed_read:publication")
    page = login_as("staff").get(f"/tasks/{drawn.task_id}/publication")
    assert "已公开" in page.text


def test_a_result_altered_after_the_draw_is_not_published(app, drawn, login_as):
    from sqlalchemy import select

    from ssj.models import DrawAttempt
    from ssj.sealing.service import open_json, seal_json

    with app.app_context():
        a = db.session.execute(select(DrawAttempt).where(DrawAttempt.task_id == drawn.task_id)).scalar_one()
        result = open_json(drawn.task_id, "result", a.id, a.result_sealed)
        result["teams"][0]["inspectors"].reverse()  # an insider with the keys re-seals a changed team
        a.result_sealed = seal_json(drawn.task_id, "result", a.id, result)
        db.session.commit()
    assert ask(login_as("staff"), drawn.task_id).status_code == 302
    r = approve(login_as("supervisor"), drawn.task_id, PASSWORD)
    assert r.status_code == 409 and "结果承诺值不一致" in r.text
    assert not _published(app, drawn.task_id)
    refused = log_entries(app, "publication_refused")[-1]
    assert refused.outcome == "error" and "commitment_mismatch" in refused.body


def test_a_blob_that_does_not_authenticate_publishes_nothing_and_is_logged(app, drawn, login_as):
    from sqlalchemy import select

    from ssj.models import DrawAttempt

    with app.app_context():
        a = db.session.execute(select(DrawAttempt).where(DrawAttempt.task_id == drawn.task_id)).scalar_one()
        a.result_sealed = a.pools_sealed  # a sealed blob moved to the wrong column
        db.session.commit()
    assert ask(login_as("staff"), drawn.task_id).status_code == 302
    r = approve(login_as("supervisor"), drawn.task_id, PASSWORD)
    assert r.status_code == 500 and "保密数据校验失败" in r.text
    assert not _published(app, drawn.task_id)
    assert _status(app, drawn.task_id) == "publishing"
    assert log_entries(app, "sealed_integrity_failure")


# --- the publication gate (SPEC §4: every record in, the final report approved) -----------------


def test_a_request_with_a_record_missing_is_refused_naming_the_positions(app, uninspected, login_as):
    from .conftest import complete_inspections

    page = login_as("supervisor").get(f"/tasks/{uninspected.task_id}/publication").text
    assert "检查进度" in page and "已提交 0 / 5" in page  # the progress is on the page
    r = ask(login_as("staff"), uninspected.task_id)
    assert r.status_code == 409
    assert "还有 5 个检查对象（第 1、2、3、4、5 号）没有提交检查记录" in r.text
    assert _status(app, uninspected.task_id) == "sealed"  # a refused step writes nothing
    assert "records_missing" in log_entries(app, "publication_refused")[-1].body
    complete_inspections(app, uninspected.task_id)
    assert ask(login_as("staff"), uninspected.task_id).status_code == 302


def test_a_request_before_the_final_report_is_approved_is_refused(app, uninspected, login_as):
    from ssj.inspections import reports

    from .conftest import complete_inspections

    complete_inspections(app, uninspected.task_id)
    with app.app_context():  # back to a draft awaiting the head's approval
        row = reports.get(db.session.get(Task, uninspected.task_id))
        row.state, row.approved_by_id, row.approved_at = "draft", None, None
        db.session.commit()
    page = login_as("supervisor").get(f"/tasks/{uninspected.task_id}/publication").text
    assert "已全部提交（5 个）" in page and "待审核" in page
    r = ask(login_as("staff"), uninspected.task_id)
    assert r.status_code == 409 and "总结报告还没有经科室负责人审核" in r.text
    assert "final_report_not_approved" in log_entries(app, "publication_refused")[-1].body
    assert not _published(app, uninspected.task_id)


def test_approval_is_refused_when_a_record_went_back_to_draft_after_the_request(app, drawn, login_as):
    from sqlalchemy import select

    from ssj.models import InspectionRecord

    assert ask(login_as("staff"), drawn.task_id).status_code == 302
    with app.app_context():
        row = db.session.execute(select(InspectionRecord).where(InspectionRecord.task_id == drawn.task_id,
                                                                InspectionRecord.position == 2)).scalar_one()
        row.state = "draft"
        db.session.commit()
    r = approve(login_as("supervisor"), drawn.task_id, PASSWORD)
    assert r.status_code == 409 and "第 2 号" in r.text
    assert not _published(app, drawn.task_id)
