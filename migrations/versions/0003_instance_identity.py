"""instance identity: the database names the instance its keys must belong to

Revision ID: 0003_instance_identity
Revises: 0002_complete_baseline

An existing database gets the table empty; `flask init` (run after every
upgrade) fills it once the keys are shown to fit the data.
"""
from alembic import op
import sqlalchemy as sa
import ssj.models._types


revision = "0003_instance_identity"
down_revision = "0002_complete_baseline"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "instance_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("crypto_suite", sa.String(length=16), nullable=False),
        sa.Column("created_at", ssj.models._types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_identity")),
    )


def downgrade():
    op.drop_table("instance_identity")
