"""Two people saving one object at the same moment, against a live gunicorn server (issue #13).

Each round both open the form at the same version, then two threads post at
once (a barrier releases them together). Exactly one save wins; the other
person gets 409 with the "someone else saved" message; what is stored is the
winner's text, whole; no request fails with a 5xx. Before row versions a
draft save landing after a teammate's submission overwrote it (3 in 10
trials on SQLite, 4 in 6 on PostgreSQL).
"""
from __future__ import annotations

import re
import threading

import pytest
import requests
from sqlalchemy import select

from ssj.extensions import db
from ssj.inspections.followup import followup_record_id
from ssj.models import FollowUp, InspectionRecord, Matter
from ssj.sealing.service import open_json, seal_json

from .directories import builders
from .directories.test_matters import FORM
from .factories import PASSWORD
from .inspections.conftest import build_drawn, complete, record_url, submit

ROUNDS = 20
STALE = "别人已经保存了新的内容"

pytestmark = pytest.mark.slow


@pytest.fixture
def live_instance(instance_path):
    """Serve the test's own instance, so what the test seeds through `app` is what the server sees."""
    return instance_path


class Person:
    def __init__(self, base: str, username: str) -> None:
        self.base, self.http = base, requests.Session()
        page = self.http.get(base + "/login").text
        r = self.http.post(base + "/login", data={"username": username, "password": PASSWORD,
                                                  "csrf_token": _field(page, "csrf_token")}, allow_redirects=False)
        assert r.status_code == 302, f"login as {username}: {r.status_code}"

    def open(self, path: str) -> dict:
        """Load a form page: the fields a browser would send back unchanged."""
        page = self.http.get(self.base + path).text
        return {"csrf_token": _field(page, "csrf_token"), "row_version": _field(page, "row_version")}

    def post(self, path: str, data: dict) -> requests.Response:
        return self.http.post(self.base + path, data=data, allow_redirects=False)


def _field(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} field"
    return found.group(1)


def _race(*calls) -> list[requests.Response]:
    """Run the calls at the same moment, one thread each."""
    barrier = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            out[i] = call()
        except Exception as exc:  # a dropped connection is a failure of the round, shown as such
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def _one_winner(results: list) -> int:
    """The index of the one save that went through; the other was told."""
    statuses = [getattr(r, "status_code", r) for r in results]
    assert sorted(statuses) == [302, 409], statuses
    loser = results[statuses.index(409)]
    assert STALE in loser.text or "已提交，不能直接修改" in loser.text
    return statuses.index(302)


def _record(app, task_id: int, position: int):
    with app.app_context():
        row = db.session.execute(select(InspectionRecord).where(
            InspectionRecord.task_id == task_id, InspectionRecord.position == position)).scalar_one()
        value = open_json(task_id, "record", f"{task_id}:{position}", row.sealed)
        return row.state, value["findings"]


def test_record_save_against_save_and_submit_against_save(app, login_as, live_server):
    drawn = build_drawn(app, login_as)
    p = drawn.own_position()
    mate_name = next(u for u in drawn.team_of[p] if u != "inspector_jc")
    me, mate = Person(live_server, "inspector_jc"), Person(live_server, mate_name)
    url = record_url(drawn.task_id, p)

    for i in range(ROUNDS):  # save against save on one draft
        a, b = me.open(url), mate.open(url)
        texts = (f"甲第{i}轮的草稿", f"乙第{i}轮的草稿")
        results = _race(lambda: me.post(url, {**a, "action": "save", "findings": texts[0]}),
                        lambda: mate.post(url, {**b, "action": "save", "findings": texts[1]}))
        winner = _one_winner(results)
        assert _record(app, drawn.task_id, p) == ("draft", texts[winner]), i

    for i in range(ROUNDS):  # submit against save: each round starts from a fresh draft
        with app.app_context():
            row = db.session.execute(select(InspectionRecord).where(
                InspectionRecord.task_id == drawn.task_id, InspectionRecord.position == p)).scalar_one_or_none()
            if row is not None:
                db.session.delete(row)
            db.session.commit()
        first = me.open(url)
        assert me.post(url, {**first, "action": "save", "findings": "开始的草稿"}).status_code == 302
        a, b = me.open(url), mate.open(url)
        submitted, draft = f"第{i}轮提交的结论", f"第{i}轮半截的草稿"
        results = _race(lambda: me.post(url, {**a, **complete(findings=submitted), "action": "submit"}),
                        lambda: mate.post(url, {**b, "action": "save", "findings": draft}))
        winner = _one_winner(results)
        expected = ("submitted", submitted) if winner == 0 else ("draft", draft)
        assert _record(app, drawn.task_id, p) == expected, i


def test_matter_edit_against_edit(app, live_server):
    mid = builders.matter(app)
    me, colleague = Person(live_server, "staff_jc"), Person(live_server, "head_jc")
    url = f"/matters/{mid}/edit"
    for i in range(ROUNDS):
        a, b = me.open(url), colleague.open(url)
        names = (f"甲第{i}轮改的名称", f"乙第{i}轮改的名称")
        results = _race(lambda: me.post(url, {**FORM, **a, "code": "JC-001", "name": names[0]}),
                        lambda: colleague.post(url, {**FORM, **b, "code": "JC-001", "name": names[1]}))
        winner = _one_winner(results)
        with app.app_context():
            m = db.session.get(Matter, mid)
            assert m.name == names[winner], i
            # one new version per round: the refused save left no trace in the history
            assert m.version == i + 2 and len(m.versions) == i + 2



def _recheck_fields(person: Person, url: str, followup_id: int) -> dict:
    """The record page's re-check form of one order, as a browser would send it back."""
    page = person.http.get(person.base + url).text
    form = re.search(rf'followups/{followup_id}/recheck"(.*?)</form>', page, re.S)
    assert form, "no re-check form"
    return {"csrf_token": _field(page, "csrf_token"),
            **dict(re.findall(r'name="(row_version|seen_deadline)" value="([^"]*)"', form.group(1)))}


def _reopen(app, task_id: int, followup_id: int) -> None:
    """Put the order back to "not re-checked" (a new version), for the next round."""
    with app.app_context():
        row = db.session.get(FollowUp, followup_id)
        rid = followup_record_id(row)
        value = open_json(task_id, "followup", rid, row.sealed)
        value.update(recheck_date="", recheck_outcome="", recheck_by="")
        row.sealed, row.closed = seal_json(task_id, "followup", rid, value), False
        db.session.commit()


def _order(app, task_id: int, followup_id: int) -> tuple:
    with app.app_context():
        row = db.session.get(FollowUp, followup_id)
        value = open_json(task_id, "followup", followup_record_id(row), row.sealed)
        return row.closed, value["deadline"], value["recheck_date"], value["recheck_outcome"]


def test_followup_recheck_against_recheck_and_against_a_correction(app, login_as, live_server):
    drawn = build_drawn(app, login_as)
    p = drawn.own_position()
    mate_name = next(u for u in drawn.team_of[p] if u != "inspector_jc")
    assert submit(login_as("inspector_jc"), drawn, p, rectify_deadline="2026-03-20").status_code == 302
    with app.app_context():
        fid = db.session.execute(select(FollowUp.id)).scalar_one()
    me, mate = Person(live_server, "inspector_jc"), Person(live_server, mate_name)
    url = record_url(drawn.task_id, p)
    action = f"{url.rsplit('/', 1)[0]}/followups/{fid}/recheck"

    for i in range(ROUNDS):  # two people record the re-check of one order at once
        _reopen(app, drawn.task_id, fid)
        a, b = _recheck_fields(me, url, fid), _recheck_fields(mate, url, fid)
        typed = (("2026-03-21", f"甲第{i}轮：已补发到位"), ("2026-03-22", f"乙第{i}轮：仍未改正"))
        results = _race(
            lambda: me.post(action, {**a, "recheck_date": typed[0][0], "recheck_outcome": typed[0][1]}),
            lambda: mate.post(action, {**b, "recheck_date": typed[1][0], "recheck_outcome": typed[1][1]}))
        winner = _one_winner(results)
        loser = results[1 - winner]
        assert typed[1 - winner][1] in loser.text, i  # the loser's input is still on the page
        assert _order(app, drawn.task_id, fid) == (True, "2026-03-20", *typed[winner]), i

    for i in range(ROUNDS):  # a re-check against a correction of the record that moves the order's deadline
        _reopen(app, drawn.task_id, fid)
        fields, record = _recheck_fields(me, url, fid), mate.open(url)
        before = _record_value(app, drawn.task_id, p)["rectify_deadline"]
        deadline = "2026-03-31" if before == "2026-03-20" else "2026-03-20"
        outcome, reason = f"第{i}轮：已按期改正", f"第{i}轮更正改正期限"
        results = _race(
            lambda: me.post(action, {**fields, "recheck_date": "2026-03-21", "recheck_outcome": outcome}),
            lambda: mate.post(url, {**record, **complete(rectify_deadline=deadline), "action": "correct",
                                    "reason": reason}))
        statuses = [getattr(r, "status_code", r) for r in results]
        # Both may go through (the re-check committed before the correction looked at the order: a
        # re-checked order is not reopened), or one is told; never both refused, never a 5xx.
        assert sorted(statuses) in ([302, 302], [302, 409]), (i, statuses)
        closed, saved_deadline, _date, saved_outcome = _order(app, drawn.task_id, fid)
        corrected = _record_value(app, drawn.task_id, p)
        if statuses[0] == 302:  # the re-check stands, with the deadline the person saw when making it
            assert (closed, saved_deadline, saved_outcome) == (True, fields["seen_deadline"], outcome), i
        else:  # the correction moved the deadline first: the re-check was refused, its input kept
            assert STALE in results[0].text and outcome in results[0].text, i
            assert (closed, saved_deadline, saved_outcome) == (False, deadline, ""), i
        if statuses[1] == 302:
            assert (corrected["rectify_deadline"], corrected["correction_reason"]) == (deadline, reason), i
        else:
            assert STALE in results[1].text and corrected["rectify_deadline"] == before, i


def _record_value(app, task_id: int, position: int) -> dict:
    with app.app_context():
        row = db.session.execute(select(InspectionRecord).where(
            InspectionRecord.task_id == task_id, InspectionRecord.position == position)).scalar_one()
        return open_json(task_id, "record", f"{task_id}:{position}", row.sealed)
