"""Need to know before publication (SPEC §4; Art 3, 12): who sees the sealed list, who
sees only their own assignments, who sees nothing; every read logged before it is
served, nothing served when the log cannot be written, nothing from a tampered blob."""
from __future__ import annotations

import json
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

import ssj.audit
from ssj.audit.service import AuditWriteError, sealed_ref
from ssj.extensions import db
from ssj.models import AccessLogEntry, Assignment, Inspector

from .conftest import add_user, build_world, drawn_codes, full_draw, teams_by_code

LIST_URLS = ("/tasks/{id}/list", "/tasks/{id}/list/print", "/tasks/{id}/list.xlsx")


@pytest.fixture
def drawn(app, login_as, world):
    full_draw(login_as("staff"), app, world.task_id)
    return world


def _entries(app, action_prefix: str, username: str | None = None) -> list[dict]:
    with app.app_context():
        stmt = select(AccessLogEntry).where(AccessLogEntry.action.like(action_prefix + "%")).order_by(AccessLogEntry.seq)
        if username:
            stmt = stmt.where(AccessLogEntry.username == username)
        return [json.loads(e.body) for e in db.session.execute(stmt).scalars()]


def _refs(app, codes, task_id) -> list[str]:
    with app.app_context():
        return sorted(sealed_ref(c, task_id=task_id) for c in codes)


def _names_in(body: bytes | str, world, codes) -> set[str]:
    text = body if isinstance(body, str) else body.decode("utf-8", "replace")
    return {world.targets[c] for c in codes if world.targets[c] in text}


def test_the_organizer_head_and_supervisor_see_the_list_logged_first(app, login_as, drawn):
    codes = drawn_codes(app, drawn.task_id)
    undrawn = [c for c in drawn.targets if c not in codes]
    for who in ("staff_jc", "head_jc", "supervisor"):
        r = login_as(who).get(f"/tasks/{drawn.task_id}/list")
        assert r.status_code == 200, who
        assert r.headers["Cache-Control"] == "no-store"
        assert _names_in(r.text, drawn, codes) == {drawn.targets[c] for c in codes}
        assert not _names_in(r.text, drawn, undrawn)
        (entry,) = _entries(app, "sealed_read:task_list", who)
        assert entry["task_id"] == drawn.task_id
        assert entry["objects"]["positions"] == [1, 2, 3, 4, 5]
        assert entry["objects"]["target_refs"] == _refs(app, codes, drawn.task_id)
        # The log names targets only by HMAC: no code or name in the entry.
        assert not any(c in json.dumps(entry, ensure_ascii=False) for c in codes)


@pytest.mark.parametrize(
    "who, status",
    [
        ("staff_jc2", 403),  # same section, not the organizer
        ("staff_sb", 403),  # another section
        ("admin", 403),
        ("discipline", 403),
        ("inspector_jc", 403),  # on teams, but the whole list is not theirs
        ("staff_scj", 404),  # another department
        ("inspector_scj", 403),
        ("super_admin", 403),  # a supervisor who is also the admin: the admin role vetoes
    ],
)
def test_nobody_else_sees_the_list_and_each_attempt_is_logged_as_denied(app, login_as, drawn, who, status):
    with app.app_context():
        add_user("staff_jc2", ["staff"], "RSJ", "JCDD")
        add_user("super_admin", ["supervisor", "admin"], "RSJ", None)
        db.session.commit()
    codes = drawn_codes(app, drawn.task_id)
    client = login_as(who)
    for url in LIST_URLS:
        r = client.get(url.format(id=drawn.task_id))
        assert r.status_code == status, (who, url)
        assert not _names_in(r.data, drawn, codes)
        assert not any(c.encode() in r.data for c in codes)
    denied = [e for e in _entries(app, "read:ceremony.sealed_list", who) if e["outcome"] == "denied"]
    assert len(denied) == 3
    assert not _entries(app, "sealed_read", who)


def test_admin_and_other_sections_do_not_even_watch_but_discipline_sees_public_facts(app, login_as, drawn):
    codes = drawn_codes(app, drawn.task_id)
    assert login_as("admin").get(f"/tasks/{drawn.task_id}/draw").status_code == 403
    assert login_as("staff_sb").get(f"/tasks/{drawn.task_id}/draw").status_code == 403
    assert login_as("staff_scj").get(f"/tasks/{drawn.task_id}/draw/record").status_code == 404
    r = login_as("discipline").get(f"/tasks/{drawn.task_id}/draw/record")
    assert r.status_code == 200
    assert "结果承诺值" in r.text and not _names_in(r.text, drawn, codes)


def test_an_inspector_sees_only_their_own_targets(app, login_as, drawn):
    teams = teams_by_code(app, drawn.task_id)
    mine = [c for c, members in teams.items() if "JC01" in members]
    others = [c for c in teams if c not in mine]
    assert mine and others  # the world guarantees both
    r = login_as("inspector").get("/my/inspections")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    assert _names_in(r.text, drawn, teams) == {drawn.targets[c] for c in mine}
    entries = _entries(app, "sealed_read:own_assignment", "inspector_jc")
    assert sorted(r for e in entries for r in e["objects"]["target_refs"]) == _refs(app, mine, drawn.task_id)


def test_inspectors_with_no_assignment_see_nothing(app, login_as, drawn):
    r = login_as("inspector_scj").get("/my/inspections")
    assert r.status_code == 200
    assert "没有分配给您的检查任务" in r.text or "还没有关联" in r.text
    assert not _names_in(r.text, drawn, drawn.targets)


def _joint_world(app, login_as, on_teams):
    world = build_world(app, tag="丙", jc_inspectors=3, partner_inspectors=2, cap=None)
    full_draw(login_as("staff"), app, world.task_id, digits=lambda teams: on_teams(
        sum(1 for t in teams if "SC01" in t.inspectors), len(teams)))
    return world


def test_a_partner_departments_inspector_sees_only_their_own(app, login_as):
    world = _joint_world(app, login_as, lambda on, n: 0 < on < n)
    teams = teams_by_code(app, world.task_id)
    mine = [c for c, members in teams.items() if "SC01" in members]
    client = login_as("inspector_scj")
    r = client.get("/my/inspections")
    assert _names_in(r.text, world, teams) == {world.targets[c] for c in mine}
    assert client.get(f"/tasks/{world.task_id}/list").status_code == 403
    assert client.get(f"/tasks/{world.task_id}/draw").status_code == 403
    # Their department's staff have no part in it at all.
    assert login_as("staff_scj").get(f"/tasks/{world.task_id}/list").status_code == 404


def test_a_partner_departments_inspector_not_on_any_team_sees_nothing(app, login_as):
    world = _joint_world(app, login_as, lambda on, n: on == 0)
    r = login_as("inspector_scj").get("/my/inspections")
    assert r.status_code == 200
    assert not _names_in(r.text, world, world.targets)
    assert not _entries(app, "sealed_read", "inspector_scj")


def test_prints_and_exports_carry_the_viewers_name_and_are_logged(app, login_as, drawn):
    codes = drawn_codes(app, drawn.task_id)
    sup = login_as("supervisor")
    r = sup.get(f"/tasks/{drawn.task_id}/list/print")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert "保密 · supervisor（supervisor）·" in r.text
    assert r.text.count("保密 · supervisor（supervisor）·") >= 10  # repeated across the page
    assert _entries(app, "sealed_read:print", "supervisor")

    r = sup.get(f"/tasks/{drawn.task_id}/list.xlsx")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    disposition = r.headers["Content-Disposition"]
    assert not any(c in disposition for c in codes)
    wb = load_workbook(BytesIO(r.data))
    ws = wb["抽查名单"]
    assert ws["A1"].value.startswith("保密 · supervisor（supervisor）·")
    assert "supervisor（supervisor）" in ws.oddHeader.center.text
    assert "supervisor（supervisor）" in ws.oddFooter.center.text
    assert ws.print_title_rows == "$1:$2"  # the watermark row repeats on every printed page
    cells = {str(c.value) for row in ws.iter_rows(min_row=3) for c in row}
    assert {drawn.targets[c] for c in codes} <= cells
    assert _entries(app, "sealed_read:export", "supervisor")


def test_the_sealed_list_xlsx_is_never_staged_in_a_temporary_file(app, login_as, drawn, monkeypatch):
    # openpyxl's own save writes each sheet's XML to a temp file first: the
    # drawn units would sit in clear text in /tmp while the workbook is zipped.
    import openpyxl.worksheet._writer as sheet_writer

    staged = []
    real = sheet_writer.create_temporary_file
    monkeypatch.setattr(sheet_writer, "create_temporary_file", lambda *a, **kw: staged.append(1) or real(*a, **kw))
    r = login_as("supervisor").get(f"/tasks/{drawn.task_id}/list.xlsx")
    assert r.status_code == 200
    assert load_workbook(BytesIO(r.data))["抽查名单"].max_row == 2 + len(drawn_codes(app, drawn.task_id))
    assert staged == []


def test_a_log_write_failure_means_nothing_is_served(app, login_as, drawn, monkeypatch):
    codes = drawn_codes(app, drawn.task_id)
    original = ssj.audit.service._append

    def failing(entries):
        if any(e.action.startswith("sealed_read") for e in entries):
            raise AuditWriteError("disk full")
        return original(entries)

    # Where every entry is written: a change's at once (audit.record), a page's sealed
    # reads when its request commits (audit.record_read, then write_pending).
    monkeypatch.setattr(ssj.audit.service, "_append", failing)
    for client, url in (
        (login_as("staff"), f"/tasks/{drawn.task_id}/list"),
        (login_as("supervisor"), f"/tasks/{drawn.task_id}/list.xlsx"),
        (login_as("inspector"), "/my/inspections"),
    ):
        r = client.get(url)
        assert r.status_code == 503, url
        assert "访问日志暂时无法写入" in r.text
        assert not _names_in(r.data, drawn, codes)
        assert not any(c.encode() in r.data for c in codes)


def test_a_tampered_or_misplaced_blob_shows_an_error_not_another_target(app, login_as, drawn):
    codes = drawn_codes(app, drawn.task_id)
    with app.app_context():
        jc01 = db.session.execute(select(Inspector).where(Inspector.staff_no == "JC01")).scalar_one()
        rows = db.session.execute(
            select(Assignment).where(Assignment.task_id == drawn.task_id).order_by(Assignment.position)
        ).scalars().all()
        mine = next(a for a in rows if a.inspector_id == jc01.id)
        other = next(a for a in rows if a.inspector_id != jc01.id and a.position != mine.position)
        # Swap the two rows' sealed targets: each blob is now on a row its associated data does not name.
        mine.target_sealed, other.target_sealed = other.target_sealed, mine.target_sealed
        db.session.commit()
    r = login_as("inspector").get("/my/inspections")
    assert r.status_code == 500
    assert "保密数据校验失败" in r.text
    assert not _names_in(r.text, drawn, codes)
    assert _entries(app, "sealed_integrity_failure", "inspector_jc")

    with app.app_context():
        from ssj.models import DrawAttempt

        a = db.session.execute(select(DrawAttempt).where(DrawAttempt.task_id == drawn.task_id)).scalar_one()
        blob = bytearray(a.result_sealed)
        blob[-1] ^= 0x01
        a.result_sealed = bytes(blob)
        db.session.commit()
    r = login_as("staff").get(f"/tasks/{drawn.task_id}/list")
    assert r.status_code == 500 and "保密数据校验失败" in r.text
    assert not _names_in(r.text, drawn, codes)


def test_the_ceremony_pages_never_name_a_target(app, login_as, drawn):
    codes = drawn_codes(app, drawn.task_id)
    staff = login_as("staff")
    for path in ("draw", "draw/record", "draw/screen", "draw/commitment"):
        r = staff.get(f"/tasks/{drawn.task_id}/{path}")
        assert r.status_code == 200
        assert not _names_in(r.text, drawn, codes) and not any(c in r.text for c in codes), path


def test_the_brigade_leads_another_sections_draw_and_both_organisers_see_the_list(app, login_as):
    """Art 5: the 劳动保障监察大队 organises the draw of a 社会保险股 task with that section;
    the organisers and heads of both see the list, other 大队 staff do not."""
    with app.app_context():
        add_user("head_sb", ["section_head"], "RSJ", "SBG")
        add_user("staff_jc2", ["staff"], "RSJ", "JCDD")
        db.session.commit()
    world = build_world(app, section_code="SBG", organizer="staff_sb", tag="社")
    brigade = login_as("staff_jc")  # runs the ceremony for the 大队
    full_draw(brigade, app, world.task_id)
    with app.app_context():
        from ssj.models import DrawWitness

        # head_jc is of an organising section (the 大队): not an outside witness here.
        assert [(w.user.username, w.external) for w in db.session.execute(
            select(DrawWitness).order_by(DrawWitness.id)).scalars()] == [("head_jc", False), ("discipline", True)]
    codes = drawn_codes(app, world.task_id)
    for who in ("staff_sb", "staff_jc", "head_sb", "head_jc", "supervisor"):
        r = login_as(who).get(f"/tasks/{world.task_id}/list")
        assert r.status_code == 200, who
        assert _names_in(r.text, world, codes) == {world.targets[c] for c in codes}, who
    for who in ("staff_jc2", "admin", "discipline", "inspector_jc"):
        assert login_as(who).get(f"/tasks/{world.task_id}/list").status_code in (403, 404), who
    # Both sections' planners may run its steps; the 大队's other staff watch it.
    assert login_as("staff_jc2").get(f"/tasks/{world.task_id}/draw").status_code == 200
    assert login_as("staff_scj").get(f"/tasks/{world.task_id}/draw").status_code == 404


def test_the_brigade_finds_another_sections_task_among_its_tasks(app, login_as):
    """Art 5: the 大队 lists and opens the tasks whose draws it organises; other sections do not see its own."""
    world = build_world(app, section_code="SBG", organizer="staff_sb", tag="社")
    brigade = login_as("staff_jc")
    assert "社号工资支付专项抽查" in brigade.get("/tasks").text
    assert brigade.get(f"/tasks/{world.task_id}").status_code == 200
    jc_task = build_world(app, tag="丙", jc_inspectors=0)
    sb = login_as("staff_sb")
    assert "丙号工资支付专项抽查" not in sb.get("/tasks").text
    assert sb.get(f"/tasks/{jc_task.task_id}").status_code == 403
    assert sb.get(f"/tasks/{jc_task.task_id}/draw").status_code == 403
