"""Searching the access log from the console (SPEC §5): by person, time, task, action, outcome and
enterprise — the enterprise by the HMAC of its credit code, which is all the log ever holds of it."""
from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

import ssj.sealing.envelope
from ssj.audit.service import sealed_ref
from ssj.extensions import db
from ssj.models import AccessLogEntry
from tests.ceremony.conftest import teams_by_code, text_of
from tests.conftest import post

from .conftest import approved_investigation, log_rows, seqs


def rows_of(html: str) -> list[dict]:
    """The result table as the office reads it: entry number, person and the rest of the row's text."""
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        seq = re.search(r"/discipline/entries/(\d+)", row)
        if seq:
            cells = [text_of(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            out.append({"seq": int(seq.group(1)), "who": cells[2], "action": cells[3], "outcome": cells[5], "text": " ".join(cells)})
    return out


def search(office, **form):
    """Post the search form as a person would and follow the redirect; returns (redirect URL, page)."""
    r = post(office, "/discipline", form)
    assert r.status_code == 303, r.text
    return r.headers["Location"], office.get(r.headers["Location"])


def test_the_office_finds_who_viewed_an_enterprises_assignment_by_its_credit_code(app, login_as, drawn, office):
    teams = teams_by_code(app, drawn.task_id)
    mine = next(code for code, staff in teams.items() if "JC01" in staff)
    other = next(code for code, staff in teams.items() if "JC01" not in staff)
    assert login_as("inspector_jc").get("/my/inspections").status_code == 200
    assert login_as("head_jc").get(f"/tasks/{drawn.task_id}/list").status_code == 200
    # The task is still sealed: only an approved investigation lets the search reach it.
    approved_investigation(app, [mine, other])

    location, page = search(office, enterprise=mine.lower() + " ")
    assert mine not in location and mine.lower() not in location
    assert list(parse_qs(urlparse(location).query)) == ["ent"]
    found = [r for r in rows_of(page.text) if "立案核查" not in r["action"]]  # the investigation names it too
    assert {r["who"].split()[0] for r in found} == {"inspector_jc", "head_jc"}
    viewed = [r for r in found if r["who"].startswith("inspector_jc")]
    assert len(viewed) == 1 and "读取保密内容：查看本人的检查任务" in viewed[0]["action"]
    assert "其中包括所查企业" in viewed[0]["text"]

    _, page = search(office, enterprise=other)
    assert {r["who"].split()[0] for r in rows_of(page.text) if "立案核查" not in r["action"]} == {"head_jc"}

    # The log holds the question only as the HMAC, like every sealed read.
    with app.app_context():
        bodies = db.session.execute(select(AccessLogEntry.body)).scalars().all()
    assert not [b for b in bodies if mine in b or other in b or drawn.targets[mine] in b]
    asked = [e["objects"]["filters"] for e in log_rows(app, "oversight_search")]
    assert {e["objects"].get("investigation") for e in log_rows(app, "oversight_search")} == {1}
    assert asked == [{"enterprise_ref": sealed_ref_in(app, mine)}, {"enterprise_ref": sealed_ref_in(app, other)}]


def sealed_ref_in(app, code: str) -> str:
    with app.app_context():
        return sealed_ref(code, task_id=None)  # the office's question names no task


def test_a_mistyped_credit_code_is_explained_and_the_form_kept(app, office):
    r = post(office, "/discipline", {"enterprise": "91411623MA00000019", "user": "head_jc"})
    assert r.status_code == 422
    assert "校验位错误" in r.text and "请核对营业执照上的统一社会信用代码" in r.text
    assert 'value="91411623MA00000019"' in r.text and 'value="head_jc"' in r.text
    r = post(office, "/discipline", {"enterprise": "9141162"})
    assert r.status_code == 422 and "应为18位" in r.text
    with app.app_context():
        bodies = db.session.execute(select(AccessLogEntry.body)).scalars().all()
    assert not [b for b in bodies if "9141162" in b]


def test_filters_by_person_outcome_action_task_and_time(app, login_as, drawn, office):
    prober = login_as("staff_sb")
    assert prober.get("/admin/users").status_code == 403
    assert prober.get(f"/tasks/{drawn.task_id}/list").status_code == 403
    assert login_as("staff_jc").get(f"/tasks/{drawn.task_id}/list").status_code == 200

    _, page = search(office, user="staff_sb", outcome="denied")
    found = rows_of(page.text)
    assert [r["seq"] for r in found] == sorted(seqs(app, "read:", "staff_sb")[-2:], reverse=True)
    assert all(r["who"].startswith("staff_sb") and "被拒绝" in r["outcome"] for r in found)

    _, page = search(office, action="sealed_read")
    assert [r["seq"] for r in rows_of(page.text)] == seqs(app, "sealed_read")[::-1]
    # However the family is typed, and on either database (PostgreSQL's LIKE minds case, SQLite's does not).
    _, page = search(office, action="Sealed_Read")
    assert [r["seq"] for r in rows_of(page.text)] == seqs(app, "sealed_read")[::-1]

    # A task is found in its own entries and in a refused URL that named it.
    _, page = search(office, task=str(drawn.task_id))
    by_task = {r["seq"] for r in rows_of(page.text)}
    assert set(seqs(app, "read:ceremony.sealed_list", "staff_sb")) <= by_task
    assert set(seqs(app, "draw_")) <= by_task and not set(seqs(app, "read:admin.users")) & by_task

    _, page = search(office, since="2030-01-01", user="staff_sb")
    assert rows_of(page.text) == [] and "没有符合条件的记录" in page.text
    _, page = search(office, since="2020-01-01 08:00", until="2099-12-31", user="staff_sb")
    assert len(rows_of(page.text)) == len(seqs(app, "", "staff_sb"))

    r = post(office, "/discipline", {"since": "上周一", "until": "2020-01-01", "task": "第五个"})
    assert r.status_code == 422
    assert "开始时间的格式" in r.text and "任务编号应为正整数" in r.text and 'value="上周一"' in r.text


def test_a_person_is_found_by_display_name_too(app, login_as, office):
    login_as("head_jc").get("/todo")
    with app.app_context():
        from ssj.models import User

        db.session.execute(db.update(User).where(User.username == "head_jc").values(display_name="王科长"))
        db.session.commit()
    _, page = search(office, user="王科长")
    assert rows_of(page.text) and all(r["who"].startswith("head_jc") for r in rows_of(page.text))


def test_results_page_through_htmx_fragments_that_also_work_as_pages(app, login_as, office):
    reader = login_as("staff_jc")
    for _ in range(60):
        reader.get("/todo")
    full = office.get("/discipline?user=staff_jc&page=2")
    assert full.status_code == 200 and "<html" in full.text and 'id="results"' in full.text
    assert "第 2 / 2 页" in full.text
    fragment = office.get("/discipline?user=staff_jc&page=2", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="results"') and "<html" not in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]
    assert [r["seq"] for r in rows_of(fragment.text)] == [r["seq"] for r in rows_of(full.text)]
    first = rows_of(office.get("/discipline?user=staff_jc").text)
    assert len(first) == 50 and first[0]["seq"] > rows_of(full.text)[0]["seq"]
    assert 'hx-get="/discipline?user=staff_jc&amp;page=1"' in full.text


def test_every_search_is_logged_with_its_filters(app, login_as, office):
    office.get("/discipline")
    search(office, user="staff_sb", outcome="denied", action="read:", since="2026-01-01")
    office.get("/discipline?user=staff_sb&page=3")
    first, second, third = log_rows(app, "oversight_search")
    assert first["objects"] == {"filters": {}, "page": 1, "results": first["objects"]["results"]}
    assert second["objects"]["filters"]["user"] == "staff_sb" and second["objects"]["filters"]["outcome"] == "denied"
    assert second["objects"]["filters"]["since"] == "2025-12-31T16:00:00.000000Z"  # Beijing midnight
    assert third["objects"]["page"] == 1  # asked for page 3 of nothing: shown page 1
    assert all(e["username"] == "discipline" and e["outcome"] == "ok" for e in (first, second, third))


def test_one_entry_in_full_with_its_hashes_and_neighbours(app, login_as, office):
    login_as("staff_sb").get("/admin/users")
    login_as("head_jc").get("/todo")
    (seq,) = seqs(app, "read:admin.users", "staff_sb")
    r = office.get(f"/discipline/entries/{seq}")
    assert r.status_code == 200
    with app.app_context():
        row = db.session.execute(select(AccessLogEntry).where(AccessLogEntry.seq == seq)).scalar_one()
        prev_hash, entry_hash, body = row.prev_hash, row.entry_hash, json.loads(row.body)
    page = text_of(r.text)
    assert " ".join(entry_hash[i:i + 8] for i in range(0, 64, 8)) in page
    assert " ".join(prev_hash[i:i + 8] for i in range(0, 64, 8)) in page
    assert "一致" in page and "由本系统写入" in page and "衔接" in page
    assert f'href="/discipline/entries/{seq - 1}"' in r.text and f'href="/discipline/entries/{seq + 1}"' in r.text
    assert '"reason": "role"' in html.unescape(r.text) and body["reason"] == "role"
    assert office.get("/discipline/entries/999999").status_code == 404
    viewed = log_rows(app, "oversight_entry_viewed")
    assert [e["objects"]["seq"] for e in viewed] == [seq]


def test_an_edited_entry_shows_its_hash_no_longer_fits(app, login_as, office):
    login_as("staff_sb").get("/admin/users")
    (seq,) = seqs(app, "read:admin.users", "staff_sb")
    with app.app_context():
        row = db.session.execute(select(AccessLogEntry).where(AccessLogEntry.seq == seq)).scalar_one()
        row.body = row.body.replace('"outcome":"denied"', '"outcome":"ok"')
        db.session.commit()
    page = text_of(office.get(f"/discipline/entries/{seq}").text)
    assert "不一致：写入后被改动" in page


def test_the_console_never_decrypts(app, login_as, drawn, office, monkeypatch):
    login_as("inspector_jc").get("/my/inspections")
    login_as("staff_sb").get(f"/tasks/{drawn.task_id}/list")
    # Decrypted here, by the test, before the lock: a target on inspector_jc's team.
    code = next(c for c, staff in teams_by_code(app, drawn.task_id).items() if "JC01" in staff)

    def refuse(*args, **kwargs):
        raise AssertionError("the console opened a sealed blob")

    approved_investigation(app, [code])
    monkeypatch.setattr(ssj.sealing.envelope, "open_sealed", refuse)
    monkeypatch.setattr(ssj.sealing.envelope, "unwrap_data_key", refuse)
    for url in ("/discipline", f"/discipline?task={drawn.task_id}", "/discipline/flags", "/discipline/verify",
                "/discipline/checkpoints/print", f"/discipline/entries/{seqs(app, 'sealed_read')[0]}"):
        assert office.get(url).status_code == 200, url
    _, page = search(office, enterprise=code)
    assert rows_of(page.text)


@pytest.mark.parametrize("who", ["staff_jc", "head_jc", "supervisor", "admin", "inspector_jc"])
def test_nobody_else_reaches_the_console(login_as, who):
    client = login_as(who)
    for url in ("/discipline", "/discipline/flags", "/discipline/verify", "/discipline/checkpoints.json"):
        assert client.get(url).status_code == 403, (who, url)
