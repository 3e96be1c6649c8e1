"""Import and export of 回避关系 (Art 5: "执法检查人员与抽查对象有利害关系的，应依法回避").

Keyed by the pair (staff number, credit code); both must already be in the
department's directories, because a conflict with an unknown person or
enterprise could never be enforced by the draw.
"""
from __future__ import annotations

from typing import Any, Iterator

from sqlalchemy import select

from ...extensions import db
from ...models import Conflict, Inspector, Target
from ...models._types import utcnow
from ...models.directories import CONFLICT_KINDS
from .. import cells
from .base import Column, Counts, Directory, ParsedRow, streamed, upsert

KIND_BY_LABEL = {label: code for code, label in CONFLICT_KINDS.items()}


class Conflicts(Directory):
    name = "conflicts"
    title = "回避关系"
    noun = "回避关系"
    article = "第五条"
    purpose = "执法检查人员与检查对象之间的利害关系；有回避关系的人员永远不会被抽中去检查该单位。"
    key_fields = ("staff_no", "credit_code")
    columns = (
        Column("执法人员工号", "执法人员工号", "staff_no", lambda v: cells.code_text(v, "执法人员工号", max_len=32),
               required=True, help="须是本部门执法检查人员名录库中已有的工号。", text_format=True),
        Column("统一社会信用代码", "统一社会信用代码", "credit_code", cells.credit_code, required=True,
               help="须是本部门检查对象名录库中已有的单位。请将本列设为文本格式。", text_format=True, width=22),
        Column("回避类型(近亲属关系/曾在该单位任职/其他利害关系)", "回避类型", "kind",
               lambda v: cells.choice(v, "回避类型", KIND_BY_LABEL), required=True,
               options=tuple(KIND_BY_LABEL), width=24),
        Column("说明", "说明", "reason", lambda v: cells.text(v, "说明", max_len=2000),
               help="如：配偶在该单位任财务负责人。", width=36),
    )
    examples = (("JC001", "91411623MA45KQ0T2J", "近亲属关系", "配偶在该单位任财务负责人"),)
    notes = (
        "执法人员工号加统一社会信用代码是一条回避关系的唯一标识：已有的会更新回避类型和说明，新的会被新增；文件中没有的回避关系不会被删除。",
    )

    FIELDS = ("kind", "reason")

    def prepare(self) -> None:
        self.inspector_ids = dict(
            db.session.execute(
                select(Inspector.staff_no, Inspector.id).where(Inspector.department_id == self.scope.department_id)
            ).all()
        )

    def _target_id(self, code: str):
        # Looked up one by one through the unique index: conflict files are
        # short, and a map of every target would cost memory for nothing.
        return db.session.execute(
            select(Target.id).where(
                Target.department_id == self.scope.department_id, Target.credit_code == code
            )
        ).scalar_one_or_none()

    def check(self, row: ParsedRow) -> None:
        record = row.record
        staff_no = record.get("staff_no")
        if staff_no is not None:
            if staff_no in self.inspector_ids:
                record["inspector_id"] = self.inspector_ids[staff_no]
            else:
                row.problems.append(f"执法人员工号 {staff_no} 不在本部门的执法检查人员名录库中，请先导入该人员")
        code = record.get("credit_code")
        if code is not None:
            target_id = self._target_id(code)
            if target_id is None:
                row.problems.append(f"统一社会信用代码 {code} 不在本部门的检查对象名录库中，请先导入该单位")
            else:
                record["target_id"] = target_id

    def duplicate_message(self, key: tuple, first_row: int) -> str:
        return f"工号 {key[0]} 与单位 {key[1]} 的回避关系与第 {first_row} 行重复，同一对只能出现一次"

    def write(self, batch: list[dict[str, Any]]) -> Counts:
        table = Conflict.__table__
        inspector_ids = sorted({r["inspector_id"] for r in batch})
        return upsert(
            table, ("inspector_id", "target_id"), self.FIELDS, batch,
            scope_clause=table.c.inspector_id.in_(inspector_ids),
            on_insert={"declared_by_id": self.scope.user_id, "declared_at": utcnow()},
        )

    def export_rows(self) -> Iterator[list[Any]]:
        stmt = (
            select(Inspector.staff_no, Target.credit_code, Conflict.kind, Conflict.reason)
            .join(Inspector, Inspector.id == Conflict.inspector_id)
            .join(Target, Target.id == Conflict.target_id)
            .where(Inspector.department_id == self.scope.department_id)
            .order_by(Inspector.staff_no, Target.credit_code)
        )
        for r in streamed(stmt):
            yield [r.staff_no, r.credit_code, CONFLICT_KINDS.get(r.kind, r.kind), r.reason]
