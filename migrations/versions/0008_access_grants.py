"""access grants: sealed-reading access given by an admin waits for a supervisor's approval (SPEC §4)

Revision ID: 0008_access_grants
Revises: 0007_draw_v2
"""
import sqlalchemy as sa
from alembic import op

import ssj.models._types

revision = "0008_access_grants"
down_revision = "0007_draw_v2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "access_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("requested_json", sa.Text(), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", ssj.models._types.UTCDateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", ssj.models._types.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_access_grant_decided_by_id_user")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"], name=op.f("fk_access_grant_requested_by_id_user")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_access_grant_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grant")),
    )
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_grant_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_grant_user_id"))
    op.drop_table("access_grant")
