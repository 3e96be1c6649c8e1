"""What every importable directory has in common (SPEC §2 "Import and export").

A directory declares its columns (the template's first row, in order), the
natural key an upsert is keyed by, how a parsed row is checked against the
database (township names, sections, other departments' records) and how a
batch of validated rows is written. The job runner in `..jobs` drives this
for any of the four directories of Art 4, 5, 6 and 19.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, ClassVar, Iterator, Optional, Sequence

from sqlalchemy import Table, bindparam, insert, select, tuple_, update

from ...auth.roles import SECTION_HEAD, STAFF
from ...extensions import db
from ...models._types import utcnow
from .. import cells
from ..bounded import Overlong
from ..cells import CellError


class _Absent:
    """The cell value of a column the uploaded file does not have at all."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


@dataclass(frozen=True)
class Column:
    header: str  # exactly as in the template's first row
    label: str  # short name used in error messages
    field: str
    parse: Callable[[Any], Any]  # raw cell value -> stored value; raises CellError
    required: bool = False
    help: str = ""
    options: tuple[str, ...] = ()  # offered as a drop-down in the template
    text_format: bool = False  # format the template column as text (codes, phone numbers)
    width: int = 16
    # A column added after files were already in circulation: a file without
    # it still imports, and the stored value is then left as it was (a blank
    # cell, by contrast, clears it like any other optional column).
    may_be_absent: bool = False


@dataclass(frozen=True)
class Scope:
    """Whose directory an import or export works on: the uploader's department and section."""

    user_id: int
    department_id: int
    section_id: Optional[int]
    section_name: Optional[str]
    all_matters: bool = False  # a supervisor reads every section's matters

    @classmethod
    def of(cls, user) -> "Scope":
        return cls(
            user_id=user.id,
            department_id=user.department_id,
            section_id=user.section_id,
            section_name=user.section.name if user.section else None,
            all_matters=not user.has_role(STAFF, SECTION_HEAD),
        )


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: "Counts") -> "Counts":
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


@dataclass
class ParsedRow:
    record: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class Directory:
    """One importable directory. Subclasses fill in the class attributes and hooks."""

    name: ClassVar[str]  # URL value of `kind`
    title: ClassVar[str]  # 检查对象名录库
    noun: ClassVar[str]  # what one row is, for sentences: 检查对象
    article: ClassVar[str]  # which article of the regulation the directory serves
    purpose: ClassVar[str]  # one sentence: what keeping this directory is for
    columns: ClassVar[tuple[Column, ...]]
    key_fields: ClassVar[tuple[str, ...]]
    examples: ClassVar[tuple[tuple[Any, ...], ...]] = ()
    notes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, scope: Scope):
        self.scope = scope

    # --- reading -------------------------------------------------------------

    @classmethod
    def headers(cls) -> list[str]:
        return [c.header for c in cls.columns]

    def refusal(self) -> Optional[str]:
        """Why this person cannot import this directory at all, or None."""
        return None

    def prepare(self) -> None:
        """Load the small lookup tables validation needs (inside an app context)."""

    def choices(self, column: Column) -> tuple[str, ...]:
        """Values offered for a column in the template; some come from the database."""
        return column.options

    def parse(self, values: Sequence[Any]) -> ParsedRow:
        row = ParsedRow()
        for column, value in zip(self.columns, values):
            if value is ABSENT:
                continue
            if isinstance(value, Overlong):
                row.problems.append(
                    f"{column.header}有 {value.length:,} 个字，超出了系统读取单元格的长度上限"
                    f"（开头为“{cells.quoted(value.head)}”），请删减后再上传"
                )
                continue
            try:
                row.record[column.field] = column.parse(value)
            except CellError as exc:
                row.problems.append(str(exc))
        self.check(row)
        return row

    def check(self, row: ParsedRow) -> None:
        """Checks against the database and the uploader's scope; may add problems."""

    def key_of(self, record: dict[str, Any]) -> Optional[tuple]:
        if any(f not in record for f in self.key_fields):
            return None  # the key itself was bad: already reported
        return tuple(record[f] for f in self.key_fields)

    def duplicate_message(self, key: tuple, first_row: int) -> str:
        raise NotImplementedError

    # --- writing -------------------------------------------------------------
    # A small directory writes every batch in the job's one last transaction (`write`).
    # A large one (`staged`, issue #13) writes its new rows batch by batch in short
    # transactions, stamped with the job and invisible to every reader (`stage`), and only
    # its changes to existing rows in the last transaction (`apply`), which also marks the
    # job done and so makes the stamped rows visible: all of the import appears at once.

    staged: ClassVar[bool] = False

    def write(self, batch: list[dict[str, Any]]) -> Counts:
        raise NotImplementedError

    def stage(self, batch: list[dict[str, Any]], job_id: int, *, leftovers: bool = True) -> "Plan":
        """Insert the batch's new rows stamped with the job; return the plan, changes not applied.
        `leftovers`: a failed import's rows may still be there (they are deleted where they collide)."""
        raise NotImplementedError

    def apply(self, updates: list[dict[str, Any]]) -> None:
        """Write changes to existing rows, as planned by `stage`."""
        raise NotImplementedError

    @classmethod
    def discard_staged(cls, limit: int) -> int:
        """Delete up to `limit` rows stamped by failed jobs; how many went."""
        return 0

    @classmethod
    def has_staged_leftovers(cls) -> bool:
        return False

    # --- exporting -----------------------------------------------------------

    def export_rows(self) -> Iterator[list[Any]]:
        """Rows of cell values in column order, such that importing them changes nothing."""
        raise NotImplementedError


@dataclass
class Plan:
    """What one batch of an upsert would do: rows to insert, changes to existing rows (by id)."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # {"id": ..., field: value, ...}
    unchanged: int = 0


def plan_upsert(
    table: Table,
    key: tuple[str, ...],
    fields: tuple[str, ...],
    batch: list[dict[str, Any]],
    *,
    scope_clause,
    on_insert: dict[str, Any],
    touch: Optional[str] = None,
    now: Optional[datetime] = None,
) -> Plan:
    """Compare one batch with the stored rows, keyed by `key`: new rows, changed rows, unchanged rows.

    Unchanged rows are counted and left alone (a re-import rewrites nothing).
    """
    plan = Plan()
    key_cols = [table.c[k] for k in key]
    wanted = [tuple(r[k] for k in key) for r in batch]
    if len(key_cols) == 1:
        match = key_cols[0].in_([w[0] for w in wanted])
    else:
        match = tuple_(*key_cols).in_(wanted)
    existing = {
        tuple(row[: len(key)]): row
        for row in db.session.execute(
            select(*key_cols, table.c.id, *[table.c[f] for f in fields]).where(scope_clause, match)
        )
    }
    now = now or utcnow()
    for r in batch:
        old = existing.get(tuple(r[k] for k in key))
        if old is None:
            values = {**{k: r[k] for k in key}, **{f: r[f] for f in fields}, **on_insert}
            if touch:
                values[touch] = now
            plan.inserts.append(values)
            continue
        old_values = old._mapping
        if all(old_values[f] == r[f] for f in fields):
            plan.unchanged += 1
            continue
        plan.updates.append({"id": old_values["id"], **{f: r[f] for f in fields}})
    return plan


def apply_updates(
    table: Table, fields: tuple[str, ...], updates: list[dict[str, Any]], *, touch: Optional[str] = None,
    now: Optional[datetime] = None,
) -> None:
    """Write the changed rows of a plan (executemany by primary key)."""
    if not updates:
        return
    changed = fields + ((touch,) if touch else ())
    values = {table.c[f]: bindparam(f"b_{f}", type_=table.c[f].type) for f in changed}
    if "row_version" in table.c:
        # A row the import changed is a newer version: an edit form opened before it is refused
        # as stale (ssj/concurrency.py) instead of silently undoing the import's change.
        values[table.c.row_version] = table.c.row_version + 1
    stamp = now or utcnow()
    params = [{"b_id": u["id"], **{f"b_{f}": u[f] for f in fields}, **({f"b_{touch}": stamp} if touch else {})}
              for u in updates]
    stmt = update(table).where(table.c.id == bindparam("b_id")).values(values)
    db.session.execute(stmt, params)


def upsert(
    table: Table,
    key: tuple[str, ...],
    fields: tuple[str, ...],
    batch: list[dict[str, Any]],
    *,
    scope_clause,
    on_insert: dict[str, Any],
    touch: Optional[str] = None,
) -> Counts:
    """Insert new rows and update changed ones of one batch, keyed by `key`, in the caller's transaction.

    Everything goes through Core executemany, which is what makes 100,000 rows
    a matter of seconds rather than minutes.
    """
    now: datetime = utcnow()
    plan = plan_upsert(table, key, fields, batch, scope_clause=scope_clause, on_insert=on_insert, touch=touch,
                       now=now)
    if plan.inserts:
        db.session.execute(insert(table), plan.inserts)
    apply_updates(table, fields, plan.updates, touch=touch, now=now)
    return Counts(created=len(plan.inserts), updated=len(plan.updates), unchanged=plan.unchanged)


def streamed(stmt, size: int = 2000):
    """Run a select and yield its rows without holding them all (exports of 100,000 rows)."""
    return db.session.execute(stmt.execution_options(yield_per=size))
