"""Import and export of the 检查对象名录库 (Art 6, 19), keyed by credit code within the department.

Art 6 asks for a directory kept "及时更新完善", Art 19 for one that covers every
employer of the county: that means bulk loads from registration data, so this
is the directory that must handle 100,000 rows.
"""
from __future__ import annotations

from typing import Any, Iterator

from sqlalchemy import and_, delete, insert, select

from ... import creditcode
from ...extensions import db
from ...models import ImportJob, Target, Township
from ...models.directories import TARGET_STATUSES, target_visible
from .. import cells
from .base import Column, Directory, ParsedRow, Plan, apply_updates, plan_upsert, streamed

STATUS_BY_LABEL = {label: code for code, label in TARGET_STATUSES.items()}
GRADES = {g: g for g in "ABCD"}
EXAMPLE_CODE = "91411623MA45KQ0T2" + creditcode.check_character("91411623MA45KQ0T2")


def _grade(value: Any) -> str:
    if isinstance(value, str):
        value = value.strip().upper()
    return cells.choice(value, "信用等级", GRADES, default="A")


def _yes_no(flag: bool) -> str:
    return "是" if flag else "否"


class Targets(Directory):
    name = "targets"
    title = "检查对象名录库"
    noun = "检查对象"
    article = "第六条、第十九条"
    purpose = "随机抽取检查对象的名录库，应涵盖本行政区域内所有属地监管对象。"
    key_fields = ("credit_code",)
    columns = (
        Column("统一社会信用代码", "统一社会信用代码", "credit_code", cells.credit_code, required=True,
               help="18 位，系统会核对最后一位校验码（GB 32100-2015）。请将本列设为文本格式，避免 Excel 把数字代码改掉。",
               text_format=True, width=22),
        Column("单位名称", "单位名称", "name",
               lambda v: cells.text(v, "单位名称", max_len=200, required=True),
               required=True, help="营业执照上的全称，最多 200 字。", width=30),
        Column("行业类型", "行业类型", "industry", lambda v: cells.text(v, "行业类型", max_len=64),
               help="如：制造业、建筑业、住宿和餐饮业。用于按类型确定抽查范围和比例（细则第七条）。"),
        Column("小微企业(是/否)", "小微企业", "is_small_micro", lambda v: cells.yes_no(v, "小微企业"),
               help="填“是”或“否”，留空按“否”。小微企业可适当降低抽查比例（细则第七条）。",
               options=("是", "否")),
        Column("乡镇（街道）", "乡镇（街道）", "township", lambda v: cells.text(v, "乡镇（街道）", max_len=64),
               help="须与系统中的乡镇（街道）名称完全一致；可留空。"),
        Column("地址", "地址", "address", lambda v: cells.text(v, "地址", max_len=255), width=30),
        Column("法定代表人", "法定代表人", "legal_rep", lambda v: cells.text(v, "法定代表人", max_len=64)),
        Column("联系电话", "联系电话", "contact", lambda v: cells.text(v, "联系电话", max_len=64),
               text_format=True),
        Column("经营状态(存续/注销/吊销/迁出)", "经营状态", "status",
               lambda v: cells.choice(v, "经营状态", STATUS_BY_LABEL, default="operating"),
               help="留空按“存续”。只有存续的单位会进入抽取范围。", options=tuple(STATUS_BY_LABEL)),
        Column("被投诉举报次数", "被投诉举报次数", "complaint_count",
               lambda v: cells.integer(v, "被投诉举报次数", minimum=0, maximum=1_000_000, default=0),
               help="非负整数，留空按 0。3 次及以上列为特殊监管对象，加大抽查力度（细则第七条）。"),
        Column("严重违法违规记录(是/否)", "严重违法违规记录", "serious_violation",
               lambda v: cells.yes_no(v, "严重违法违规记录"),
               help="填“是”或“否”，留空按“否”。", options=("是", "否")),
        Column("信用等级(A/B/C/D)", "信用等级", "credit_grade", _grade,
               help="A 诚信、B 较好、C 较差、D 失信；留空按 A。C、D 级列为特殊监管对象。", options=tuple(GRADES)),
    )
    examples = (
        (EXAMPLE_CODE, "商水县某某纺织有限公司", "制造业", "是", "东城街道", "商水县东城街道某某路 8 号",
         "张三", "0394-5420000", "存续", 0, "否", "A"),
    )
    notes = (
        "统一社会信用代码是本名录的唯一标识：文件中已在系统里的代码会被更新，新的代码会被新增；文件中没有的单位不会被删除。",
    )

    FIELDS = ("name", "industry", "is_small_micro", "township_id", "address", "legal_rep", "contact",
              "status", "complaint_count", "serious_violation", "credit_grade")

    def prepare(self) -> None:
        rows = db.session.execute(select(Township.id, Township.name)).all()
        self.township_ids = {name: id_ for id_, name in rows}

    def choices(self, column: Column) -> tuple[str, ...]:
        if column.field == "township":
            return tuple(sorted(self.township_ids))
        return column.options

    def check(self, row: ParsedRow) -> None:
        name = row.record.pop("township", "")
        if not name:
            row.record["township_id"] = None
        elif name in self.township_ids:
            row.record["township_id"] = self.township_ids[name]
        elif self.township_ids:
            row.problems.append(
                f"乡镇（街道）“{cells.quoted(name)}”不在系统的乡镇（街道）列表中，可填：{'、'.join(sorted(self.township_ids))}"
            )
        else:
            row.problems.append(f"乡镇（街道）“{cells.quoted(name)}”无法识别：系统中还没有乡镇（街道）列表，请留空或请系统管理员先录入")

    def duplicate_message(self, key: tuple, first_row: int) -> str:
        return f"统一社会信用代码 {key[0]} 与第 {first_row} 行重复，同一单位只能出现一次"

    # 100,000 rows: written in short transactions that let everyone else's requests through (issue #13).
    staged = True

    def stage(self, batch: list[dict[str, Any]], job_id: int, *, leftovers: bool = True) -> Plan:
        t = Target.__table__
        department = t.c.department_id == self.scope.department_id
        plan = plan_upsert(
            t, self.key_fields, self.FIELDS, batch,
            scope_clause=and_(department, target_visible(t)),
            on_insert={"department_id": self.scope.department_id, "import_job_id": job_id},
            touch="updated_at",
        )
        if plan.inserts and leftovers:
            # A failed import's rows not yet cleaned up would collide on the credit code: they go first.
            db.session.execute(
                delete(t).where(department, t.c.credit_code.in_([r["credit_code"] for r in plan.inserts]),
                                t.c.import_job_id.in_(_failed_jobs()))
            )
        if plan.inserts:
            db.session.execute(insert(t), plan.inserts)
        return plan

    def apply(self, updates: list[dict[str, Any]]) -> None:
        apply_updates(Target.__table__, self.FIELDS, updates, touch="updated_at")

    @classmethod
    def discard_staged(cls, limit: int) -> int:
        t = Target.__table__
        # The job's state is checked in the same statement: never a row of a job that is done.
        some = select(t.c.id).where(t.c.import_job_id.in_(_failed_jobs())).limit(limit)
        return db.session.execute(delete(t).where(t.c.id.in_(some.scalar_subquery()))).rowcount

    @classmethod
    def has_staged_leftovers(cls) -> bool:
        t = Target.__table__
        return db.session.execute(select(t.c.id).where(t.c.import_job_id.in_(_failed_jobs())).limit(1)).first() \
            is not None

    def export_rows(self, only=None) -> Iterator[list[Any]]:
        """`only`, a select of target ids, narrows the export to the list page's filters."""
        townships = dict(db.session.execute(select(Township.id, Township.name)).all())
        t = Target.__table__
        stmt = (
            select(t.c.credit_code, *[t.c[f] for f in self.FIELDS])
            .where(t.c.department_id == self.scope.department_id, target_visible(t))
            .order_by(t.c.credit_code)
        )
        if only is not None:
            stmt = stmt.where(t.c.id.in_(only))
        for r in streamed(stmt):
            yield [
                r.credit_code, r.name, r.industry, _yes_no(r.is_small_micro),
                townships.get(r.township_id, "") if r.township_id else "", r.address, r.legal_rep,
                r.contact, TARGET_STATUSES.get(r.status, r.status), r.complaint_count,
                _yes_no(r.serious_violation), r.credit_grade,
            ]


def _failed_jobs():
    """Jobs whose stamped rows are leftovers to delete: failed (a kill is settled as failed first)."""
    j = ImportJob.__table__
    return select(j.c.id).where(j.c.state == "failed").scalar_subquery()
