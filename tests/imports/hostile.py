"""Hostile .xlsx files for the targets import, written straight as zip + XML (issue #11).

Used by the tests (small sizes, with small limits) and by
bench/hostile_imports.py (full sizes, default limits). The sheet is
streamed into the zip, so a file that inflates to gigabytes never sits in
memory while it is built.
"""
from __future__ import annotations

import io
import random
import zipfile
from typing import Callable, Iterable, Iterator, Optional
from xml.sax.saxutils import escape

from ssj import creditcode
from ssj.imports.kinds import KINDS

HEADERS = KINDS["targets"].headers()
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{shared}</Types>"
)
_SHARED_CT = ('<Override PartName="/xl/sharedStrings.xml" '
              'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WB = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="检查对象名录库" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/>{shared}</Relationships>'
)
_SHARED_REL = ('<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
               'sharedStrings" Target="sharedStrings.xml"/>')
_STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="{MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    "</styleSheet>"
)


def code(n: int) -> str:
    body = f"91411623MA{n:07d}"
    return body + creditcode.check_character(body)


def target_values(n: int, filler: Optional[str] = None) -> list:
    """A valid targets row (township 东城街道), or one whose every text cell is `filler`."""
    text = filler if filler is not None else None
    return [code(n), text or f"商水县测试{n}有限公司", text or "制造业", text or "是", "东城街道", text or f"东城街道{n}号",
            text or "张三", "0394-5420000", "存续", 0, "否", "A"]


def _col(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cell(ref: str, value) -> str:
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def row_xml(r: int, values: Iterable) -> str:
    return f'<row r="{r}">' + "".join(_cell(f"{_col(i)}{r}", v) for i, v in enumerate(values, 1)) + "</row>"


def package(sheet: Callable[[], Iterator[str]], shared: Optional[Callable[[], Iterator[str]]] = None,
            level: int = 6) -> bytes:
    """The zip of a one-sheet workbook whose sheet (and shared strings) XML the generators stream."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES.format(shared=_SHARED_CT if shared else ""))
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS.format(shared=_SHARED_REL if shared else ""))
        z.writestr("xl/styles.xml", _STYLES)
        for name, parts in (("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", shared)):
            if parts is None:
                continue
            with z.open(name, "w", force_zip64=True) as f:
                buf: list[str] = []
                size = 0
                for piece in parts():
                    buf.append(piece)
                    size += len(piece)
                    if size > 1 << 20:
                        f.write("".join(buf).encode("utf-8"))
                        buf, size = [], 0
                f.write("".join(buf).encode("utf-8"))
    return out.getvalue()


_HEAD = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}"><sheetData>'
_TAIL = "</sheetData></worksheet>"


def _repeat(piece: str, total: int) -> Iterator[str]:
    block = piece * max(1, (1 << 20) // len(piece))
    left = total
    while left > 0:
        chunk = block[: left // len(piece) * len(piece)] if left < len(block) else block
        if not chunk:
            break
        yield chunk
        left -= len(chunk)


def valid(rows: int) -> bytes:
    def sheet():
        yield _HEAD + row_xml(1, HEADERS)
        for n in range(1, rows + 1):
            yield row_xml(n + 1, target_values(n))
        yield _TAIL
    return package(sheet)


def cell_bomb(inflated: int) -> bytes:
    """One data row whose 单位名称 cell is `inflated` characters long."""
    def sheet():
        yield _HEAD + row_xml(1, HEADERS) + '<row r="2"><c r="A2" t="inlineStr"><is><t>' + code(1) + "</t></is></c>"
        yield '<c r="B2" t="inlineStr"><is><t>'
        yield from _repeat("A", inflated)
        yield "</t></is></c></row>" + _TAIL
    return package(sheet, level=9)


def shared_strings_bomb(inflated: int) -> bytes:
    """A shared-string table of one string `inflated` characters long, used by one cell."""
    def sheet():
        yield _HEAD + row_xml(1, HEADERS) + f'<row r="2"><c r="A2" t="inlineStr"><is><t>{code(1)}</t></is></c>'
        yield '<c r="B2" t="s"><v>0</v></c></row>' + _TAIL

    def shared():
        yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'
        yield from _repeat("B", inflated)
        yield "</t></si></sst>"
    return package(sheet, shared, level=9)


def whitespace_bomb(inflated: int) -> bytes:
    """Valid rows with `inflated` bytes of whitespace between two of them."""
    def sheet():
        yield _HEAD + row_xml(1, HEADERS) + row_xml(2, target_values(1))
        yield from _repeat(" ", inflated)
        yield row_xml(3, target_values(2)) + _TAIL
    return package(sheet, level=9)


def blank_rows(count: int) -> bytes:
    """A header, then `count` empty <row> elements, then one valid row."""
    def sheet():
        yield _HEAD + row_xml(1, HEADERS)
        batch: list[str] = []
        for r in range(2, count + 2):
            batch.append(f'<row r="{r}"/>')
            if len(batch) == 50_000:
                yield "".join(batch)
                batch = []
        yield "".join(batch)
        yield row_xml(count + 2, target_values(1)) + _TAIL
    return package(sheet, level=9)


def wide_rows(rows: int, cells: int) -> bytes:
    """Rows with a valid start and then `cells` empty cells running off to the right."""
    def sheet():
        yield _HEAD + row_xml(1, HEADERS)
        for r in range(2, rows + 2):
            start = row_xml(r, target_values(r))[:-len("</row>")]
            yield start + "".join(f'<c r="{_col(13 + i)}{r}"/>' for i in range(cells)) + "</row>"
        yield _TAIL
    return package(sheet)


def far_cell(rows: int) -> bytes:
    """Rows whose last cell is at column XFD (openpyxl padded each row out to 16,384 cells)."""
    def sheet():
        yield _HEAD + row_xml(1, HEADERS)
        for r in range(2, rows + 2):
            yield row_xml(r, target_values(r))[:-len("</row>")] + f'<c r="XFD{r}"><v>1</v></c></row>'
        yield _TAIL
    return package(sheet)


def long_cells(rows: int, chars: int = 10_000) -> bytes:
    """Rows whose every text cell is `chars` varied CJK characters (so the zip ratio looks ordinary)."""
    rng = random.Random(11)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]

    def sheet():
        yield _HEAD + row_xml(1, HEADERS)
        for r in range(2, rows + 2):
            yield row_xml(r, target_values(r, "长" + "".join(rng.choices(alphabet, k=chars - 1))))
        yield _TAIL
    return package(sheet)


def lie_about_size(body: bytes, member: str, declared: int) -> bytes:
    """The same package with `member`'s declared sizes rewritten in both headers (CRC left as is)."""
    data = bytearray(body)
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        info = z.getinfo(member)
    real = info.file_size.to_bytes(4, "little")
    name = member.encode()
    # local header: size at offset 22; central directory entry: size at offset 24.
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (i := data.find(sig, start)) >= 0:
            head = 30 if sig == b"PK\x03\x04" else 46  # fixed part; the name follows
            start = i + 4
            if data[i + head: i + head + len(name)] == name and data[i + offset: i + offset + 4] == real:
                data[i + offset: i + offset + 4] = declared.to_bytes(4, "little")
    return bytes(data)
