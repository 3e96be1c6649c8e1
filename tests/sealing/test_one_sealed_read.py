"""One sealed read (SPEC §4; STYLE 4): a person sees sealed content only through `read_sealed`,
which decrypts once and logs the read before anything can be served (at once in a change, at the
commit of a page read); the plain decrypt stays on the server."""
from __future__ import annotations

import ast
import json
from pathlib import Path

from sqlalchemy import select

from ssj import audit
from ssj.extensions import db
from ssj.models import AccessLogEntry
from ssj.sealing import envelope
from ssj.sealing import service as sealing
from tests.sealing.test_keys import _task

ROOT = Path(__file__).resolve().parents[2] / "ssj"


def test_no_view_decrypts_without_logging():
    """No routes module reaches the plain decrypt (open_json, envelope.open_sealed, data_key)."""
    offenders = []
    for path in ROOT.glob("*/routes.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
            if name in ("open_json", "open_sealed", "data_key"):
                offenders.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {name}")
            if isinstance(node, ast.ImportFrom) and any(a.name in ("open_json", "open_sealed") for a in node.names):
                offenders.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} imports the plain decrypt")
    assert not offenders, offenders


def test_read_sealed_decrypts_once_and_logs_the_codes_inside_the_blob(app, monkeypatch):
    task_id = _task(app)
    with app.test_request_context():
        blob = sealing.seal_json(task_id, "record", "1:3", {"target": {"credit_code": "91411623MA40000001"}, "x": 1})
        calls = []
        real = envelope.open_sealed
        monkeypatch.setattr(envelope, "open_sealed", lambda *a: calls.append(a) or real(*a))
        value = sealing.read_sealed(task_id, "record", "1:3", blob, purpose="record",
                                    credit_codes=lambda v: [v["target"]["credit_code"]], positions=lambda v: [3])
        assert value["x"] == 1 and len(calls) == 1
        db.session.commit()
        body = json.loads(db.session.execute(
            select(AccessLogEntry.body).where(AccessLogEntry.action == "sealed_read:record")
        ).scalar_one())
        assert body["objects"]["target_refs"] == [audit.sealed_ref("91411623MA40000001", task_id=task_id)]
    assert body["objects"]["positions"] == [3]
    assert "91411623MA40000001" not in json.dumps(body)


def test_a_change_gets_nothing_back_when_the_read_cannot_be_logged(app, monkeypatch):
    """In a change (POST) the entry is appended at once: a failure stops the read before it returns."""
    task_id = _task(app)
    with app.test_request_context(method="POST"):
        blob = sealing.seal_json(task_id, "record", "1:4", {"secret": "名单"})

        def broken(*a, **k):
            raise audit.service.AuditWriteError("disk full")

        monkeypatch.setattr(audit.service, "record", broken)
        try:
            sealing.read_sealed(task_id, "record", "1:4", blob, purpose="record")
        except audit.service.AuditWriteError:
            pass
        else:
            raise AssertionError("read_sealed returned sealed content without a log entry")


def test_a_page_read_commits_only_with_its_entry(app, monkeypatch):
    """In a page read (GET) the entry takes its place in the chain when the request commits: a
    commit that cannot append it fails, so the page is never served (audit.hooks answers 503)."""
    from ssj.audit import chain

    task_id = _task(app)
    with app.test_request_context():
        blob = sealing.seal_json(task_id, "record", "1:5", {"secret": "名单"})
        db.session.commit()
        assert sealing.read_sealed(task_id, "record", "1:5", blob, purpose="record") == {"secret": "名单"}

        def refuse(*a, **k):
            raise OSError("no space left on device")

        monkeypatch.setattr(chain, "canonical_json", refuse)
        try:
            db.session.commit()
        except audit.service.AuditWriteError:
            db.session.rollback()
        else:
            raise AssertionError("the request committed without its sealed read's entry")
        monkeypatch.undo()
        assert db.session.execute(
            select(AccessLogEntry.id).where(AccessLogEntry.action == "sealed_read:record")
        ).first() is None


def test_a_sealed_page_is_not_served_when_its_read_cannot_be_logged(app, login_as, monkeypatch):
    from ssj.audit import chain
    from tests.ceremony.conftest import build_world, full_draw

    world = build_world(app)
    staff = login_as("staff")
    full_draw(staff, app, world.task_id)
    head = login_as("head_jc")
    page = head.get(f"/tasks/{world.task_id}/list")
    assert page.status_code == 200 and "91411623" in page.text

    def refuse(*a, **k):
        raise OSError("no space left on device")

    monkeypatch.setattr(chain, "canonical_json", refuse)
    r = head.get(f"/tasks/{world.task_id}/list")
    assert r.status_code == 503 and "91411623" not in r.text
