"""The one clock: "now" in UTC, "today" in the bureau's time zone (SPEC §7, §9).

Every date rule (a report due in 5 working days, Art 9; an end date "not
later than today"; a publish date) and every page reads the time here, so a
server whose system clock is on UTC does not judge dates a day behind Beijing
between 00:00 and 08:00 local time. Times are stored in UTC and shown in the
bureau's zone (config DISPLAY_TIMEZONE, Asia/Shanghai by default).

Tests freeze the clock with `frozen(at)`; nothing else needs patching because
nothing else asks the system for the time.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Callable, Iterator, Optional
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"
SHOWN = "%Y-%m-%d %H:%M"

# The one place the system time is read; `frozen` swaps it in tests.
_source: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # noqa: E731


def zone() -> ZoneInfo:
    """The bureau's time zone (config DISPLAY_TIMEZONE)."""
    name = current_app.config.get("DISPLAY_TIMEZONE", DEFAULT_TIMEZONE) if has_app_context() else DEFAULT_TIMEZONE
    return ZoneInfo(name)


def now() -> datetime:
    """The current time, aware, in UTC (what is stored)."""
    return _source().astimezone(timezone.utc)


def today() -> date:
    """Today's date in the bureau's time zone (what every date rule compares with)."""
    return now().astimezone(zone()).date()


def local(value: datetime) -> datetime:
    """A stored time in the bureau's zone; a naive value is UTC (as SQLite returns it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(zone())


def local_now() -> datetime:
    return local(now())


def show(value: Optional[datetime | str], fmt: str = SHOWN) -> str:
    """A time as people read it: `2026-12-02 16:29` in the bureau's zone; '' for none.

    Sealed records keep their times as ISO strings (`2026-12-02T08:29:14+00:00`);
    those are shown the same way, and a string that is not a time is shown as is.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return local(value).strftime(fmt)


def local_date(value: datetime) -> date:
    """The bureau-local calendar date of a stored time (e.g. when a report was submitted)."""
    return local(value).date()


# Date fields: one parser and one set of accepted spellings everywhere a person types a
# date — 2026-03-10, 2026/3/10, 2026.3.10, 2026年3月10日, spaces between the parts allowed.
# The holiday calendar's bulk entry reads its date ranges with the same pattern.
DATE_PATTERN = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_DATE_RE = re.compile(DATE_PATTERN)


def date_of(year: str, month: str, day: str) -> Optional[date]:
    """The date of DATE_PATTERN's three groups, or None if there is no such day (2026-02-30)."""
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def parse_date(text: str) -> Optional[date]:
    """A typed date in any of the spellings above, or None if it is none of them (the caller says what to fix)."""
    m = _DATE_RE.fullmatch((text or "").strip())
    return date_of(m[1], m[2], m[3]) if m else None


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Freeze `now()` at an aware time (tests)."""
    global _source
    if at.tzinfo is None:
        raise ValueError("freeze the clock with an aware datetime")
    saved = _source
    _source = lambda: at  # noqa: E731
    try:
        yield
    finally:
        _source = saved
