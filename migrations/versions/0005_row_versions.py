"""row_version on every object two people may edit (optimistic concurrency, issue #13)

Revision ID: 0005_row_versions
Revises: 0004_witness_user
Create Date: 2026-12-02 20:45:00

Existing rows start at version 1 (the server default), so forms opened
before the upgrade are refused once, not silently overwritten.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_row_versions"
down_revision = "0004_witness_user"
branch_labels = None
depends_on = None

TABLES = ("inspection_record", "inspection_notice", "follow_up", "final_report",
          "matter", "inspector", "target", "conflict", "annual_plan", "task")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("row_version", sa.Integer(), server_default=sa.text("1"), nullable=False))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("row_version")
