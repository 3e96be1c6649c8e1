"""Save a formatted openpyxl workbook without a plaintext temporary file (Art 12).

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

from io import BytesIO
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter


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
