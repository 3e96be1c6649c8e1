"""Imports that don't block (issue #13): a target row a running import added is stamped with its job

Revision ID: 0010_import_staging
Revises: 0009_report_acknowledged

A large target import now writes its new rows in many short transactions
instead of one that held SQLite's write lock for the whole write. Such a row
carries the job's id in target.import_job_id and stays invisible to every
reader until the job is done (then the stamp is cleared); a failed or killed
import's rows are deleted. The stamp is added to the two covering indexes of
the target list so the visibility test is answered from them as well.
Existing rows are unstamped (NULL): visible, as before.
"""
from alembic import op
import sqlalchemy as sa

revision = "0010_import_staging"
down_revision = "0009_report_acknowledged"
branch_labels = None
depends_on = None

SEARCH = ["department_id", "name", "id", "status", "township_id", "industry", "is_small_micro",
          "complaint_count", "serious_violation", "credit_grade"]


def upgrade():
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_job_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_target_import_job_id"), ["import_job_id"], unique=False)
        batch_op.drop_index("ix_target_search")
        batch_op.drop_index("ix_target_department_industry")
        batch_op.create_index("ix_target_search", SEARCH + ["import_job_id"], unique=False)
        batch_op.create_index("ix_target_department_industry", ["department_id", "industry", "import_job_id"],
                              unique=False)


def downgrade():
    # The rows of an import that never finished must not become visible without their stamp.
    op.execute("DELETE FROM target WHERE import_job_id IS NOT NULL AND import_job_id NOT IN "
               "(SELECT id FROM import_job WHERE state = 'done')")
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.drop_index("ix_target_department_industry")
        batch_op.drop_index("ix_target_search")
        batch_op.create_index("ix_target_search", SEARCH, unique=False)
        batch_op.create_index("ix_target_department_industry", ["department_id", "industry"], unique=False)
        batch_op.drop_index(batch_op.f("ix_target_import_job_id"))
        batch_op.drop_column("import_job_id")
