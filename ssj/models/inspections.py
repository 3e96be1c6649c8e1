"""Inspection records, evidence, follow-up and reports (SPEC §7; Art 8, 9, 10).

Everything that links a task's position to its target is sealed (SPEC §4):
the plaintext columns say only which task and position a row belongs to,
its state and when it changed. A position is a number in the draw, not a
target, so these rows tell a database copy nothing the Assignment rows do
not already say.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Date, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..concurrency import Versioned
from ..extensions import db
from ._types import UTCDateTime, utcnow
from .accounts import User

RECORD_STATES = {"draft": "草稿", "submitted": "已提交"}
FINAL_REPORT_STATES = {"draft": "待审核", "approved": "已审核"}


class InspectionRecord(Versioned, db.Model):
    """The inspection record of one drawn target (kind "record", record id "task:position")."""

    __table_args__ = (UniqueConstraint("task_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    position: Mapped[int] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(default=1)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    submitted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # The day the inspection ended, in the clear so the oversight dashboard can
    # count reports on time (Art 9) without decrypting: it belongs to a position,
    # not to a target, and says nothing about which enterprise was inspected.
    ended_on: Mapped[Optional[date]] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list["InspectionRecordVersion"]] = relationship(
        order_by="InspectionRecordVersion.version", cascade="all, delete-orphan"
    )

    @property
    def state_label(self) -> str:
        return RECORD_STATES.get(self.state, self.state)


class InspectionRecordVersion(db.Model):
    """A superseded version of a submitted record, kept sealed when a correction replaces it."""

    __table_args__ = (UniqueConstraint("record_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("inspection_record.id"), index=True)
    version: Mapped[int] = mapped_column()
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EvidenceFile(db.Model):
    """An encrypted evidence file in instance/evidence/<stored_name>; its name, type and hash are sealed."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, also the seal's record id
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    position: Mapped[int] = mapped_column()
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    meta_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FollowUp(Versioned, db.Model):
    """A handling measure after an inspection (Art 10); what and whom only in `sealed`.

    The rectification deadline and whether it was re-checked are plaintext so
    overdue orders can be flagged without decrypting anything; a date says
    nothing about which enterprise it concerns.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    position: Mapped[int] = mapped_column()
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    deadline: Mapped[Optional[date]] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FinalReport(Versioned, db.Model):
    """The section's final report of a task for the bureau's leadership (Art 9), sealed."""

    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    drafted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # Art 9 "报局党组": a supervisor of the department has read the approved report.
    acknowledged_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    drafted_by: Mapped[User] = relationship(foreign_keys=[drafted_by_id])
    approved_by: Mapped[Optional[User]] = relationship(foreign_keys=[approved_by_id])
    acknowledged_by: Mapped[Optional[User]] = relationship(foreign_keys=[acknowledged_by_id])

    @property
    def state_label(self) -> str:
        return FINAL_REPORT_STATES.get(self.state, self.state)


class InspectionNotice(Versioned, db.Model):
    """The 检查通知书 of one drawn target (kind "notice", record id "task:position:notice"), sealed.

    Number, date, place, contact, documents to prepare and the unit it is
    addressed to are all in `sealed`; the clear columns say only which
    position has a notice and when it was written, which names no target.
    """

    __table_args__ = (UniqueConstraint("task_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    position: Mapped[int] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    updated_by: Mapped[User] = relationship()
