"""No exported spreadsheet runs what a target is named (issue #11; Art 12).

Every target is named with a formula payload, drawn, published, and then
the sealed list .xlsx, the results .xlsx and CSV, and the archive package
are opened as a spreadsheet would open them: no cell may be a formula and
no CSV field may start with a character that makes one.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from ssj.extensions import db
from ssj.models import Target
from ssj.workbook import FORMULA_LEADS, csv_field
from tests.ceremony.conftest import build_world, drawn_codes, full_draw
from tests.exports.support import export_task
from tests.publication.conftest import publish, set_publish_date

PAYLOADS = ('=HYPERLINK("http://evil","x")', "=1+1", "+1", "-1", "@SUM(1)", "\t=1", "\r=1")


@pytest.fixture
def hostile(app, login_as):
    """Twelve targets named, addressed and represented by the payloads, drawn and published."""
    world = build_world(app)
    with app.app_context():
        for n, target_id in enumerate(world.target_ids.values()):
            t = db.session.get(Target, target_id)
            t.name = PAYLOADS[n % len(PAYLOADS)]
            t.address = PAYLOADS[(n + 1) % len(PAYLOADS)]
            t.legal_rep = PAYLOADS[(n + 2) % len(PAYLOADS)]
            world.targets[t.credit_code] = t.name
        db.session.commit()
    full_draw(login_as("staff"), app, world.task_id)
    world.extra["codes"] = drawn_codes(app, world.task_id)
    return world


def formulas_in(xlsx: bytes) -> list[str]:
    """Every formula in the workbook, read from its XML and through openpyxl."""
    found = []
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                found += re.findall(r"<(?:\w+:)?f[ >].*?</(?:\w+:)?f>|<(?:\w+:)?f/>", z.read(name).decode("utf-8"))
    wb = load_workbook(io.BytesIO(xlsx))
    for ws in wb.worksheets:
        found += [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    return found


def drawn_names(world) -> set[str]:
    # XML reads a bare CR back as LF (line-end normalisation); the text is otherwise intact.
    return {world.targets[c].replace("\r", "\n") for c in world.extra["codes"]}


def texts_in(xlsx: bytes) -> set[str]:
    wb = load_workbook(io.BytesIO(xlsx))
    return {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}


def live_fields(data: bytes) -> list[str]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return [field for row in rows for field in row if field.startswith(FORMULA_LEADS)]


def test_the_sealed_list_xlsx_holds_the_payloads_as_text(app, hostile, login_as):
    r = login_as("supervisor").get(f"/tasks/{hostile.task_id}/list.xlsx")
    assert r.status_code == 200
    assert formulas_in(r.data) == []
    # The payloads are there, as text: the list is still complete.
    assert drawn_names(hostile) <= texts_in(r.data)


def test_results_csv_xlsx_and_archive_hold_no_formula(app, hostile, login_as):
    set_publish_date(app, hostile.task_id, date.today() - timedelta(days=1))
    publish(login_as, hostile.task_id)
    staff = login_as("staff")

    csv_body = export_task(staff, hostile.task_id, "results.csv").data
    assert live_fields(csv_body) == []
    names = [row[3] for row in csv.reader(io.StringIO(csv_body.decode("utf-8-sig"), newline=""))][1:]
    assert names == [csv_field(hostile.targets[c]) for c in hostile.extra["codes"]]
    assert any(n.startswith("'=") for n in names)  # neutralised, not dropped

    xlsx_body = export_task(staff, hostile.task_id, "results.xlsx").data
    assert formulas_in(xlsx_body) == []
    assert drawn_names(hostile) <= texts_in(xlsx_body)

    package = zipfile.ZipFile(io.BytesIO(export_task(login_as("head_jc"), hostile.task_id, "archive.zip").data))
    inside = package.namelist()
    assert "results.csv" in inside and "results.xlsx" in inside
    for name in inside:
        if name.endswith(".csv"):
            assert live_fields(package.read(name)) == [], name
        if name.endswith(".xlsx"):
            assert formulas_in(package.read(name)) == [], name


@pytest.mark.parametrize("payload", PAYLOADS)
def test_one_function_neutralises_every_payload(payload):
    assert not csv_field(payload).startswith(FORMULA_LEADS)
    assert csv_field(payload).lstrip("'") == payload
    assert csv_field(-1) == "-1"  # a number is data, not a formula
