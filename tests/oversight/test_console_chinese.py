"""The discipline console speaks Chinese wherever a person reads (SPEC §9): no `main.todo`,
`task_created`, `before_publish_date`, raw field lists or "SPEC §5" on its pages.

Codes stay where an auditor needs them verbatim — the monospace action code beside its
Chinese name and the entry's raw text that the hash covers — and nowhere else.
"""
from __future__ import annotations

import pathlib
import re

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry
from ssj.oversight import console, labels
from tests.ceremony.conftest import text_of
from tests.conftest import post

# An endpoint (main.todo), a snake_case code (task_created, before_publish_date), or the spec.
CODE = re.compile(r"\b[a-z]+\.[a-z_]+\b|\b[a-z]+(?:_[a-z]+)+\b|SPEC|§")


USERNAMES = re.compile(r"\b(?:staff|inspector|head|discipline|supervisor|admin)_[a-z0-9]+\b")


def readable(html: str) -> str:
    """What a person reads: the page's text without the verbatim parts (mono codes, the raw entry)
    and without sign-in names (staff_jc is a person's name here, not a code)."""
    html = re.sub(r"<pre\b.*?</pre>", " ", html, flags=re.S)
    html = re.sub(r'<span class="[^"]*\bmono\b[^"]*">.*?</span>', " ", html, flags=re.S)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return USERNAMES.sub(" ", text_of(html))


def test_every_page_and_every_logged_action_has_a_chinese_name(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint != "static"}
    missing = sorted(endpoints - set(labels.ENDPOINT_LABELS))
    assert missing == [], f"name these pages in ssj/oversight/labels.py ENDPOINT_LABELS: {missing}"
    actions = set()
    for path in pathlib.Path("ssj").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        actions |= set(re.findall(r'audit\.record\(\s*"([a-z0-9_]+)"', text))
        actions |= set(re.findall(r'\baction = "([a-z0-9]+_[a-z0-9_]+)"', text))
    with app.app_context():
        unnamed = sorted(a for a in actions if console.action_label(a) == "其他操作")
    assert unnamed == [], f"name these actions in ssj/oversight/labels.py ACTION_LABELS: {unnamed}"


def test_the_consoles_pages_show_no_internal_codes(app, login_as, office):
    staff = login_as("staff_jc")
    for url in ("/todo", "/tasks", "/targets", "/matters", "/plans"):
        staff.get(url)
    r = post(staff, "/tasks/new", {"name": ""})  # a refused form: its reason and field list are logged
    assert r.status_code in (200, 422)
    login_as("inspector_jc").get("/plans")  # a denied page
    with app.app_context():
        seqs = db.session.execute(select(AccessLogEntry.seq).order_by(AccessLogEntry.seq.desc()).limit(15)).scalars().all()
    pages = {
        "search": office.get("/discipline?user=staff_jc").text,
        "search_denied": office.get("/discipline?user=inspector_jc").text,
        "flags": office.get("/discipline/flags").text,
        "verify": office.get("/discipline/verify").text,
    }
    for seq in seqs:
        pages[f"entry {seq}"] = office.get(f"/discipline/entries/{seq}").text
    found = {name: sorted(set(CODE.findall(readable(html)))) for name, html in pages.items()}
    assert {name: codes for name, codes in found.items() if codes} == {}
    # The Chinese names are there instead.
    assert "打开页面：待办" in readable(pages["search"])
