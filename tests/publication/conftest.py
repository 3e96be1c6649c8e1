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
def drawn(app, login_as) -> World:
    """A sealed draw of five targets whose publish date was yesterday."""
    world = build_world(app)
    full_draw(login_as("staff"), app, world.task_id)
    set_publish_date(app, world.task_id, date.today() - timedelta(days=1))
    world.extra["codes"] = drawn_codes(app, world.task_id)
    return world


def request_url(task_id: int) -> str:
    return f"/tasks/{task_id}/publication/request"


def approve_url(task_id: int) -> str:
    return f"/tasks/{task_id}/publication/approve"


def ask(client, task_id: int, note: str = "检查和报告已全部完成。"):
    return post(client, request_url(task_id), {"note": note})


def approve(client, task_id: int, password: str):
    return post(client, approve_url(task_id), {"password": password})


def publish(login_as, task_id: int) -> None:
    from tests.factories import PASSWORD

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
