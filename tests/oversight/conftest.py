"""Helpers for the console's tests: what the discipline office sees on its pages, and what the log holds."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry
from ssj.oversight import flags
from tests.ceremony.conftest import build_world, full_draw, text_of


@pytest.fixture
def office(login_as):
    """The discipline office, signed in."""
    return login_as("discipline")


@pytest.fixture
def drawn(app, login_as):
    """A task of JCDD drawn through the ceremony's routes by its organizer staff_jc (inspector_jc is JC01)."""
    world = build_world(app)
    full_draw(login_as("staff_jc"), app, world.task_id)
    return world


def flagged(client, **args) -> dict[str, list[tuple[str, list[int]]]]:
    """Per kind of flag, each hit as (its visible text, the entry numbers it links to)."""
    r = client.get("/discipline/flags", query_string=args)
    assert r.status_code == 200, r.text
    out = {}
    for code, body in re.findall(r'<section class="flag-kind" id="flag-([a-z_]+)"[^>]*>(.*?)</section>', r.text, re.S):
        hits = re.findall(r'<tr class="flag-hit">(.*?)</tr>', body, re.S)
        out[code] = [(text_of(h).strip(), [int(s) for s in re.findall(r"/discipline/entries/(\d+)", h)]) for h in hits]
    assert set(out) == set(flags.KIND_BY_CODE), sorted(out)
    return out


def approved_investigation(app, codes: list[str], *, days: int = 7) -> int:
    """An investigation naming `codes`, opened by `discipline` and approved by `supervisor`, through the routes."""
    from ssj.models import Investigation
    from tests.conftest import login, post

    office, leader = app.test_client(), app.test_client()
    assert login(office, "discipline").status_code == 302 and login(leader, "supervisor").status_code == 302
    r = post(office, "/discipline/investigations",
             {"codes": "\n".join(codes), "reason": "收到实名举报，核查有无人员越权查看", "days": str(days)})
    assert r.status_code == 303, r.text
    with app.app_context():
        inv_id = db.session.execute(select(Investigation.id).order_by(Investigation.id.desc())).scalars().first()
    r = post(leader, f"/oversight/investigations/{inv_id}/decide", {"decision": "approve", "note": "同意"})
    assert r.status_code == 303
    return inv_id


def log_rows(app, action_prefix: str = "", username: str | None = None) -> list[dict]:
    """Entries as their bodies say, oldest first."""
    with app.app_context():
        stmt = select(AccessLogEntry.body).order_by(AccessLogEntry.seq)
        if action_prefix:
            stmt = stmt.where(AccessLogEntry.action.startswith(action_prefix))
        if username:
            stmt = stmt.where(AccessLogEntry.username == username)
        return [json.loads(b) for b in db.session.execute(stmt).scalars()]


def seqs(app, action_prefix: str, username: str | None = None) -> list[int]:
    return [e["seq"] for e in log_rows(app, action_prefix, username)]
