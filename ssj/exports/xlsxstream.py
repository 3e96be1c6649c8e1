"""A one-sheet .xlsx written straight into any binary stream (SPEC §2 "Import and export", §9; Art 12, 16).

openpyxl, even in write-only mode, first writes each sheet's XML to a
plaintext temporary file (openpyxl.worksheet._writer.create_temporary_file)
and zips it afterwards. An export of the target directory or of a task's
results would then sit on disk unencrypted, however briefly. This writer
streams the sheet XML into a zip member, and the zip into the caller's
stream (in exports, an EncryptingWriter), so nothing is written in clear.

It writes just what the exports need: a bold frozen header row, column
widths, text, numbers, booleans and dates (shown as yyyy-mm-dd), with
text-formatted columns for codes that Excel would otherwise round. Inline
strings keep memory flat (no shared-string table to build). Every value
passes through `workbook.cell_value`, and every str is an inline string:
no cell of an export is ever a formula, whatever a target is named.
Pure: no Flask.
"""
from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO, Iterable, Optional, Sequence
from xml.sax.saxutils import escape

from ..workbook import cell_value

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_EPOCH = date(1899, 12, 30)
_FLUSH_BYTES = 1 << 16
# Style ids in styles.xml below: 0 plain, 1 bold header, 2 date, 3 text.
_HEADER, _DATE, _TEXT = 1, 2, 3

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>'
)


def _col(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _clean(text: str) -> str:
    # Also used inside attribute values (the sheet name), hence the quote.
    return escape(cell_value(text), {'"': "&quot;"})


def _cell(ref: str, value: Any, text_column: bool) -> str:
    value = cell_value(value)
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float, Decimal)) and not text_column:
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f'<c r="{ref}" s="{_DATE}"><v>{(value - _EPOCH).days}</v></c>'
    style = f' s="{_TEXT}"' if text_column else ""
    return f'<c r="{ref}" t="inlineStr"{style}><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def write_sheet(
    out: BinaryIO,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    widths: Sequence[int] = (),
    text_columns: Sequence[int] = (),
    on_row: Optional[Any] = None,
) -> int:
    """Write a workbook of one sheet into `out`; return the number of data rows.

    `text_columns` are 0-based indexes formatted as text (credit codes,
    phone numbers). `on_row(count)` is called after every row, for progress.
    """
    text_set = set(text_columns)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{_clean(title[:31])}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/styles.xml", _STYLES)
        count = 0
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            parts: list[str] = [
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<sheetViews><sheetView workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '</sheetView></sheetViews>'
            ]
            if widths:
                parts.append("<cols>")
                parts.extend(
                    f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1)
                )
                parts.append("</cols>")
            parts.append('<sheetData><row r="1">')
            parts.extend(
                f'<c r="{_col(i)}1" t="inlineStr" s="{_HEADER}"><is><t>{_clean(h)}</t></is></c>'
                for i, h in enumerate(headers, 1)
            )
            parts.append("</row>")
            size = 0
            letters = [_col(i) for i in range(1, len(headers) + 1)]
            for row in rows:
                count += 1
                n = count + 1
                cells = "".join(
                    _cell(f"{letters[i] if i < len(letters) else _col(i + 1)}{n}", v, i in text_set)
                    for i, v in enumerate(row)
                )
                piece = f'<row r="{n}">{cells}</row>'
                parts.append(piece)
                size += len(piece)
                if size > _FLUSH_BYTES:
                    sheet.write("".join(parts).encode("utf-8"))
                    parts.clear()
                    size = 0
                if on_row is not None:
                    on_row(count)
            parts.append("</sheetData></worksheet>")
            sheet.write("".join(parts).encode("utf-8"))
    return count
