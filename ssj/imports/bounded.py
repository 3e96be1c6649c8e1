"""Reading an uploaded .xlsx with every size bounded (SPEC §2 "Import and export"; issue #11).

An .xlsx is a zip of XML. A 1 MB upload can declare a 1 GB cell, a 1 GB
shared-string table, a gigabyte of whitespace or millions of blank rows;
openpyxl would read all of it (one worker went from 250 MB to 4.5 GB).
Anyone with a staff login can upload, so the reader trusts nothing:

1. before parsing, every zip member's declared uncompressed size and its
   compression ratio are checked (`check_package`);
2. while parsing, each member is read through `_Counted`, which counts the
   bytes actually inflated and stops at the limit whatever the header said;
3. the sheet and the shared strings are parsed with expat straight from
   that stream, 64 KB at a time, keeping at most `cell_chars` characters of
   a cell, `cells_per_row` cells of a row, `rows` data rows and
   `empty_rows` blank rows — past any of them the file is refused.

Values come out as openpyxl's read-only mode gives them (str, int, float,
bool, datetime), so `cells` reads them unchanged. Pure: no Flask; the limits
come from the caller (config IMPORT_LIMITS).
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Optional
from xml.parsers import expat

from openpyxl.utils.datetime import from_excel, from_ISO8601

CHUNK = 1 << 16
MB = 1 << 20
_RESAVE = "请用 Excel 或 WPS 打开它，另存为 .xlsx 后再上传。"


class FileProblem(Exception):
    """The file as a whole cannot be imported; the message says what to do."""


@dataclass(frozen=True)
class Limits:
    sheet_bytes: int = 256 * MB  # one worksheet's XML, inflated
    strings_bytes: int = 64 * MB  # the shared-string table, inflated (it is held in memory)
    other_bytes: int = 8 * MB  # styles, workbook, theme and the rest, each
    total_bytes: int = 512 * MB  # all members together
    ratio: int = 100  # inflated / compressed, for members above ratio_from bytes
    ratio_from: int = 1 * MB
    members: int = 2000
    rows: int = 200_000  # data rows
    empty_rows: int = 50_000  # blank <row> elements
    cells_per_row: int = 256
    cell_chars: int = 32_767  # Excel's own limit: a longer cell did not come from Excel
    shared_strings: int = 2_000_000


class Overlong:
    """A cell longer than `Limits.cell_chars`: only its start is kept, for the row's error message."""

    __slots__ = ("head", "length")

    def __init__(self, head: str, length: int):
        self.head, self.length = head, length

    def __repr__(self) -> str:
        return f"Overlong({self.length} chars)"


def _mb(n: int) -> str:
    return f"{n / MB:,.0f} MB" if n >= MB else f"{n / 1024:,.0f} KB"


def _member_limit(name: str, limits: Limits) -> int:
    if name.startswith("xl/worksheets/"):
        return limits.sheet_bytes
    if name == "xl/sharedStrings.xml":
        return limits.strings_bytes
    return limits.other_bytes


def check_package(z: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse a package whose declared sizes or compression ratios are out of bounds, before any XML is read."""
    infos = z.infolist()
    if len(infos) > limits.members:
        raise FileProblem(f"文件包含 {len(infos):,} 个内部部件，远多于正常的工作簿，系统拒绝读取。{_RESAVE}")
    total = 0
    for info in infos:
        size, packed = info.file_size, max(info.compress_size, 1)
        total += size
        limit = _member_limit(info.filename, limits)
        if size > limit:
            raise FileProblem(
                f"文件解压后过大（其中“{info.filename[:60]}”解压后有 {_mb(size)}，上限 {_mb(limit)}），"
                "可能是恶意构造的压缩文件，系统拒绝读取。如确是正常数据，请拆分为多个文件后分别导入。"
            )
        if size > limits.ratio_from and size / packed > limits.ratio:
            raise FileProblem(
                f"文件的压缩比异常（“{info.filename[:60]}”由 {_mb(packed)} 解压为 {_mb(size)}，"
                f"超过 {limits.ratio} 倍），可能是恶意构造的“压缩炸弹”，系统拒绝读取。{_RESAVE}"
            )
    if total > limits.total_bytes:
        raise FileProblem(
            f"文件解压后共有 {_mb(total)}，超过了 {_mb(limits.total_bytes)} 的上限，系统拒绝读取。"
            "请拆分为多个文件后分别导入。"
        )


class _Counted:
    """A member's stream that counts inflated bytes and refuses to go past `limit`, whatever was declared."""

    def __init__(self, raw: BinaryIO, name: str, limit: int, budget: list[int]):
        self.raw, self.name, self.limit, self.budget = raw, name, limit, budget
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        # Never more than one chunk past the limit, even for read() of "everything".
        want = CHUNK if n is None or n < 0 else min(n, CHUNK)
        if n is None or n < 0:
            parts = []
            while chunk := self._read(want):
                parts.append(chunk)
            return b"".join(parts)
        return self._read(want)

    def _read(self, n: int) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        self.budget[0] -= len(data)
        if self.count > self.limit or self.budget[0] < 0:
            raise FileProblem(
                f"文件解压后超过了大小上限（“{self.name[:60]}”已读到 {_mb(self.count)}），"
                f"可能是恶意构造的压缩文件，系统已停止读取。{_RESAVE}"
            )
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> "_Counted":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BoundedZip(zipfile.ZipFile):
    """A ZipFile whose members are read only through `_Counted` (openpyxl reads through it too)."""

    def __init__(self, path: Path | str, limits: Limits):
        super().__init__(path)
        self.limits = limits
        self._budget = [limits.total_bytes]
        check_package(self, limits)

    def open(self, name, mode="r", pwd=None, *, force_zip64=False):
        raw = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode != "r":
            return raw
        member = name.filename if isinstance(name, zipfile.ZipInfo) else name
        return _Counted(raw, member, _member_limit(member, self.limits), self._budget)


def _parser(handler_start, handler_end, handler_text) -> expat.XMLParserType:
    p = expat.ParserCreate(namespace_separator="}")
    p.buffer_text = True
    p.StartElementHandler = handler_start
    p.EndElementHandler = handler_end
    p.CharacterDataHandler = handler_text

    def no_dtd(*_):
        raise FileProblem(f"文件中含有 XML 实体声明（DOCTYPE），正常的工作簿不会有，系统拒绝读取。{_RESAVE}")

    p.StartDoctypeDeclHandler = no_dtd
    p.EntityDeclHandler = no_dtd
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return p


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _feed(parser: expat.XMLParserType, src: BinaryIO, pending: list) -> Iterator[Any]:
    try:
        while chunk := src.read(CHUNK):
            parser.Parse(chunk, False)
            if pending:
                yield from pending
                pending.clear()
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise FileProblem(
            f"文件内容已损坏（XML 错误：{expat.ErrorString(exc.code)}），无法继续读取。{_RESAVE}"
        ) from None
    yield from pending
    pending.clear()


class _Text:
    """Characters of one cell or shared string, kept up to `cap` and counted beyond it."""

    __slots__ = ("parts", "kept", "length", "cap")

    def __init__(self, cap: int):
        self.parts: list[str] = []
        self.kept = self.length = 0
        self.cap = cap

    def add(self, data: str) -> None:
        self.length += len(data)
        if self.kept <= self.cap:
            piece = data[: self.cap + 1 - self.kept]
            self.parts.append(piece)
            self.kept += len(piece)

    def value(self) -> str | Overlong:
        text = "".join(self.parts)
        return Overlong(text[:50], self.length) if self.length > self.cap else text


def read_shared_strings(z: zipfile.ZipFile, path: str, limits: Limits) -> list:
    """The shared-string table, each string whole or as Overlong; phonetic runs (rPh) left out as openpyxl does."""
    strings: list = []
    state = {"si": None, "t": False, "rph": 0}

    def start(name, attrs):
        tag = _local(name)
        if tag == "si":
            if len(strings) >= limits.shared_strings:
                raise FileProblem(f"文件的共享字符串超过 {limits.shared_strings:,} 个，系统拒绝读取。请拆分后再上传。")
            state["si"] = _Text(limits.cell_chars)
        elif tag == "rPh":
            state["rph"] += 1
        elif tag == "t" and state["si"] is not None and not state["rph"]:
            state["t"] = True

    def end(name):
        tag = _local(name)
        if tag == "si":
            strings.append(state["si"].value())
            state["si"] = None
        elif tag == "rPh":
            state["rph"] -= 1
        elif tag == "t":
            state["t"] = False

    def text(data):
        if state["t"]:
            state["si"].add(data)

    with z.open(path) as src:
        for _ in _feed(_parser(start, end, text), src, []):
            pass
    return strings


_REF = re.compile(r"([A-Z]{1,3})(\d+)$")


def _column(ref: Optional[str], previous: int) -> int:
    m = _REF.match(ref or "")
    if not m:
        return previous + 1
    n = 0
    for ch in m.group(1):
        n = n * 26 + ord(ch) - 64
    return n


def _number(text: str) -> int | float:
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


@dataclass
class Styles:
    dates: frozenset = frozenset()  # cell style ids whose number format is a date
    timedeltas: frozenset = frozenset()
    epoch: Any = None


class SheetRows:
    """Rows of one worksheet as (Excel row number, {column number: value}), streamed and bounded.

    Blank rows are counted, not yielded; a row of only blank cells is yielded
    (the caller decides), and also counted towards `empty_rows`.
    """

    def __init__(self, z: zipfile.ZipFile, path: str, shared: list, styles: Styles, limits: Limits):
        self.z, self.path, self.shared, self.styles, self.limits = z, path, shared, styles, limits
        self.empty = 0

    def _value(self, kind: str, style: int, text: _Text, ref: str) -> Any:
        raw = text.value()
        if isinstance(raw, Overlong):
            return raw
        if kind == "inlineStr" or kind == "str" or kind == "e":
            return raw
        if raw == "":
            return None
        try:
            if kind == "s":
                return self.shared[int(raw)]
            if kind == "b":
                return bool(int(raw))
            if kind == "d":
                return from_ISO8601(raw)
            value = _number(raw)
        except (ValueError, IndexError):
            raise FileProblem(f"单元格 {ref[:12]} 的内容已损坏，无法读取。{_RESAVE}") from None
        if style in self.styles.dates:
            try:
                return from_excel(value, self.styles.epoch, timedelta=style in self.styles.timedeltas)
            except (OverflowError, ValueError):
                return "#VALUE!"  # as openpyxl: a date serial out of range reads as an error value
        return value

    def __iter__(self) -> Iterator[tuple[int, dict[int, Any]]]:
        limits = self.limits
        pending: list = []
        st = {"row": 0, "cells": None, "col": 0, "kind": "n", "style": 0, "ref": "", "text": None,
              "take": False, "is": 0, "rph": 0, "data_rows": 0, "n": 0}

        def start(name, attrs):
            tag = _local(name)
            if tag == "c" and st["cells"] is not None:
                st["ref"] = attrs.get("r") or ""
                st["col"] = _column(st["ref"], st["col"])
                st["kind"] = attrs.get("t", "n")
                try:
                    st["style"] = int(attrs.get("s") or 0)
                except ValueError:
                    st["style"] = 0
                st["text"] = _Text(limits.cell_chars)
            elif tag == "row":
                r = attrs.get("r")
                st["row"] = int(r) if r and r.isdigit() else st["row"] + 1
                st["cells"], st["col"], st["n"] = {}, 0, 0
            elif st["text"] is None:
                return
            elif tag == "v" and st["kind"] != "inlineStr":
                st["take"] = True
            elif tag == "is":
                st["is"] += 1
            elif tag == "rPh":
                st["rph"] += 1
            elif tag == "t" and st["is"] and not st["rph"]:
                st["take"] = True

        def end(name):
            tag = _local(name)
            if tag == "c" and st["text"] is not None:
                cells = st["cells"]
                st["n"] += 1  # every <c>, empty ones too: each costs parsing time
                if st["n"] > limits.cells_per_row:
                    raise FileProblem(
                        f"第 {st['row']} 行有超过 {limits.cells_per_row} 个单元格，远多于模板的列数，"
                        "系统拒绝读取。请删除模板以外的列后再上传。"
                    )
                value = self._value(st["kind"], st["style"], st["text"], st["ref"])
                if value is not None and value != "":
                    cells[st["col"]] = value
                st["text"], st["take"], st["is"], st["rph"] = None, False, 0, 0
            elif tag == "row" and st["cells"] is not None:
                cells = st["cells"]
                if all(isinstance(v, str) and not v.strip() for v in cells.values()):
                    self.empty += 1
                    if self.empty > limits.empty_rows:
                        raise FileProblem(
                            f"文件中有超过 {limits.empty_rows:,} 个空行（常见于整表设置了格式），系统已停止读取。"
                            "请删除数据下方的空行，另存后再上传。"
                        )
                else:
                    st["data_rows"] += 1
                    if st["data_rows"] > limits.rows + 1:  # + the header
                        raise too_many_rows(limits)
                    pending.append((st["row"], cells))
                st["cells"] = None
            elif tag in ("v", "t"):
                st["take"] = False
            elif tag == "is":
                st["is"] -= 1
            elif tag == "rPh":
                st["rph"] -= 1

        def text(data):
            if st["take"]:
                st["text"].add(data)

        with self.z.open(self.path) as src:
            yield from _feed(_parser(start, end, text), src, pending)


def too_many_rows(limits: Limits) -> FileProblem:
    return FileProblem(
        f"文件超过了单次导入 {limits.rows:,} 行的上限，系统没有读取。请按乡镇或类别拆分为多个文件，分别导入。"
    )


def count_rows(z: zipfile.ZipFile, path: str, stop_after: int) -> int:
    """Row elements in a sheet, counted in the raw XML (fast); stops once past `stop_after`."""
    count, tail = 0, b""
    with z.open(path) as src:
        while chunk := src.read(CHUNK * 16):
            data = tail + chunk
            # "<row " or a prefixed "<x:row "; 4 bytes of overlap find a tag
            # split across chunks without counting any tag twice.
            count += data.count(b"<row ") + data.count(b":row ")
            if count > stop_after:
                return count
            tail = data[-4:]
    return count
