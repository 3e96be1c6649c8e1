"""complete the baseline on databases made before 0001 was frozen

Revision ID: 0002_complete_baseline
Revises: 0001
Create Date: 2026-12-02 20:30:00

Until 2026-12-02 the one migration, 0001, was edited in place each time the
schema changed, so an instance made by an earlier commit reports 0001 while
it lacks tables (export_job, inspection_record, ...) and columns
(matter.documents, import_job.updated_at, ...) that 0001 creates today.
`db upgrade` then had nothing to do and pages failed.

This revision brings any such database to exactly what today's 0001 makes,
keeping every row: it replays 0001's own create statements (so the two
cannot drift apart) and, table by table, adds what is missing:

- a missing table is created with its indexes;
- a missing column is added, filled for the existing rows (FILL below, or
  the type's empty value) and only then made NOT NULL;
- a missing index or unique constraint is created; one the baseline no longer
  has is dropped (the old uq_assignment_task_id would refuse a redraw);
- a column the baseline no longer has (import_job.errors_json) keeps its data
  but stops being NOT NULL, so inserts that do not know it succeed.

On a database made by today's 0001 it changes nothing.
"""
from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0002_complete_baseline"
down_revision = "0001"
branch_labels = None
depends_on = None

# Values for existing rows of a column added to the baseline after the row was written.
FILL = {
    ("import_job", "updated_at"): "COALESCE(finished_at, started_at)",
    ("import_job", "valid_rows"): "rows_total - error_count",
}


class _BatchRecorder:
    def __init__(self, baseline: _Baseline, table: str) -> None:
        self.baseline, self.table = baseline, table

    f = staticmethod(op.f)

    def create_index(self, name, columns, unique=False, **kw) -> None:
        self.baseline.indexes.setdefault(self.table, []).append((name, list(columns), unique))


class _Baseline:
    """What 0001 creates, recorded by running its upgrade() with this object as its `op`."""

    def __init__(self) -> None:
        self.tables: dict[str, tuple] = {}
        self.indexes: dict[str, list] = {}

    f = staticmethod(op.f)

    def create_table(self, name, *items, **kw) -> None:
        self.tables[name] = items

    @contextmanager
    def batch_alter_table(self, name, **kw):
        yield _BatchRecorder(self, name)


def _baseline() -> _Baseline:
    path = Path(__file__).with_name("0001_initial_schema.py")
    spec = importlib.util.spec_from_file_location("ssj_migration_0001", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    recorder = _Baseline()
    module.op = recorder
    module.upgrade()
    return recorder


def _empty_value(column: sa.Column) -> str:
    if isinstance(column.type, sa.Boolean):
        return "false" if op.get_bind().dialect.name == "postgresql" else "0"
    if isinstance(column.type, (sa.Integer, sa.Numeric)):
        return "0"
    if isinstance(column.type, (sa.String, sa.Text)):
        return "''"
    raise RuntimeError(f"no fill value for the new column {column.name}: add it to FILL")


def upgrade():
    baseline = _baseline()
    inspector = sa.inspect(op.get_bind())
    present = set(inspector.get_table_names())
    for table, items in baseline.tables.items():
        if table not in present:
            op.create_table(table, *items)
            with op.batch_alter_table(table) as batch:
                for name, columns, unique in baseline.indexes.get(table, []):
                    batch.create_index(name, columns, unique=unique)
            continue
        _complete_table(table, items, baseline.indexes.get(table, []), sa.inspect(op.get_bind()))


def _complete_table(name: str, items: tuple, indexes: list, inspector) -> None:
    table = sa.Table(name, sa.MetaData(), *items)  # only to read the items; never created
    have = {c["name"]: c for c in inspector.get_columns(name)}
    added = [c for c in table.columns if c.name not in have]
    added_names = {c.name for c in added}
    uniques = {str(u.name): [c.name for c in u.columns] for u in table.constraints if isinstance(u, sa.UniqueConstraint)}
    have_uniques = {u["name"] for u in inspector.get_unique_constraints(name) if u["name"]}
    wanted_indexes = {str(n): (cols, unique) for n, cols, unique in indexes}
    # PostgreSQL lists the index behind each unique constraint too: that one is not ours to drop.
    have_indexes = {i["name"] for i in inspector.get_indexes(name)
                    if i["name"] and not i.get("duplicates_constraint") and i["name"] not in have_uniques}
    stale_columns = [n for n, c in have.items()
                     if n not in table.columns and not c["nullable"] and c.get("default") is None]
    if not (added or stale_columns or set(uniques) ^ have_uniques or set(wanted_indexes) ^ have_indexes):
        return
    with op.batch_alter_table(name) as batch:
        for column in added:
            batch.add_column(sa.Column(column.name, column.type, nullable=True))
        for column_name in stale_columns:
            batch.alter_column(column_name, existing_type=have[column_name]["type"], nullable=True)
        for constraint in have_uniques - set(uniques):
            batch.drop_constraint(constraint, type_="unique")
        for index in have_indexes - set(wanted_indexes):
            batch.drop_index(index)
    for column in added:
        if not column.nullable:
            fill = FILL.get((name, column.name)) or _empty_value(column)
            op.execute(f"UPDATE {name} SET {column.name} = {fill} WHERE {column.name} IS NULL")
    with op.batch_alter_table(name) as batch:
        for column in added:
            if not column.nullable:
                batch.alter_column(column.name, existing_type=column.type, nullable=False)
        for fk in table.foreign_key_constraints:
            if set(fk.column_keys) <= added_names:
                targets = [e.target_fullname.split(".") for e in fk.elements]
                batch.create_foreign_key(fk.name, targets[0][0], fk.column_keys, [t[1] for t in targets])
        for constraint in set(uniques) - have_uniques:
            batch.create_unique_constraint(constraint, uniques[constraint])
        for index in set(wanted_indexes) - have_indexes:
            cols, unique = wanted_indexes[index]
            batch.create_index(index, cols, unique=unique)


def downgrade():
    # The older shapes were never releases: there is nothing to go back to.
    pass
