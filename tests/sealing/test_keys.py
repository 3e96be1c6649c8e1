"""Task data keys: wrapped by the KEK, rotation rewraps them, a missing key is an error."""
import json

import pytest
from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry, Section, Task, TaskKey, User
from ssj.sealing import envelope, service


def _task(app) -> int:
    with app.app_context():
        section = db.session.execute(select(Section).where(Section.code == "JCDD")).scalar_one()
        user = db.session.execute(select(User).where(User.username == "staff_jc")).scalar_one()
        task = Task(section=section, year=2026, name="测试任务", organizer=user)
        db.session.add(task)
        db.session.commit()
        return task.id


def test_sealed_json_round_trip_and_key_is_stored_wrapped(app):
    task_id = _task(app)
    with app.app_context():
        blob = service.seal_json(task_id, "selection", 1, {"code": "91411623MA40000001"})
        db.session.commit()
        row = db.session.get(TaskKey, task_id)
        dk = service.data_key(task_id)
        assert dk not in row.wrapped_key and len(row.wrapped_key) > 32
        assert service.open_json(task_id, "selection", 1, blob) == {"code": "91411623MA40000001"}


def test_read_sealed_logs_the_task_and_an_hmac_never_the_code(app):
    task_id = _task(app)
    with app.app_context():
        blob = service.seal_json(task_id, "selection", 1, {"code": "91411623MA40000001"})
        with app.test_request_context():
            service.read_sealed(task_id, "selection", 1, blob, purpose="test",
                                credit_codes=["91411623MA40000001"], positions=[1])
            db.session.commit()
        body = db.session.execute(
            select(AccessLogEntry.body).where(AccessLogEntry.action == "sealed_read:test")
        ).scalar_one()
    assert "91411623MA40000001" not in body
    entry = json.loads(body)
    assert entry["task_id"] == task_id and len(entry["objects"]["target_refs"][0]) == 64


def test_keys_rotate_rewraps_and_old_data_still_opens(app):
    task_id = _task(app)
    with app.app_context():
        blob = service.seal_json(task_id, "selection", 1, {"n": 1})
        db.session.commit()
        old_id = db.session.get(TaskKey, task_id).kek_id
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = db.session.get(TaskKey, task_id)
        assert row.kek_id != old_id
        assert service.open_json(task_id, "selection", 1, blob) == {"n": 1}
        kek_now = app.extensions["ssj.keys"]().kek
        assert envelope.kek_id(kek_now) == row.kek_id


def test_data_key_under_an_unknown_kek_is_a_clear_error(app, instance_path):
    task_id = _task(app)
    with app.app_context():
        service.seal_json(task_id, "selection", 1, {"n": 1})
        db.session.commit()
    (instance_path / "keys" / "kek.key").write_bytes(envelope.new_data_key())
    with app.app_context():
        with pytest.raises(service.MissingKEK, match="恢复"):
            service.data_key(task_id)


def test_database_errors_do_not_carry_bound_values(app):
    """A traceback in the server log must not name a credit code the query was about."""
    import sqlalchemy.exc

    with app.app_context():
        with pytest.raises(sqlalchemy.exc.StatementError) as caught:
            db.session.execute(db.text("SELECT * FROM no_such_table WHERE code = :c"), {"c": "91411623MA40000001"})
        assert "91411623MA40000001" not in str(caught.value)
