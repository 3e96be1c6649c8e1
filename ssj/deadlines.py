"""Art 9's report deadline, in the bureau's working days: the one place it is computed.

An inspection's report is due within five working days of the end of its
inspection (细则第九条 "5个工作日内"), counted by `current_calendar()`
(holidays, 调休, a visible warning for an unknown year). The record page,
the section's 待办, the oversight dashboard and the plans' earliest publish
date all ask here, so they cannot disagree. A module of its own so that the
plans area (publish dates) and the inspections area (reports) can both use
it without importing each other (issue #15).
"""
from __future__ import annotations

from datetime import date

from .calendar_admin.service import current_calendar
from .workdays import Calendar, DueDate

REPORT_DUE_WORKING_DAYS = 5  # Art 9


def report_due_date(ended: date, cal: Calendar | None = None) -> DueDate:
    """Art 9: an inspection's report is due REPORT_DUE_WORKING_DAYS (5) working days after it ended."""
    return (cal or current_calendar()).add_working_days(ended, REPORT_DUE_WORKING_DAYS)
