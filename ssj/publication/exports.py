"""Results of a published task for the provincial platform, as .xlsx and CSV (Art 16).

Art 16 asks that results be shared with the provincial 双随机 platform so
other departments avoid checking the same enterprise again. The content is
already public (Art 13), so no watermark; each export is still logged.
CSV is UTF-8 with a byte-order mark, which Excel needs to read Chinese.
"""
from __future__ import annotations

import csv
from io import BytesIO, StringIO

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..models import PublishedTask

COLUMNS = (
    ("任务名称", 30),
    ("抽查事项", 30),
    ("统一社会信用代码", 22),
    ("单位名称", 32),
    ("检查日期", 12),
    ("检查结果", 24),
    ("处理情况", 32),
    ("公示日期", 12),
)


def rows(notice: PublishedTask, matters: list[dict]) -> list[list[str]]:
    matter_text = "；".join(f"{m['code']} {m['name']}" for m in matters)
    return [
        [
            notice.name,
            matter_text,
            r.credit_code,
            r.unit_name,
            r.inspection_date.isoformat() if r.inspection_date else "",
            r.result,
            r.handling,
            notice.publish_date.isoformat(),
        ]
        for r in notice.results
    ]


def results_csv(notice: PublishedTask, matters: list[dict]) -> bytes:
    out = StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([h for h, _ in COLUMNS])
    writer.writerows(rows(notice, matters))
    return out.getvalue().encode("utf-8-sig")


def results_xlsx(notice: PublishedTask, matters: list[dict]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "抽查结果"
    ws.append([h for h, _ in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows(notice, matters):
        ws.append(row)
    for i, (_, width) in enumerate(COLUMNS, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    # Credit codes stay text: some are all digits and Excel would round them.
    for cell in ws["C"][1:]:
        cell.number_format = "@"
    ws.freeze_panes = "A2"
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
