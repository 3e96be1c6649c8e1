"""access log department column (each discipline office reads its own department's log) and investigations 立案核查

Revision ID: 0006_insider_console
Revises: 0005_row_versions
"""
import json

import sqlalchemy as sa
from alembic import op

import ssj.models._types

revision = "0006_insider_console"
down_revision = "0005_row_versions"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade():
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_access_log_department"), ["department"], unique=False)

    # Existing entries get the department their hashed body names, so nothing
    # already logged drops out of its office's view (the body itself is untouched).
    bind = op.get_bind()
    log = sa.table("access_log", sa.column("id", sa.BigInteger), sa.column("body", sa.Text),
                   sa.column("department", sa.String))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(log.c.id, log.c.body).where(log.c.id > last).order_by(log.c.id).limit(_BATCH)
        ).all()
        if not rows:
            break
        for row_id, body in rows:
            try:
                department = json.loads(body).get("department")
            except (ValueError, AttributeError):
                department = None
            if isinstance(department, str):
                bind.execute(sa.update(log).where(log.c.id == row_id).values(department=department))
        last = rows[-1][0]

    op.create_table(
        "investigation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("codes_json", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", ssj.models._types.UTCDateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", ssj.models._types.UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("expires_at", ssj.models._types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_investigation_decided_by_id_user")),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"], name=op.f("fk_investigation_department_id_department")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"], name=op.f("fk_investigation_requested_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investigation")),
    )
    with op.batch_alter_table("investigation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_investigation_department_id"), ["department_id"], unique=False)


def downgrade():
    with op.batch_alter_table("investigation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_investigation_department_id"))
    op.drop_table("investigation")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_log_department"))
        batch_op.drop_column("department")
