"""A drawn task ready for publication: the ceremony run through its real routes,
then the publish date moved into the past or left in the future."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry, Task
from tests.ceremony.conftest import World, build_world, drawn_codes, full_draw
from tests.conftest import post


def set_publish_date(app, task_id: int, when: date) -> None:
    with app.app_context():
        db.session.get(Task, task_id).publish_date = when
        db.session.commit()


@pytest.fixture
def uninspected(app, login_as) -> World:
    """A sealed draw of five targets whose publish date was yesterday, nothing inspected yet."""
    world = build_world(app)
    full_draw(login_as("staff"), app, world.task_id)
    set_publish_date(app, world.task_id, date.today() - timedelta(days=1))
    world.extra["codes"] = drawn_codes(app, world.task_id)
    return world


@pytest.fixture
def drawn(app, uninspected) -> World:
    """The same with every record submitted and the final report approved: ready to ask for publication."""
    complete_inspections(app, uninspected.task_id)
    return uninspected


def request_url(task_id: int) -> str:
    return f"/tasks/{task_id}/publication/request"


def approve_url(task_id: int) -> str:
    return f"/tasks/{task_id}/publication/approve"


def ask(client, task_id: int, note: str = "检查和报告已全部完成。"):
    return post(client, request_url(task_id), {"note": note})


def approve(client, task_id: int, password: str):
    return post(client, approve_url(task_id), {"password": password})


def complete_inspections(app, task_id: int) -> None:
    """Every position's record submitted and the final report approved (what publication requires, SPEC §4),
    for tests whose subject is what comes after: each missing record is submitted as 未发现问题 by a team
    member with an account (else the organizer), through the inspection service as that person."""
    from ssj import clock
    from ssj.ceremony import service as ceremony
    from ssj.demo_lifecycle import acting_as
    from ssj.inspections import reports
    from ssj.inspections import service as inspections
    from ssj.models import Assignment, User

    with app.app_context():
        task = db.session.get(Task, task_id)
        by_name = {u.username: u for u in db.session.execute(select(User)).scalars()}
        attempt = ceremony.sealed_attempt(task)
        today = clock.today().isoformat()
        for position in inspections.positions_of(task):
            row = inspections.get_record(task, position)
            if row is not None and row.state == "submitted":
                continue
            team = db.session.execute(
                select(Assignment).where(Assignment.attempt_id == attempt.id, Assignment.position == position,
                                         Assignment.active.is_(True)).order_by(Assignment.id)
            ).scalars().all()
            writer = next((a.inspector.user for a in team if a.inspector.user is not None), by_name["staff_jc"])
            with acting_as(writer):
                form = inspections.RecordForm(method="onsite", started=today, ended=today, items=[],
                                              findings="未发现违法行为", onsite_record="查阅台账。", evaluation="遵守规定。",
                                              result="未发现问题", handling="none", errors={})
                inspections.save(task, team[0], form, "submit", loaded_version=row.row_version if row else None)
        report = reports.get(task)
        if report is None or report.state != "approved":
            with acting_as(by_name["staff_jc"]):
                values = []
                for row in inspections.records_of(task):
                    value = inspections.read_record(row, "final_report_source")
                    value["_position"] = row.position
                    values.append(value)
                reports.draft(task, values, len(inspections.positions_of(task)), "检查全部完成，未发现问题。")
            with acting_as(by_name["head_jc"]):
                reports.approve(task, reports.get(task))
        db.session.commit()


def publish(login_as, task_id: int) -> None:
    from tests.factories import PASSWORD

    complete_inspections(login_as("staff").application, task_id)
    assert ask(login_as("staff"), task_id).status_code == 302
    r = approve(login_as("supervisor"), task_id, PASSWORD)
    assert r.status_code == 302, r.text


def log_entries(app, action: str) -> list[AccessLogEntry]:
    with app.app_context():
        rows = db.session.execute(
            select(AccessLogEntry).where(AccessLogEntry.action == action).order_by(AccessLogEntry.seq)
        ).scalars().all()
        db.session.expunge_all()
        return rows
