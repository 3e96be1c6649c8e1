"""Import and export of the 随机抽查事项清单 (Art 4), keyed by matter code.

Art 4 makes each matter the responsibility of one section ("各抽查事项由相关
专业、股室(中心)牵头"), so a person imports only their own section's matters.
Every change goes through `apply_matter_changes`: an import leaves the same
version history (who, when, what changed) as the edit form.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, Optional

from sqlalchemy import select

from ...directories.versions import apply_matter_changes
from ...extensions import db
from ...models import Matter, Section, User
from ...models.directories import MATTER_METHODS, MATTER_STATUSES
from .. import cells
from .base import Column, Counts, Directory, ParsedRow, streamed

METHOD_BY_LABEL = {label: code for code, label in MATTER_METHODS.items()}
STATUS_BY_LABEL = {label: code for code, label in MATTER_STATUSES.items()}


def _ratio_cell(ratio: str):
    """Stored decimal text as a number cell, so Excel shows 1 rather than '1 as text'."""
    d = Decimal(ratio)
    return int(d) if d == d.to_integral_value() else float(d)


class Matters(Directory):
    name = "matters"
    title = "随机抽查事项清单"
    noun = "抽查事项"
    article = "第四条"
    purpose = "向社会公开的随机抽查事项清单，载明抽查依据、内容、比例和频次，并随法规调整动态更新。"
    key_fields = ("code",)
    columns = (
        Column("事项编码", "事项编码", "code", lambda v: cells.code_text(v, "事项编码", max_len=32), required=True,
               help="事项的唯一编码，最多 32 位，不能有空格，如 RS-JC-001。", text_format=True),
        Column("事项名称", "事项名称", "name", lambda v: cells.text(v, "事项名称", max_len=200, required=True),
               required=True, width=30),
        Column("抽查依据", "抽查依据", "legal_basis",
               lambda v: cells.text(v, "抽查依据", max_len=10000, required=True).replace("\r\n", "\n"),
               required=True, help="法律、法规、规章的名称和条款。", width=36),
        Column("抽查内容", "抽查内容", "content", lambda v: cells.multiline(v, "抽查内容", required=True),
               required=True, help="每项一行（单元格内换行），或用“；”分隔，如：劳动合同签订情况；工资支付情况。", width=36),
        Column("需备查的材料", "需备查的材料", "documents", lambda v: cells.multiline(v, "需备查的材料"),
               help="检查通知书要求被检查单位准备的材料，每项一行或用“；”分隔，如：营业执照副本；劳动合同及职工花名册。"
                    "旧模板没有这一列也可以导入，已有的材料清单保持不变。",
               width=36, may_be_absent=True),
        Column("抽查比例(%)", "抽查比例", "ratio_percent",
               lambda v: cells.percent(v, "抽查比例", minimum=Decimal(1), maximum=Decimal(100)),
               required=True, help="百分数的数值，如 1 表示 1%；不得低于 1（细则第七条），最多两位小数。"),
        Column("抽查频次(次/年)", "抽查频次", "frequency",
               lambda v: cells.integer(v, "抽查频次", minimum=1, maximum=365),
               required=True, help="每年抽查次数，整数；原则上不少于 3 次（细则第七条）。"),
        Column("检查方式(现场检查/书面检查/现场检查、书面检查)", "检查方式", "method",
               lambda v: cells.choice(v, "检查方式", METHOD_BY_LABEL), required=True,
               help="现场检查、书面检查，或两者兼用（细则第八条）。", options=tuple(METHOD_BY_LABEL), width=24),
        Column("责任科室", "责任科室", "section", lambda v: cells.text(v, "责任科室", max_len=100),
               help="只能是您所在的科室；留空即为您所在的科室。", width=20),
        Column("状态", "状态", "status", lambda v: cells.choice(v, "状态", STATUS_BY_LABEL, default="active"),
               help="有效、暂停或已废止；留空按“有效”。", options=tuple(STATUS_BY_LABEL)),
    )
    examples = (
        ("RS-JC-001", "用人单位遵守劳动用工和工资支付情况的检查", "《劳动保障监察条例》第十一条",
         "劳动合同签订情况\n工资支付和最低工资标准执行情况\n工作时间和休息休假情况",
         "营业执照副本\n劳动合同及职工花名册\n近12个月工资支付凭证\n考勤记录", 1, 3, "现场检查、书面检查",
         "劳动保障监察大队", "有效"),
    )
    notes = (
        "事项编码是本清单的唯一标识：已有的编码会被更新，新的编码会被新增；每一次修改都会记入事项的版本历史。",
        "只能导入本科室负责的事项；其他科室的事项请由该科室导入。",
        "“需备查的材料”列是后来增加的：没有这一列的旧文件照样可以导入，系统中已有的材料清单不变；有这一列而单元格留空，则清空该事项的材料清单。",
    )

    FIELDS = ("name", "legal_basis", "content", "documents", "ratio_percent", "frequency", "method", "section_id",
              "status")

    def refusal(self) -> Optional[str]:
        if self.scope.section_id is None:
            return "您的账号没有所属科室，不能导入事项清单。请联系系统管理员为您设置所属科室。"
        return None

    def prepare(self) -> None:
        self.owner_elsewhere = dict(
            db.session.execute(
                select(Matter.code, Section.name)
                .join(Section, Section.id == Matter.section_id)
                .where(Matter.section_id != self.scope.section_id)
            ).all()
        )

    def choices(self, column: Column) -> tuple[str, ...]:
        if column.field == "section" and self.scope.section_name:
            return (self.scope.section_name,)
        return column.options

    def check(self, row: ParsedRow) -> None:
        record = row.record
        section = record.pop("section", None)
        if section is not None:
            if section and section != self.scope.section_name:
                row.problems.append(
                    f"责任科室只能是您所在的“{self.scope.section_name}”，而不是“{cells.quoted(section)}”；其他科室的事项请由该科室导入"
                )
            record["section_id"] = self.scope.section_id
        code = record.get("code")
        if code in self.owner_elsewhere:
            row.problems.append(f"事项编码 {code} 已是“{self.owner_elsewhere[code]}”的事项，只能由该科室修改")

    def duplicate_message(self, key: tuple, first_row: int) -> str:
        return f"事项编码 {key[0]} 与第 {first_row} 行重复，同一事项只能出现一次"

    def write(self, batch: list[dict[str, Any]]) -> Counts:
        # Matters are few (tens); each goes through the versioning helper so an
        # import leaves exactly the history a form edit would.
        counts = Counts()
        user = db.session.get(User, self.scope.user_id)
        existing = {
            m.code: m
            for m in db.session.execute(
                select(Matter).where(Matter.code.in_([r["code"] for r in batch]))
            ).scalars()
        }
        for r in batch:
            matter = existing.get(r["code"])
            # A file without the 需备查的材料 column leaves the stored list alone.
            values = {"code": r["code"], **{f: r[f] for f in self.FIELDS if f in r}}
            _, changes = apply_matter_changes(matter, values, user, "import")
            if matter is None:
                counts.created += 1
            elif changes:
                counts.updated += 1
            else:
                counts.unchanged += 1
        return counts

    def export_rows(self) -> Iterator[list[Any]]:
        m = Matter.__table__
        stmt = (
            select(m.c.code, *[m.c[f] for f in self.FIELDS], Section.name.label("section_name"))
            .join(Section, Section.id == m.c.section_id)
            .order_by(m.c.code)
        )
        if not self.scope.all_matters:
            # The section's own matters only, so that its export re-imports as a no-op.
            stmt = stmt.where(m.c.section_id == self.scope.section_id)
        for r in streamed(stmt):
            yield [
                r.code, r.name, r.legal_basis, r.content, r.documents or "", _ratio_cell(r.ratio_percent), r.frequency,
                MATTER_METHODS.get(r.method, r.method), r.section_name,
                MATTER_STATUSES.get(r.status, r.status),
            ]
