"""The enterprise search cannot rebuild a sealed list (SPEC §4 "no oracles", §5; issue 10).

It covers published tasks only, and a still-sealed task only under an approved, unexpired
investigation 立案核查 naming the enterprise. Each discipline officer reads their own
department's log only. References are per task, and entries written in the old form
(HMAC of the bare code) are still found — for the same tasks only.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from ssj import audit
from ssj.audit.service import legacy_ref, sealed_ref
from ssj.extensions import db
from ssj.models import AccessLogEntry, Investigation, Target
from tests.ceremony.conftest import add_user as _add_user, drawn_codes, teams_by_code
from tests.conftest import post
from tests.publication.conftest import publish, set_publish_date

from .conftest import flagged, log_rows


def search(office, code: str):
    r = post(office, "/discipline", {"enterprise": code})
    assert r.status_code == 303, r.text
    location = r.headers["Location"]
    assert code not in location
    page = office.get(location)
    assert page.status_code == 200
    return location, page.text


def found(page: str) -> list[int]:
    return [int(s) for s in re.findall(r'<td class="num"><a href="/discipline/entries/(\d+)"', page)]


def neutral(page: str, code: str, location: str) -> str:
    """The page with what differs by construction taken out: the code typed, its sealed token, the CSRF token."""
    token = parse_qs(urlparse(location).query)["ent"][0]
    page = page.replace(code, "CODE").replace(token, "TOKEN")
    return re.sub(r'(name="csrf_token" value="|"X-CSRF-Token": ")[^"]+', r"\1CSRF", page)


def task_entries(app, task_id: int) -> set[int]:
    with app.app_context():
        rows = db.session.execute(select(AccessLogEntry.seq, AccessLogEntry.body)).all()
    out = set()
    for seq, body in rows:
        b = json.loads(body)
        args = (b.get("objects") or {}).get("args") or {}
        if b.get("task_id") == task_id or args.get("task_id") == task_id:
            out.add(seq)
    return out


def add_user(app, username, roles, department, section=None) -> None:
    with app.app_context():
        _add_user(username, roles, department, section)
        db.session.commit()


def reads_by_the_team(app, login_as, task_id: int) -> None:
    assert login_as("inspector_jc").get("/my/inspections").status_code == 200
    assert login_as("head_jc").get(f"/tasks/{task_id}/list").status_code == 200


def test_enumerating_every_directory_code_finds_nothing_of_a_sealed_task_until_it_is_published(app, login_as, drawn, office):
    reads_by_the_team(app, login_as, drawn.task_id)
    with app.app_context():
        every_code = sorted(db.session.execute(select(Target.credit_code)).scalars())
    chosen = set(drawn_codes(app, drawn.task_id))
    assert chosen and set(every_code) - chosen

    pages = {}
    for code in every_code:  # what an insider would script: every code of the directory
        location, page = search(office, code)
        assert not set(found(page)) & task_entries(app, drawn.task_id), code
        assert found(page) == [], code
        pages[code] = neutral(page, code, location)
    # Drawn or not, the office gets the very same page: nothing to tell them apart.
    drawn_page = pages[sorted(chosen)[0]]
    undrawn_page = pages[sorted(set(every_code) - chosen)[0]]
    assert drawn_page == undrawn_page
    assert "范围为已公开的任务和与任务无关的记录" in drawn_page

    # The office's own enterprise searches are each on the flags (its own and the leadership's).
    assert len(flagged(office)["enterprise_searches"]) == len(every_code)
    leader_page = login_as("supervisor").get("/oversight/leadership")
    assert leader_page.status_code == 200
    assert leader_page.text.count('class="flag-hit"') == len(every_code)

    # Published, the same enumeration finds exactly the drawn units' entries.
    set_publish_date(app, drawn.task_id, date.today() - timedelta(days=1))
    publish(login_as, drawn.task_id)
    teams = teams_by_code(app, drawn.task_id)
    for code in every_code:
        _, page = search(office, code)
        hits = set(found(page)) & task_entries(app, drawn.task_id)
        if code in chosen:
            assert hits, code  # at least the organiser's list read, and the unsealing
            if "JC01" in teams[code]:
                assert "其中包括所查企业" in page
        else:
            assert not hits, code


def test_an_approved_unexpired_investigation_is_the_only_way_into_a_sealed_task(app, login_as, drawn, office):
    reads_by_the_team(app, login_as, drawn.task_id)
    code = next(c for c, staff in teams_by_code(app, drawn.task_id).items() if "JC01" in staff)

    # Opened by the office: pending, not yet a way in.
    r = post(office, "/discipline/investigations", {"codes": code, "reason": "收到实名举报，称有人提前泄露名单", "days": "7"})
    assert r.status_code == 303
    with app.app_context():
        inv_id = db.session.execute(select(Investigation.id)).scalar_one()
    assert not set(found(search(office, code)[1])) & task_entries(app, drawn.task_id)

    # The office cannot approve its own; a supervisor of another department cannot either.
    add_user(app, "supervisor_scj", ["supervisor"], "SCJ", None)
    other = login_as("supervisor_scj")
    assert post(other, f"/oversight/investigations/{inv_id}/decide", {"decision": "approve"}).status_code == 404
    assert post(office, f"/oversight/investigations/{inv_id}/decide", {"decision": "approve"}).status_code == 403
    add_user(app, "jijian_lingdao", ["discipline", "supervisor"], "RSJ", None)
    both = login_as("jijian_lingdao")
    r = post(both, "/discipline/investigations", {"codes": code, "reason": "自己申请自己批准的尝试", "days": "3"})
    with app.app_context():
        own_id = db.session.execute(select(Investigation.id).order_by(Investigation.id.desc())).scalars().first()
    r = post(both, f"/oversight/investigations/{own_id}/decide", {"decision": "approve"})
    assert r.status_code == 303
    with app.app_context():
        assert db.session.get(Investigation, own_id).state == "pending"
    assert log_rows(app, "change:oversight.investigation_decide", "jijian_lingdao")[-1]["reason"] == "own_request"
    assert not set(found(search(office, code)[1])) & task_entries(app, drawn.task_id)

    # Approved by the leadership: the search now covers the sealed task, for this enterprise only.
    r = post(login_as("supervisor"), f"/oversight/investigations/{inv_id}/decide", {"decision": "approve", "note": "同意"})
    assert r.status_code == 303
    _, page = search(office, code)
    hits = set(found(page)) & task_entries(app, drawn.task_id)
    assert hits and "其中包括所查企业" in page and f"依据立案核查第 {inv_id} 号" in page
    assert log_rows(app, "oversight_search")[-1]["objects"]["investigation"] == inv_id
    undrawn_other = next(c for c in drawn.targets if c not in teams_by_code(app, drawn.task_id))
    assert not set(found(search(office, undrawn_other)[1])) & task_entries(app, drawn.task_id)
    leader = login_as("supervisor").get("/oversight/leadership").text
    assert "依据立案核查第" in leader and drawn.targets[code] in leader  # the approver sees whom

    # Expired: closed again.
    with app.app_context():
        db.session.get(Investigation, inv_id).expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
        db.session.commit()
    assert not set(found(search(office, code)[1])) & task_entries(app, drawn.task_id)


def test_a_partner_departments_officer_reads_nothing_of_another_department(app, login_as, drawn, office):
    reads_by_the_team(app, login_as, drawn.task_id)
    assert login_as("staff_scj").get("/").status_code in (200, 302)
    add_user(app, "jijian_scj", ["discipline"], "SCJ", None)
    partner = login_as("jijian_scj")

    page = partner.get("/discipline").text
    seen = found(page)
    with app.app_context():
        departments = dict(db.session.execute(select(AccessLogEntry.seq, AccessLogEntry.department)).all())
    assert seen and {departments[s] for s in seen} == {"SCJ"}
    assert "head_jc" not in page and "inspector_jc" not in page
    rsj_entry = next(s for s, d in departments.items() if d == "RSJ")
    assert partner.get(f"/discipline/entries/{rsj_entry}").status_code == 404
    assert office.get(f"/discipline/entries/{rsj_entry}").status_code == 200
    assert partner.get(f"/discipline?task={drawn.task_id}").text.count("/discipline/entries/") == 0
    for kind, hits in flagged(partner).items():
        assert all(h[0].split()[0] in ("jijian_scj", "staff_scj") for h in hits), (kind, hits)
    # The bureau's own office still sees everything of its department.
    assert set(found(office.get(f"/discipline?task={drawn.task_id}").text))


def test_references_are_per_task_and_old_form_entries_are_still_found(app, login_as, drawn, office):
    code = drawn_codes(app, drawn.task_id)[0]
    with app.app_context():
        a, b = sealed_ref(code, task_id=drawn.task_id), sealed_ref(code, task_id=drawn.task_id + 1)
        assert a != b and sealed_ref(code, task_id=None) not in (a, b) and legacy_ref(code) not in (a, b)
    assert login_as("head_jc").get(f"/tasks/{drawn.task_id}/list").status_code == 200
    (read,) = [e for e in log_rows(app, "sealed_read:task_list")]
    assert a in read["objects"]["target_refs"] and legacy_ref_in(app, code) not in json.dumps(read)

    # An entry written before references were per task (the old form), for this still-sealed task.
    with app.test_request_context():
        audit.record("sealed_read:task_list", task_id=drawn.task_id, username="head_jc",
                     objects={"kind": "result", "positions": [1], "target_refs": [legacy_ref(code)]})
        db.session.commit()
    old_seq = log_rows(app, "sealed_read:task_list")[-1]["seq"]
    assert not set(found(search(office, code)[1])) & task_entries(app, drawn.task_id)
    # Its reference is not even shown on the entry page while the task is sealed.
    entry_page = office.get(f"/discipline/entries/{old_seq}").text
    assert legacy_ref_in(app, code) not in entry_page and "不予显示" in entry_page

    set_publish_date(app, drawn.task_id, date.today() - timedelta(days=1))
    publish(login_as, drawn.task_id)
    hits = found(search(office, code)[1])
    assert old_seq in hits and read["seq"] in hits


def legacy_ref_in(app, code: str) -> str:
    with app.app_context():
        return legacy_ref(code)
