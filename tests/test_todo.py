"""The to-do page says what needs doing now, by whom and by when (SPEC §9)."""
from datetime import date

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AnnualPlan, Section, Task, User


def test_staff_are_asked_to_make_this_years_plan(login_as):
    page = login_as("staff").get("/todo").text
    assert f"制定 {date.today().year} 年度抽查计划" in page


def test_supervisor_sees_a_submitted_plan_and_staff_no_longer_does(app, login_as):
    with app.app_context():
        section = db.session.execute(select(Section).where(Section.code == "JCDD")).scalar_one()
        staff = db.session.execute(select(User).where(User.username == "staff_jc")).scalar_one()
        db.session.add(AnnualPlan(section=section, year=date.today().year, status="submitted",
                                  submitted_by_id=staff.id))
        db.session.commit()
    assert "审批 劳动保障监察大队" in login_as("supervisor").get("/todo").text
    assert "年度抽查计划" not in login_as("staff").get("/todo").text.split("您的职责")[0]
    # The discipline office and other sections are not asked.
    assert "审批" not in login_as("discipline").get("/todo").text.split("您的职责")[0]


def test_planned_task_asks_for_a_draw_with_its_deadline(app, login_as):
    with app.app_context():
        section = db.session.execute(select(Section).where(Section.code == "JCDD")).scalar_one()
        staff = db.session.execute(select(User).where(User.username == "staff_jc")).scalar_one()
        db.session.add(Task(section=section, year=2026, name="第四季度劳动用工专项抽查", organizer=staff,
                            planned_start=date(2026, 10, 1)))
        db.session.commit()
    page = login_as("staff").get("/todo").text
    assert "组织摇号：第四季度劳动用工专项抽查" in page
    assert "期限：2026-10-01" in page
    if date.today() > date(2026, 10, 8):
        assert "已逾期" in page and 'class="overdue"' in page
    assert "第四季度" not in login_as("staff_sb").get("/todo").text  # another section
