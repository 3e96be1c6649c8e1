"""Fuzzing the import with mutated workbooks (issue #11): no 5xx, nothing written when refused, memory bounded.

Hypothesis takes a valid targets workbook and breaks it the ways an
attacker or a broken tool would: bytes flipped anywhere in the zip, XML
truncated or spliced with hostile fragments, parts dropped or stored
uncompressed, sizes declared falsely, or a bomb of random size built
against small limits. Every upload must end as a clean import or a clean
refusal — a 422 at upload or a job 未导入 with nothing written — never a
500 or a job that failed with an exception, and reading must stay within a
few megabytes. The example count is kept modest so it runs in well under a
minute on the shared machine.
"""
from __future__ import annotations

import io
import tracemalloc
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ssj.extensions import db
from ssj.models import ImportJob, Target

from . import hostile
from .conftest import upload
from .test_hostile import SMALL

BASE = hostile.valid(4)
SHEET = "xl/worksheets/sheet1.xml"
MEMBERS = sorted(zipfile.ZipFile(io.BytesIO(BASE)).namelist())
FRAGMENTS = [
    "<!DOCTYPE x [<!ENTITY a 'b'>]>", '<row r="1048576">', '<c r="XFD9"><v>1</v></c>', "<row/>" * 50,
    '<c t="s"><v>99999</v></c>', '<c t="n"><v>1e999999</v></c>', '<c s="7"><v>-1</v></c>', '<c t="b"><v>x</v></c>',
    '<c t="d"><v>not a date</v></c>', "&amp;&lt;&#0;", "\x00", "</sheetData>", "<sheetData>", "]]>", "<![CDATA[",
    '<c r="A1" t="inlineStr"><is><t>' + "9" * 5000 + "</t></is></c>", "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
]


def rebuild(parts: dict[str, bytes], stored: frozenset = frozenset()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data, compress_type=zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED)
    return out.getvalue()


def parts_of(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return {n: z.read(n) for n in z.namelist()}


@st.composite
def mutated(draw) -> bytes:
    how = draw(st.sampled_from(["flip", "splice", "truncate", "drop", "store", "lie", "repeat", "bomb"]))
    if how == "flip":
        data = bytearray(BASE)
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if how == "bomb":
        build = draw(st.sampled_from([hostile.cell_bomb, hostile.whitespace_bomb, hostile.shared_strings_bomb]))
        return build(draw(st.integers(1, 6)) << 20)
    parts = parts_of(BASE)
    member = draw(st.sampled_from(MEMBERS))
    text = parts[member]
    if how == "splice":
        at = draw(st.integers(0, len(text)))
        piece = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40))).encode("utf-8", "surrogatepass")
        parts[member] = text[:at] + piece + text[at:]
    elif how == "truncate":
        parts[member] = text[: draw(st.integers(0, len(text)))]
    elif how == "drop":
        del parts[member]
    elif how == "repeat":
        # A row (or any slice) copied many times: sizes and row counts move.
        start = draw(st.integers(0, len(text)))
        piece = text[start: start + draw(st.integers(1, 400))]
        parts[member] = text[:start] + piece * draw(st.integers(2, 3000)) + text[start:]
    body = rebuild(parts, frozenset({member}) if how == "store" else frozenset())
    if how == "lie":
        body = hostile.lie_about_size(body, member, draw(st.integers(0, 64)))
    return body


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Target)),
                db.session.scalar(select(func.count()).select_from(ImportJob)))


@settings(max_examples=50, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=mutated())
def test_mutated_workbooks_never_break_the_import(app, login_as, townships, body):
    app.config["IMPORT_LIMITS"] = SMALL
    staff = login_as("staff")
    targets_before, jobs_before = counts(app)
    tracemalloc.start()
    try:
        r = upload(staff, "targets", body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code < 500, r.status_code
    assert peak < 48 << 20, f"peak {peak / 1e6:.1f} MB"
    targets_after, jobs_after = counts(app)
    if r.status_code == 422:
        assert "<html" in r.text and (targets_after, jobs_after) == (targets_before, jobs_before)
        return
    assert r.status_code == 303
    with app.app_context():
        job = db.session.execute(select(ImportJob).order_by(ImportJob.id.desc())).scalars().first()
        state, message = job.state, job.message
    assert state in ("done", "rejected"), (state, message)  # "failed" would be an exception inside
    if state == "rejected":
        assert targets_after == targets_before and message
    page = staff.get(r.headers["Location"])
    assert page.status_code == 200
