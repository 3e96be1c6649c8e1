"""Results of a published task for the provincial platform, as .xlsx and CSV (Art 16).

Art 16 asks that results be shared with the provincial 双随机 platform so
other departments avoid checking the same enterprise again. The content is
already public (Art 13), so no watermark; each export is still logged.
Beside the bureau's own columns, each row carries the fields of the national
enterprise credit-publicity system's 抽查检查结果 record (国家企业信用信息公示系统,
《企业信息公示暂行条例》第六条、第十条): 检查实施机关, 类型, 日期 (the check's
completion), 结果 — and of its 双随机抽查结果 table: 抽查任务编号, 抽查任务名称,
抽查类型, 抽查机关, 抽查完成日期. docs/results-export.md says which and why.
CSV is UTF-8 with a byte-order mark, which Excel needs to read Chinese;
every field goes through `workbook.csv_field`, so a unit or result that
starts like a formula reaches the spreadsheet as text.
"""
from __future__ import annotations

import csv
from io import StringIO
from typing import BinaryIO, Callable, Optional

from ..exports import xlsxstream
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
    # The credit-publicity 抽查检查结果 record (docs/results-export.md).
    ("抽查任务编号", 16),
    ("检查实施机关", 28),
    ("抽查类型", 12),
    ("抽查完成日期", 12),
)

INSPECTION_TYPE = "双随机抽查"  # the record's 类型: a random check, as against a 专项/定向 one


def task_number(notice: PublishedTask) -> str:
    """A stable 抽查任务编号 for the platform: year, the bureau's task id (never reused)."""
    return f"{notice.year}-{notice.task_id:05d}"


def completed_on(notice: PublishedTask) -> str:
    """抽查完成日期: the last inspection date of the task's targets, else its planned end."""
    days = [r.inspection_date for r in notice.results if r.inspection_date]
    last = max(days) if days else notice.planned_end
    return last.isoformat() if last else ""


def rows(notice: PublishedTask, matters: list[dict]) -> list[list[str]]:
    matter_text = "；".join(f"{m['code']} {m['name']}" for m in matters)
    number, done = task_number(notice), completed_on(notice)
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
            number,
            notice.department,
            INSPECTION_TYPE,
            done,
        ]
        for r in notice.results
    ]


def results_xlsx(out: BinaryIO, rows: list[list[str]], on_row: Optional[Callable[[int], None]] = None) -> int:
    """The rows as one sheet streamed into `out` (no plaintext temp file), credit codes as text."""
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
