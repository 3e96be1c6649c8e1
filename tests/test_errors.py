"""Every error ends in the app's Chinese page with its log entry (issue #13).

Fault injection: the database raises in the middle of a request, on the
statement that writes the change, as a full disk or a lost connection would.
"""
from __future__ import annotations

import json
from contextlib import contextmanager

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError, OperationalError

from ssj.extensions import db
from ssj.models import AccessLogEntry, Matter

from .conftest import post, post_as_loaded
from .directories import builders
from .directories.test_matters import FORM


@contextmanager
def failing(app, statement_start: str, error):
    """Make the next statement starting with `statement_start` fail with `error` (once)."""
    with app.app_context():
        engine = db.engine
    fired = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not fired and statement.lstrip().upper().startswith(statement_start):
            fired.append(statement)
            raise error

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _entries(app, outcome: str) -> list[dict]:
    with app.app_context():
        bodies = db.session.execute(select(AccessLogEntry.body).where(AccessLogEntry.outcome == outcome)).scalars()
        return [json.loads(b) for b in bodies]


def test_a_database_failure_mid_request_ends_in_the_chinese_error_page_with_a_log_entry(app, login_as):
    mid = builders.matter(app)
    c = login_as("staff_jc")
    url = f"/matters/{mid}/edit"
    with failing(app, "UPDATE MATTER", OperationalError("UPDATE matter", {}, Exception("disk I/O error"))) as fired:
        r = post_as_loaded(c, url, dict(FORM, code="JC-001", name="不会保存的名称"))
    assert fired, "the fault was not injected: the test would prove nothing"
    assert r.status_code == 500
    assert "系统错误" in r.text and "您的操作未被保存" in r.text
    assert "disk I/O" not in r.text and "Traceback" not in r.text
    errors = _entries(app, "error")
    assert [(e["action"], e["reason"], e["objects"]["error"]) for e in errors] == [
        ("error:directories.matter_edit", "exception", "OperationalError")]
    with app.app_context():
        assert db.session.get(Matter, mid).name != "不会保存的名称"
    # the instance goes on working
    assert c.get(url).status_code == 200


def test_a_unique_clash_outside_a_form_ends_in_a_409_page_not_a_bare_500(app, login_as):
    c = login_as("staff_jc")
    clash = IntegrityError("INSERT INTO matter", {}, Exception("UNIQUE constraint failed"))
    with failing(app, "INSERT INTO MATTER", clash) as fired:
        r = post(c, "/matters/new", dict(FORM, code="JC-077"))
    assert fired
    assert r.status_code == 409 and "别人同时修改了同一内容" in r.text
    refused = _entries(app, "refused")
    assert [(e["reason"], e["objects"]["error"]) for e in refused] == [("conflict", "IntegrityError")]
    with app.app_context():
        assert db.session.execute(select(Matter).where(Matter.code == "JC-077")).first() is None
