"""Holidays the administrator enters for years the chinese_calendar package does not cover (SPEC §7).

Serves Art 9 ("自检查结束之日起5个工作日内完成检查报告"): a report deadline is
counted in Chinese working days, and the State Council publishes each
year's holidays only late in the year before, after our package was
released. `ssj.calendar_admin.service.current_calendar()` turns these rows
into a `ssj.workdays.Calendar`.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import UTCDateTime, utcnow
from .accounts import User

WEEKDAYS = "一二三四五六日"


class Holiday(db.Model):
    """One day of the State Council's schedule: a rest day (放假) or a make-up working day (调休上班)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[date] = mapped_column(Date, unique=True)
    is_working_day: Mapped[bool] = mapped_column()
    # The holiday a rest day is for, or the one a make-up day makes up for ("" if unknown).
    name: Mapped[str] = mapped_column(String(32), default="")
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    entered_by: Mapped[User] = relationship()

    @property
    def weekday_label(self) -> str:
        return "星期" + WEEKDAYS[self.date.weekday()]

    @property
    def kind_label(self) -> str:
        return "调休上班" if self.is_working_day else "放假"


class HolidayYear(db.Model):
    """Whether the administrator has entered a year's whole schedule, so its dates count as known."""

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    complete: Mapped[bool] = mapped_column(default=False)
    marked_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    marked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    marked_by: Mapped[Optional[User]] = relationship()
