"""Reading and writing the .xlsx files of directory imports and exports (SPEC §2, §9).

Reading is streaming and bounded (`bounded`): rows come off the zipped XML
one at a time, so a 100,000-row file never sits in memory, and a file built
to exhaust the server (a zip bomb, a million blank rows, a cell at column
XFD) is refused within seconds. openpyxl reads only the small parts.
Writing goes through `exports.xlsxstream` (text cells, never formulas).
Templates are small and written with openpyxl, which lets them carry
drop-downs and text-formatted code columns.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Iterator, Optional, Sequence

from openpyxl import Workbook
from openpyxl.xml.constants import SHARED_STRINGS
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..exports import xlsxstream
from ..workbook import append_row, workbook_bytes
from . import bounded
from .bounded import FileProblem
from .kinds import KINDS, Directory
from .kinds.base import ABSENT

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HELP_SHEET = "填写说明"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .et, and password-protected .xlsx
HEADER_FONT = Font(bold=True)


_RESAVE = "请用 Excel 或 WPS 打开它，另存为 .xlsx 后再上传。"


# --- checking what was uploaded ---------------------------------------------


def format_problem(filename: str, head: bytes) -> Optional[str]:
    """Why an upload is not an .xlsx workbook, judged from its name and first bytes."""
    suffix = Path(filename).suffix.lower()
    if head.startswith(OLE_MAGIC):
        if suffix == ".xlsx":
            return (f"文件“{filename}”设置了打开密码（已加密），系统无法读取。"
                    "请在 Excel 或 WPS 中取消密码后另存为 .xlsx 再上传。")
        return (f"文件“{filename}”是旧版 Excel 97-2003 格式（.xls）或 WPS 格式。"
                "请在 Excel 或 WPS 中点“另存为”，选择“Excel 工作簿（*.xlsx）”后再上传。")
    if suffix == ".csv" or suffix == ".txt":
        return (f"文件“{filename}”是文本文件（{suffix}），不是 Excel 工作簿。"
                "请下载模板，把数据粘贴到模板中，保存为 .xlsx 后再上传。")
    if suffix != ".xlsx":
        shown = suffix or "无扩展名"
        return (f"只能导入 .xlsx 格式的 Excel 文件，而“{filename}”是 {shown} 文件。"
                "请用 Excel 或 WPS 另存为“Excel 工作簿（*.xlsx）”后再上传。")
    if not head.startswith(b"PK"):
        return (f"文件“{filename}”不是有效的 .xlsx 工作簿（可能已损坏，或只是改了扩展名）。"
                "请用 Excel 或 WPS 打开它，另存为 .xlsx 后再上传。")
    return None


def workbook_problem(path: Path, filename: str, limits: bounded.Limits = bounded.Limits()) -> Optional[str]:
    """Cheap structural check of a zip that claims to be a workbook: its parts and their
    declared sizes and compression ratios (no XML is read, so a bomb costs nothing here)."""
    try:
        with zipfile.ZipFile(path) as z:
            if "xl/workbook.xml" not in z.namelist():
                raise zipfile.BadZipFile
            bounded.check_package(z, limits)
    except (zipfile.BadZipFile, OSError, ValueError):
        return (f"文件“{filename}”不是有效的 .xlsx 工作簿（可能已损坏，或只是改了扩展名）。"
                "请用 Excel 或 WPS 打开它，另存为 .xlsx 后再上传。")
    except FileProblem as exc:
        return f"文件“{filename}”：{exc}"
    return None


# --- reading ------------------------------------------------------------------


def _norm_header(value: Any) -> str:
    s = "" if value is None else str(value)
    s = s.replace("（", "(").replace("）", ")").replace("％", "%")
    return re.sub(r"\s+", "", s)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class Header:
    positions: list[Optional[int]]  # for each of the directory's columns, its index in the file (None: absent)
    ignored: list[str]  # extra columns in the file, left unread


def match_header(directory: type[Directory], row: Sequence[Any]) -> Header:
    """Map the file's first row onto the directory's columns, or say exactly what is wrong."""
    found: dict[str, int] = {}
    ignored: list[str] = []
    for i, value in enumerate(row):
        key = _norm_header(value)
        if not key:
            continue
        if key in found:
            raise FileProblem(f"表头中“{value}”出现了两次，请删除多余的一列后再上传。")
        found[key] = i
    expected = directory.headers()
    missing = [c.header for c in directory.columns if not c.may_be_absent and _norm_header(c.header) not in found]
    if missing:
        raise FileProblem(_header_message(directory, missing, found))
    wanted = {_norm_header(h) for h in expected}
    ignored = [str(row[i]).strip() for k, i in found.items() if k not in wanted]
    return Header(positions=[found.get(_norm_header(h)) for h in expected], ignored=ignored)


def _header_message(directory: type[Directory], missing: list[str], found: dict[str, int]) -> str:
    expected = "、".join(f"“{h}”" for h in directory.headers())
    if not found:
        lead = "文件第一行是空的，应为表头。"
    else:
        lead = f"表头与模板不一致，缺少{'、'.join(f'“{h}”' for h in missing)}列。"
        for other in KINDS.values():
            if other is not directory and all(_norm_header(h) in found for h in other.headers()):
                lead += f"这似乎是“{other.title}”的文件，请到该名录的导入页面上传。"
                break
    return (f"{lead}{directory.title}的第一行应为以下 {len(directory.columns)} 列（顺序不限）："
            f"{expected}。请下载模板，把数据粘贴到模板中再上传。")


class _MetadataReader(ExcelReader):
    """openpyxl's reader for the small parts (workbook, styles, sheet list) over a BoundedZip.

    The shared strings and the sheet itself are parsed by `bounded`, which
    keeps their size in check; openpyxl would hold all of both in memory.
    """

    def __init__(self, archive: bounded.BoundedZip):  # no super(): it would open the file again, unbounded
        self.archive = archive
        self.valid_files = archive.namelist()
        self.read_only, self.keep_vba, self.data_only, self.keep_links, self.rich_text = True, False, True, False, False
        self.shared_strings: list = []
        self.strings_path: Optional[str] = None

    def read_strings(self) -> None:
        ct = self.package.find(SHARED_STRINGS)
        if ct is not None:
            self.strings_path = ct.PartName[1:]

    def read_worksheets(self) -> None:
        # Names and paths only. openpyxl's ReadOnlyWorksheet looks for the
        # sheet's <dimension> on creation and, when there is none, parses the
        # whole sheet to find it: 1.4 million blank rows took minutes and 250 MB.
        self.sheets = [(sheet.name, rel.target) for sheet, rel in self.parser.find_sheets()
                       if rel.target in self.valid_files and "chartsheet" not in rel.Type]

    def read(self) -> None:
        """Only what the import needs: manifest, workbook (sheet list, 1904 dates), styles (date formats)."""
        self.read_manifest()
        self.read_strings()
        self.read_workbook()
        apply_stylesheet(self.archive, self.wb)
        self.read_worksheets()


class SheetReader:
    """The data sheet of an uploaded workbook, read one row at a time within `limits`.

    Use as a context manager; `rows()` yields (Excel row number, values in
    the directory's column order), skipping rows that are entirely blank. A
    cell longer than the limit arrives as `bounded.Overlong`.
    """

    def __init__(self, path: Path, directory: type[Directory], limits: bounded.Limits = bounded.Limits()):
        self.path = path
        self.directory = directory
        self.limits = limits
        self.archive: Optional[bounded.BoundedZip] = None

    def __enter__(self) -> "SheetReader":
        try:
            self.archive = bounded.BoundedZip(self.path, self.limits)
        except zipfile.BadZipFile as exc:
            raise FileProblem(f"文件无法作为 Excel 工作簿打开（可能已损坏）。{_RESAVE}") from exc
        try:
            self._open()
        except FileProblem:
            self.archive.close()
            raise
        except Exception as exc:  # zlib, CRC or cell errors in a broken package
            self.archive.close()
            raise FileProblem(f"文件无法作为 Excel 工作簿打开（可能已损坏）。{_RESAVE}") from exc
        except BaseException:
            self.archive.close()
            raise
        return self

    def _open(self) -> None:
        reader = _MetadataReader(self.archive)
        try:
            reader.read()
        except FileProblem:
            raise
        except Exception as exc:  # openpyxl raises many kinds for a broken package
            raise FileProblem(f"文件无法作为 Excel 工作簿打开（可能已损坏）。{_RESAVE}") from exc
        wb = reader.wb
        sheets = reader.sheets
        data = [sheet for sheet in sheets if sheet[0] != HELP_SHEET] or sheets
        named = [sheet for sheet in data if sheet[0] == self.directory.title]
        sheet_path = (named or data)[0][1] if data else None
        if not sheet_path:
            raise FileProblem(f"文件中找不到工作表的数据（可能已损坏）。{_RESAVE}")
        # Counted in the raw XML first (fast): a file of a million rows is
        # refused in a second instead of after minutes of checking.
        found = bounded.count_rows(self.archive, sheet_path, self.limits.rows + self.limits.empty_rows + 1)
        if found > self.limits.rows + self.limits.empty_rows + 1:
            raise FileProblem(
                f"文件的行数（含空行）超过了单次导入 {self.limits.rows:,} 行的上限，系统没有读取。"
                "如数据下方有大量空行，请删除后另存；否则请按乡镇或类别拆分为多个文件，分别导入。"
            )
        self.estimate = max(found - 1, 0)
        shared = bounded.read_shared_strings(self.archive, reader.strings_path, self.limits) if reader.strings_path else []
        styles = bounded.Styles(frozenset(getattr(wb, "_date_formats", ())),
                                frozenset(getattr(wb, "_timedelta_formats", ())), wb.epoch)
        self._rows = iter(bounded.SheetRows(self.archive, sheet_path, shared, styles, self.limits))
        first = next(self._numbered(), None)
        self.header = match_header(self.directory, _as_row(first[1]) if first else ())

    def __exit__(self, *exc) -> None:
        if self.archive is not None:
            self.archive.close()

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        positions = self.header.positions
        for row_no, cells in self._numbered():
            # Only the template's columns are looked at: a cell at column XFD
            # costs nothing (openpyxl padded every row out to it).
            picked = [ABSENT if i is None else cells.get(i + 1) for i in positions]
            if all(v is ABSENT or _blank(v) for v in picked):
                continue
            yield row_no, picked

    def _numbered(self) -> Iterator[tuple[int, dict[int, Any]]]:
        row_no = 1
        try:
            for row_no, cells in self._rows:
                yield row_no, cells
        except FileProblem:
            raise
        except Exception as exc:  # a package that breaks half-way: zip or cell errors
            raise FileProblem(f"文件读到第 {row_no} 行后无法继续读取（文件可能已损坏）。{_RESAVE}") from exc


def _as_row(cells: dict[int, Any]) -> list[Any]:
    """A header row as a list; its width is bounded by Limits.cells_per_row."""
    if not cells:
        return []
    width = min(max(cells), 16384)
    return [cells.get(i) for i in range(1, width + 1)]


# --- writing ------------------------------------------------------------------


def write_template(directory: Directory, out: IO[bytes]) -> None:
    """The blank template: headers only on the data sheet (it imports as "nothing to do"),
    and a 填写说明 sheet explaining every column with an example row.

    `directory` must be prepared: townships and sections come from the database.
    """
    options = {c.field: directory.choices(c) for c in directory.columns}
    wb = Workbook()
    ws = wb.active
    ws.title = directory.title
    append_row(ws, directory.headers())
    ws.freeze_panes = "A2"
    for i, column in enumerate(directory.columns, start=1):
        letter = get_column_letter(i)
        ws.cell(row=1, column=i).font = HEADER_FONT
        ws.column_dimensions[letter].width = max(column.width, len(column.header) * 2 + 2)
        if column.text_format:
            # New cells typed into this column stay text, so 18-digit codes keep every digit.
            ws.column_dimensions[letter].number_format = "@"
        # A choice holding a quote or comma would end the list formula early.
        listed = ",".join(o for o in options[column.field] if '"' not in o and "," not in o)
        # Excel refuses an in-cell list longer than 255 characters; the help sheet still lists them.
        if listed and len(listed) <= 255:
            dv = DataValidation(
                type="list", formula1=f'"{listed}"', allow_blank=True, showErrorMessage=True,
                errorTitle="请从列表中选择", error="可选：" + "、".join(options[column.field])[:200],
            )
            dv.add(f"{letter}2:{letter}100000")
            ws.add_data_validation(dv)

    help_ws = wb.create_sheet(HELP_SHEET)
    append_row(help_ws, [f"{directory.title}导入模板 · 填写说明（依据《实施细则》{directory.article}）"])
    help_ws["A1"].font = Font(bold=True, size=13)
    append_row(help_ws, [directory.purpose])
    append_row(help_ws, [])
    append_row(help_ws, ["列名", "是否必填", "填写说明", "可选值"])
    for c in help_ws[4]:
        c.font = HEADER_FONT
        c.fill = PatternFill("solid", fgColor="EEF1F5")
    for column in directory.columns:
        append_row(help_ws, [column.header, "必填" if column.required else "选填", column.help or "",
                        "、".join(options[column.field])])
    append_row(help_ws, [])
    append_row(help_ws, ["填写要求"])
    help_ws.cell(row=help_ws.max_row, column=1).font = HEADER_FONT
    general = (
        f"在“{directory.title}”工作表中填写，第一行表头请勿修改；从第二行起每行一条，不要合并单元格。",
        "选填列留空时按默认值导入，并会覆盖系统中已有的值。",
        *directory.notes,
        "导入是“全部或全不”：只要有一行有错误，就不会写入任何数据，系统会列出每一行的行号和原因；"
        "您也可以在查看错误后选择“仅导入有效的行”。",
        "同一个文件再导入一次不会产生任何修改。从系统导出的文件与本模板格式相同，修改后可直接导入。",
    )
    for line in general:
        append_row(help_ws, [line])
    append_row(help_ws, [])
    append_row(help_ws, ["示例（仅供参考，请勿把本示例复制到数据表中）"])
    help_ws.cell(row=help_ws.max_row, column=1).font = HEADER_FONT
    append_row(help_ws, directory.headers())
    for example in directory.examples:
        append_row(help_ws, list(example))
    for letter, width in (("A", 34), ("B", 30), ("C", 60), ("D", 30)):
        help_ws.column_dimensions[letter].width = width
    for row in help_ws.iter_rows(min_row=5, max_row=4 + len(directory.columns)):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    out.write(workbook_bytes(wb))


def write_rows(
    out: IO[bytes],
    title: str,
    headers: Sequence[str],
    rows: Iterator[Sequence[Any]],
    widths: Sequence[int] = (),
) -> int:
    """Stream rows into a one-sheet workbook; return how many were written.

    The same writer as every export (`exports.xlsxstream`): text cells only,
    never a formula, and no plaintext temporary file.
    """
    return xlsxstream.write_sheet(out, title, headers, rows, widths=widths)


def write_export(directory: Directory, out: IO[bytes]) -> int:
    """The directory in its template's layout, so an unchanged export re-imports as a no-op."""
    widths = [max(c.width, len(c.header) * 2 + 2) for c in directory.columns]
    return write_rows(out, directory.title, directory.headers(), directory.export_rows(), widths)


def export_filename(directory: type[Directory], what: str, when: datetime) -> str:
    return f"{directory.title}-{what}-{when:%Y%m%d-%H%M}.xlsx"
