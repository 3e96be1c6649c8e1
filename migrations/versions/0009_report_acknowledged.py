"""The leadership acknowledges the section's final report (Art 9 "报局党组")

Revision ID: 0009_report_acknowledged
Revises: 0008_access_grants

Two nullable columns on final_report: which supervisor read the approved
report, and when. Reports approved before the upgrade start unacknowledged,
so they appear on the leadership's 待办 once: nothing is invented.
"""
from alembic import op
import sqlalchemy as sa

import ssj.models._types

revision = "0009_report_acknowledged"
down_revision = "0008_access_grants"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("final_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", ssj.models._types.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_final_report_acknowledged_by_id_user"), "user",
                                    ["acknowledged_by_id"], ["id"])


def downgrade():
    with op.batch_alter_table("final_report", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_final_report_acknowledged_by_id_user"), type_="foreignkey")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("acknowledged_by_id")
