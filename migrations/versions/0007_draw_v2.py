"""ssj-draw-v2: Art 16's set E sealed per attempt; a withheld bundle sealed per published task

Revision ID: 0007_draw_v2
Revises: 0006_insider_console
Create Date: 2026-12-02 20:30:00

Both columns are new and nullable: attempts drawn before the upgrade had
their Art 16 exclusion applied at freezing (ssj-draw-v1) and have no E to
keep; bundles published before it are served as they were.
"""
from alembic import op
import sqlalchemy as sa


revision = "0007_draw_v2"
down_revision = "0006_insider_console"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("draw_attempt") as batch:
        batch.add_column(sa.Column("exclusion_sealed", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("published_task") as batch:
        batch.add_column(sa.Column("bundle_sealed", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("published_task") as batch:
        batch.drop_column("bundle_sealed")
    with op.batch_alter_table("draw_attempt") as batch:
        batch.drop_column("exclusion_sealed")
