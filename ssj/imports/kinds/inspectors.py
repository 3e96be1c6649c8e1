"""Import and export of the 执法检查人员名录库 (Art 5), keyed by staff number.

Art 5 wants the directory "根据人员调整情况进行动态更新": a yearly roster
from the personnel office is loaded here. Staff numbers are unique across the
whole system, so a number already registered by another department is refused
rather than silently moved.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterator

from sqlalchemy import select

from ...extensions import db
from ...models import Department, Inspector, Section
from .. import cells
from .base import Column, Counts, Directory, ParsedRow, streamed, upsert

# The template offers three plain words; "借调" is accepted as a synonym of 休假
# because the directory's own label is "休假/借调".
STATUS_BY_LABEL = {"在岗": "active", "休假": "leave", "已调离": "left", "休假/借调": "leave", "借调": "leave"}
STATUS_LABEL = {"active": "在岗", "leave": "休假", "left": "已调离"}


class Inspectors(Directory):
    name = "inspectors"
    title = "执法检查人员名录库"
    noun = "执法检查人员"
    article = "第五条"
    purpose = "随机选派执法检查人员的名录库；只有在岗且执法证在有效期内的人员才会被抽取。"
    key_fields = ("staff_no",)
    columns = (
        Column("工号", "工号", "staff_no", lambda v: cells.code_text(v, "工号", max_len=32), required=True,
               help="本人在系统中的唯一编号，最多 32 位，不能有空格。", text_format=True),
        Column("姓名", "姓名", "name", lambda v: cells.text(v, "姓名", max_len=64, required=True), required=True),
        Column("所属科室", "所属科室", "section", lambda v: cells.text(v, "所属科室", max_len=100, required=True),
               required=True, help="本部门科室的名称，须与系统中的名称完全一致，如“劳动保障监察大队”。", width=22),
        Column("执法证号", "执法证号", "cert_no", lambda v: cells.code_text(v, "执法证号", max_len=64),
               required=True, help="行政执法证件号码，将在公开的人员名录中显示（细则第五条）。", text_format=True,
               width=20),
        Column("执法证有效期至", "执法证有效期至", "cert_expiry", lambda v: cells.day(v, "执法证有效期至"),
               required=True, help="日期单元格，或 YYYY-MM-DD 格式的文字，如 2027-06-30。过期后不再参与抽取。"),
        Column("专业特长", "专业特长", "specialties", lambda v: cells.text(v, "专业特长", max_len=255),
               help="可留空，如：工资支付、社会保险。", width=22),
        Column("状态(在岗/休假/已调离)", "状态", "status",
               lambda v: cells.choice(v, "状态", STATUS_BY_LABEL, default="active"),
               help="留空按“在岗”。休假和已调离的人员不参与抽取。", options=("在岗", "休假", "已调离")),
    )
    examples = (("JC001", "王五", "劳动保障监察大队", "豫A12345678", "2027-06-30", "工资支付", "在岗"),)
    notes = ("工号是本名录的唯一标识：文件中已有的工号会被更新，新的工号会被新增；文件中没有的人员不会被删除，调离请把状态改为“已调离”。",)

    FIELDS = ("name", "section_id", "cert_no", "cert_expiry", "specialties", "status")

    def prepare(self) -> None:
        self.sections = dict(
            db.session.execute(
                select(Section.name, Section.id).where(Section.department_id == self.scope.department_id)
            ).all()
        )
        self.elsewhere = dict(
            db.session.execute(
                select(Inspector.staff_no, Department.name)
                .join(Department, Department.id == Inspector.department_id)
                .where(Inspector.department_id != self.scope.department_id)
            ).all()
        )

    def choices(self, column: Column) -> tuple[str, ...]:
        if column.field == "section":
            return tuple(sorted(self.sections))
        return column.options

    def check(self, row: ParsedRow) -> None:
        record = row.record
        name = record.pop("section", None)
        if name is not None:
            if name in self.sections:
                record["section_id"] = self.sections[name]
            else:
                row.problems.append(
                    f"所属科室“{cells.quoted(name)}”不是本部门的科室，可填：{'、'.join(sorted(self.sections))}"
                )
        staff_no = record.get("staff_no")
        if staff_no in self.elsewhere:
            row.problems.append(f"工号 {staff_no} 已登记在{self.elsewhere[staff_no]}，不能由本部门导入")
        if isinstance(record.get("cert_expiry"), date):
            record["cert_expiry"] = record["cert_expiry"].isoformat()  # staged as JSON text

    def duplicate_message(self, key: tuple, first_row: int) -> str:
        return f"工号 {key[0]} 与第 {first_row} 行重复，同一人员只能出现一次"

    def write(self, batch: list[dict[str, Any]]) -> Counts:
        for r in batch:
            r["cert_expiry"] = date.fromisoformat(r["cert_expiry"])
        table = Inspector.__table__
        return upsert(
            table, self.key_fields, self.FIELDS, batch,
            scope_clause=table.c.department_id == self.scope.department_id,
            on_insert={"department_id": self.scope.department_id},
            touch="updated_at",
        )

    def export_rows(self) -> Iterator[list[Any]]:
        sections = dict(
            db.session.execute(
                select(Section.id, Section.name).where(Section.department_id == self.scope.department_id)
            ).all()
        )
        t = Inspector.__table__
        stmt = (
            select(t.c.staff_no, *[t.c[f] for f in self.FIELDS])
            .where(t.c.department_id == self.scope.department_id)
            .order_by(t.c.staff_no)
        )
        for r in streamed(stmt):
            yield [
                r.staff_no, r.name, sections.get(r.section_id, ""), r.cert_no, r.cert_expiry,
                r.specialties, STATUS_LABEL.get(r.status, r.status),
            ]
