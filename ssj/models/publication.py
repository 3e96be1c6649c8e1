"""Publication of a task's results: the two-person unseal and the public notice (SPEC §4, §6; Art 9, 13, 16).

Until a supervisor approves publication, nothing here names a target.
Once approved the results are public by law (Art 13 一抽查一通报), so the
notice and the draw's verification bundle are stored in plaintext: the
public pages then read these rows alone and never touch a sealed blob.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Date, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import UTCDateTime, utcnow
from .accounts import User

REQUEST_STATES = {"pending": "待局领导审批", "approved": "已批准并公开", "withdrawn": "已撤回"}


class PublicationRequest(db.Model):
    """A request to publish a task's results and the supervisor's decision (Art 13)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    approved_by: Mapped[Optional[User]] = relationship(foreign_keys=[approved_by_id])

    @property
    def state_label(self) -> str:
        return REQUEST_STATES.get(self.state, self.state)


class PublishedTask(db.Model):
    """The public results notice of one task, copied out of the sealed record at approval."""

    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column()
    department: Mapped[str] = mapped_column(String(100))
    section: Mapped[str] = mapped_column(String(100))
    # [{code, name, legal_basis, content}] as they stood when published.
    matters_json: Mapped[str] = mapped_column(Text)
    planned_start: Mapped[Optional[date]] = mapped_column(Date)
    planned_end: Mapped[Optional[date]] = mapped_column(Date)
    publish_date: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempt_number: Mapped[int] = mapped_column()
    # The bundle exactly as served for download; its SHA-256 is shown beside the link.
    # Empty while withheld by the release rule (SPEC §3): a bundle whose Art 16
    # skips name a still-unpublished task lives only in `bundle_sealed`
    # ({"text", "waits_for": [task ids]}, sealed under this task's key) and is
    # served from there once every task it waits for is published.
    bundle_json: Mapped[str] = mapped_column(Text)
    bundle_sealed: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    bundle_sha256: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[int] = mapped_column(ForeignKey("publication_request.id"))

    results: Mapped[list["PublishedResult"]] = relationship(
        cascade="all, delete-orphan", order_by="PublishedResult.position"
    )
    request: Mapped[PublicationRequest] = relationship()


class PublishedResult(db.Model):
    """One inspected unit of a published task with its result and handling."""

    __table_args__ = (UniqueConstraint("task_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("published_task.task_id"), index=True)
    position: Mapped[int] = mapped_column()
    stratum: Mapped[str] = mapped_column(String(64))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    unit_name: Mapped[str] = mapped_column(String(200))
    inspectors: Mapped[str] = mapped_column(String(255))  # names, "、"-separated (the directory is public, Art 5)
    inspection_date: Mapped[Optional[date]] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(64))
    handling: Mapped[str] = mapped_column(Text, default="")
