"""The sealed list as a watermarked .xlsx (Art 12: no copying without a trace).

The viewer's name and the time go in a header row above the table and in
the sheet's page header and footer, so every printed page of the
spreadsheet carries them too. The workbook is built in memory and handed
to the response: it is never written to disk in plaintext (openpyxl's own
save would stage each sheet in a temporary file, hence workbook_bytes).
"""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..workbook import append_row, workbook_bytes
from .service import SealedList

COLUMNS = (
    ("序号", 6),
    ("分层", 14),
    ("层内序号", 8),
    ("统一社会信用代码", 22),
    ("单位名称", 32),
    ("乡镇（街道）", 12),
    ("地址", 32),
    ("法定代表人", 10),
    ("联系电话", 14),
    ("检查组成员", 28),
)


def sealed_list_xlsx(listing: SealedList, mark: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "抽查名单"
    task = listing.task
    append_row(ws, [f"{mark} · {task.name} · 第 {listing.attempt.number} 次抽取 · 公开前严格保密（细则第十二条）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    ws["A1"].font = Font(bold=True, color="B3261E")
    ws["A1"].fill = PatternFill("solid", fgColor="FFF1F0")
    append_row(ws, [h for h, _ in COLUMNS])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for t in listing.targets:
        append_row(
            ws,
            [
                t.position,
                t.stratum,
                t.index_in_stratum,
                t.credit_code,
                t.name,
                t.township,
                t.address,
                t.legal_rep,
                t.contact,
                "、".join(f"{m.name}（{m.staff_no}）" for m in t.team),
            ]
        )
    for i, (_, width) in enumerate(COLUMNS, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for row in ws.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A3"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    # &P and &N are the page number and count in Excel's header/footer codes;
    # an "&" in a person's name is doubled so it prints as itself.
    header_mark = mark.replace("&", "&&")
    ws.oddHeader.center.text = header_mark
    ws.oddFooter.center.text = f"{header_mark} · 第 &P 页 / 共 &N 页"
    ws.evenHeader.center.text = header_mark
    ws.evenFooter.center.text = f"{header_mark} · 第 &P 页 / 共 &N 页"
    return workbook_bytes(wb)
