"""Witnesses are users who enter their own digits (ssj-draw-v2, SPEC §3)

Revision ID: 0004_witness_user
Revises: 0003_instance_identity

Two nullable columns on draw_witness: which user the witness is, and how
they were identified (their own session, or their password re-entered on
the ceremony screen). Existing rows (v1 ceremonies, typed by the
organiser) keep both empty: nothing is lost and nothing is invented.
"""
from alembic import op
import sqlalchemy as sa


revision = "0004_witness_user"
down_revision = "0003_instance_identity"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("draw_witness", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("identified_by", sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_draw_witness_user_id_user"), "user", ["user_id"], ["id"])


def downgrade():
    with op.batch_alter_table("draw_witness", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_draw_witness_user_id_user"), type_="foreignkey")
        batch_op.drop_column("identified_by")
        batch_op.drop_column("user_id")
