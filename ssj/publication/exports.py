"""Results of a published task for the provincial platform, as .xlsx and CSV (Art 16).

Art 16 asks that results be shared with the provincial 双随机 platform so
other departments avoid checking the same enterprise again. The content is
already public (Art 13), so no watermark; each export is still logged.
CSV is UTF-8 with a byte-order mark, which Excel needs to read Chinese;
every field goes through `workbook.csv_field`, so a unit or result that
starts like a formula reaches the spreadsheet as text.
"""
from __future__ import annotations

import csv
from io import StringIO
from typing import BinaryIO, Callable, Optional

from ..models import PublishedTask
from ..workbook import csv_field

COLUMNS = (
    ("任务名称", 30),
    ("抽查事项", 30),
    ("统一社会信用代码", 22),
    ("单位名称", 32),
    ("检查日期", 12),
    ("检查结果", 24),
    ("处理情况", 32),
    ("结果公开日期", 12),
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


def results_xlsx(out: BinaryIO, rows: list[list[str]], on_row: Optional[Callable[[int], None]] = None) -> int:
    """The rows as one sheet streamed into `out` (no plaintext temp file), credit codes as text."""
    from ..exports import xlsxstream

    return xlsxstream.write_sheet(
        out, "抽查结果", [h for h, _ in COLUMNS], rows,
        widths=[w for _, w in COLUMNS], text_columns=[2], on_row=on_row,
    )


def results_csv(out: BinaryIO, rows: list[list[str]], on_row: Optional[Callable[[int], None]] = None) -> int:
    """The rows as CSV streamed into `out`, UTF-8 with a byte-order mark."""
    line = StringIO()
    writer = csv.writer(line, lineterminator="\r\n")
    out.write("\ufeff".encode("utf-8"))
    for n, row in enumerate([[h for h, _ in COLUMNS], *rows]):
        writer.writerow([csv_field(v) for v in row])
        out.write(line.getvalue().encode("utf-8"))
        line.seek(0)
        line.truncate()
        if n and on_row is not None:
            on_row(n)
    return len(rows)
