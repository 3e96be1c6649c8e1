"""Business training sessions and who attended them (SPEC §8; Art 15).

Art 15: "每年组织开展1次以上业务培训" — the bureau must train its staff at
least once a year; these rows are the evidence, and the oversight dashboard
counts them per department and year.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import UTCDateTime, utcnow
from .accounts import Department, Section, User


class TrainingSession(db.Model):
    """One 业务培训 held by a department, organised by one of its sections."""

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    date: Mapped[date] = mapped_column(Date, index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"))
    # Exact decimal text ("2", "1.5") like the plans' ratios: no floats anywhere.
    hours: Mapped[str] = mapped_column(String(8))
    trainer: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    department: Mapped[Department] = relationship()
    section: Mapped[Section] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[Optional[User]] = relationship(foreign_keys=[updated_by_id])
    attendance: Mapped[list["TrainingAttendance"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="TrainingAttendance.id"
    )


class TrainingAttendance(db.Model):
    """One person at a session: a user of the department, or someone from outside it by name."""

    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    # Kept as they were on the day, so the record still reads right after a
    # user is renamed or moves to another section.
    name: Mapped[str] = mapped_column(String(64))
    section_id: Mapped[Optional[int]] = mapped_column(ForeignKey("section.id"))
    affiliation: Mapped[str] = mapped_column(String(100), default="")  # 单位/科室 of an external attendee

    session: Mapped[TrainingSession] = relationship(back_populates="attendance")
    user: Mapped[Optional[User]] = relationship()
    section: Mapped[Optional[Section]] = relationship()

    @property
    def external(self) -> bool:
        return self.user_id is None

    @property
    def where(self) -> str:
        if self.section is not None:
            return self.section.name
        return self.affiliation
