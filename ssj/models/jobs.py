"""Long-running work (imports, exports, archive packages) that a person can leave and come back to (SPEC §2, §9).

The job row is where progress lives, so any worker process can answer the
progress poll; each bad row of the uploaded file is one ImportRowError, so a
file with thousands of bad rows is paged from the database, not held in memory.

Exports are their own model rather than a generalised ImportJob: an import
counts rows checked and written, an export counts rows produced and owns an
encrypted file with its wrapped key (Art 12 "严格保密"). Sharing one table
would leave half the columns meaningless for each.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._types import UTCDateTime, utcnow

JOB_STATES = {
    "queued": "排队中",
    "validating": "正在逐行检查",
    "writing": "正在写入",
    "done": "已完成",
    "rejected": "未导入（文件有错误）",
    "failed": "失败（未写入任何数据）",
}
RUNNING_STATES = ("queued", "validating", "writing")


class ImportJob(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)  # unguessable id used in URLs
    kind: Mapped[str] = mapped_column(String(32))  # targets / inspectors / matters / conflicts
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    section_id: Mapped[Optional[int]] = mapped_column(ForeignKey("section.id"))
    filename: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    # The person looked at the bad rows and chose to import only the valid ones;
    # source_job_id is the rejected job whose file this one re-reads.
    accept_valid_subset: Mapped[bool] = mapped_column(default=False)
    source_job_id: Mapped[Optional[int]] = mapped_column(ForeignKey("import_job.id"))
    # queued -> validating -> writing -> done | rejected | failed
    state: Mapped[str] = mapped_column(String(16), default="queued")
    rows_total: Mapped[int] = mapped_column(default=0)  # an estimate until validation ends
    rows_done: Mapped[int] = mapped_column(default=0)
    valid_rows: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    message: Mapped[Optional[str]] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Touched with every progress commit: a running job that stops being
    # touched was cut off (e.g. the worker process restarted).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    @property
    def state_label(self) -> str:
        return JOB_STATES.get(self.state, self.state)

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES


class ImportRowError(db.Model):
    """One bad row of an uploaded file: its Excel row number and what to fix."""

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_job.id"), index=True)
    row_no: Mapped[int] = mapped_column()
    message: Mapped[str] = mapped_column(Text)


EXPORT_STATES = {
    "queued": "排队中",
    "running": "正在生成",
    "done": "已完成",
    "failed": "失败",
    "expired": "已过期清理",
}
EXPORT_RUNNING_STATES = ("queued", "running")


class ExportJob(db.Model):
    """One export or archive package built in the background, kept encrypted until downloaded.

    The file lives in instance/exports/ under a random name, AES-256-GCM
    under a per-job data key that is stored here only wrapped by the KEK.
    `file_sha256` is of the plaintext the person downloads, so the access-log
    entry of a download names exactly what left the system.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)  # unguessable id used in URLs
    # directory:<targets|inspectors|matters|conflicts> / results_xlsx / results_csv / archive
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    section_id: Mapped[Optional[int]] = mapped_column(ForeignKey("section.id"))
    task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("task.id"))
    # Scope and filters as they were when the person asked (JSON), so the
    # file is what they saw even if they leave and the job runs later.
    params: Mapped[str] = mapped_column(Text, default="{}")
    # queued -> running -> done | failed; done -> expired once the file is purged
    state: Mapped[str] = mapped_column(String(16), default="queued")
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    download_name: Mapped[Optional[str]] = mapped_column(String(255))
    mimetype: Mapped[Optional[str]] = mapped_column(String(120))
    file_token: Mapped[Optional[str]] = mapped_column(String(64))  # name of the ciphertext in instance/exports/
    file_size: Mapped[Optional[int]] = mapped_column()
    file_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    wrapped_key: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    kek_id: Mapped[Optional[str]] = mapped_column(String(16))
    message: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Touched with every progress step: a running job that stops being
    # touched was cut off (e.g. the worker process restarted).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    @property
    def state_label(self) -> str:
        return EXPORT_STATES.get(self.state, self.state)

    @property
    def running(self) -> bool:
        return self.state in EXPORT_RUNNING_STATES
