"""Chinese working days: weekends, statutory holidays and make-up working days (调休).

Serves Art 9 of the regulation: "检查人员应当自检查结束之日起5个工作日内完成检查报告"
(SPEC §7 "Report within 5 working days"), and the to-do page's "working days
left / overdue" display (SPEC §8).

Pure code: no Flask, no database. The caller passes in what the administrator
has entered, so this module can be tested and reasoned about on its own.

Where the data comes from, in order of precedence:

1. Days the administrator entered (``entries``): date -> (is_working_day, name).
   They win even in years the package covers, so a correction or a one-off
   holiday announced late can be applied without waiting for a package release.
2. The ``chinese_calendar`` package (2004–2026 in version 1.11.0).
3. Weekends only: Monday–Friday working, Saturday and Sunday rest.

A year is *known* if the package covers it or the administrator has marked it
complete. Any answer that had to look at a day in an unknown year still comes
back (never raises), carrying a Chinese warning in ``warnings`` that the page
must show, because a missed holiday moves a legal deadline.

How Art 9's period is counted (our reading, following 《民法典》第二百零一条:
"开始的当日不计入，自下一日开始计算"): the day the inspection ended is day 0
and is never counted, even if it was a working day; day 1 is the first working
day after it; the report is due by the end of the 5th such working day.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import chinese_calendar

DAY = dt.timedelta(days=1)

# The package's own functions raise NotImplementedError outside this range, so
# we read its dictionaries directly and decide "known" ourselves.
PACKAGE_YEARS = range(
    min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1
)

# The package names holidays in English, with short Chinese forms ("清明",
# "端午"); the State Council notice and our users say the full names.
_HOLIDAY_NAMES = {
    chinese_calendar.Holiday.new_years_day: "元旦",
    chinese_calendar.Holiday.spring_festival: "春节",
    chinese_calendar.Holiday.tomb_sweeping_day: "清明节",
    chinese_calendar.Holiday.labour_day: "劳动节",
    chinese_calendar.Holiday.dragon_boat_festival: "端午节",
    chinese_calendar.Holiday.mid_autumn_festival: "中秋节",
    chinese_calendar.Holiday.national_day: "国庆节",
}

LABEL_WORKDAY = "工作日"
LABEL_WEEKEND = "周末"
LABEL_MAKEUP = "调休上班"
LABEL_HOLIDAY = "节假日"  # an admin-entered rest day left without a name


def _package_name(english: str) -> str:
    try:
        holiday = chinese_calendar.Holiday(english)
    except ValueError:
        return english
    return _HOLIDAY_NAMES.get(holiday, holiday.chinese)


def _require_date(d: object) -> dt.date:
    # datetime is a subclass of date but never equals one, so it would miss
    # every holiday silently; and a UTC timestamp's .date() can be the wrong
    # day in China. Make the caller convert in local time on purpose.
    if isinstance(d, dt.datetime) or not isinstance(d, dt.date):
        raise TypeError(f"expected datetime.date, got {type(d).__name__}")
    return d


@dataclass(frozen=True)
class Day:
    """One calendar day. Truthy exactly when it is a working day."""

    date: dt.date
    working: bool
    label: str  # "国庆节", "调休上班", "周末", "工作日", …
    holiday_name: str | None  # the holiday a rest day or make-up day belongs to
    warnings: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        # `if cal.is_working_day(d):` must mean what it says, not "object exists".
        return self.working


@dataclass(frozen=True)
class DueDate:
    """The n-th working day after ``start``."""

    start: dt.date
    working_days: int
    due: dt.date
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Span:
    """Working days after ``start`` up to and including ``end`` (negative if end < start)."""

    start: dt.date
    end: dt.date
    working_days: int
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Countdown:
    """Where ``today`` stands against a deadline, for "N working days left / overdue" displays."""

    today: dt.date
    due: dt.date
    # Working days after today up to and including due; when overdue, minus
    # the working days after due up to and including today.
    days_left: int
    overdue: bool
    label: str  # "还剩3个工作日", "今天到期", "已逾期2个工作日", …
    warnings: list[str] = field(default_factory=list)


class Calendar:
    """Working-day arithmetic over the package's data plus the administrator's entries."""

    def __init__(
        self,
        entries: Mapping[dt.date, tuple[bool, str]] | None = None,
        complete_years: Iterable[int] = (),
    ) -> None:
        self._entries: dict[dt.date, tuple[bool, str]] = {}
        for d, (working, name) in (entries or {}).items():
            self._entries[_require_date(d)] = (bool(working), (name or "").strip())
        self._complete_years = frozenset(int(y) for y in complete_years)
        self._entered_years = frozenset(d.year for d in self._entries)

    # -- years -----------------------------------------------------------

    def is_year_known(self, year: int) -> bool:
        """True if every holiday of ``year`` is on record (package or admin-marked complete)."""
        return year in PACKAGE_YEARS or year in self._complete_years

    def warning_for(self, year: int) -> str | None:
        """The Chinese warning to show for answers touching ``year``, or None if it is known."""
        if self.is_year_known(year):
            return None
        if year in self._entered_years:
            return (
                f"{year}年的法定节假日尚未录入完整，未录入的日期按周末推算，结果可能不准确。"
                f"请系统管理员在“节假日管理”中补全国务院公布的{year}年放假安排，并标记为已录入完整。"
            )
        return (
            f"{year}年的法定节假日尚未录入，按周末推算，结果可能不准确。"
            f"请系统管理员在“节假日管理”中录入国务院公布的{year}年放假安排。"
        )

    def _warnings(self, first: dt.date, last: dt.date) -> list[str]:
        # Every year between the first and last day looked at was looked at.
        lo, hi = sorted((first.year, last.year))
        return [w for y in range(lo, hi + 1) if (w := self.warning_for(y))]

    # -- single days -----------------------------------------------------

    def _classify(self, d: dt.date) -> tuple[bool, str, str | None]:
        weekend = d.weekday() >= 5
        if d in self._entries:
            working, name = self._entries[d]
        elif d.year in PACKAGE_YEARS and d in chinese_calendar.workdays:
            working, name = True, _package_name(chinese_calendar.workdays[d])
        elif d.year in PACKAGE_YEARS and d in chinese_calendar.holidays:
            working, name = False, _package_name(chinese_calendar.holidays[d])
        else:
            working, name = not weekend, ""
        if working:
            label = LABEL_MAKEUP if weekend else LABEL_WORKDAY
        else:
            label = name or (LABEL_WEEKEND if weekend else LABEL_HOLIDAY)
        return working, label, name or None

    def _working(self, d: dt.date) -> bool:
        return self._classify(d)[0]

    def is_working_day(self, d: dt.date) -> Day:
        """The day with its label; use ``.working`` (or truthiness) and show ``.warnings``."""
        d = _require_date(d)
        working, label, name = self._classify(d)
        return Day(d, working, label, name, self._warnings(d, d))

    def describe(self, d: dt.date) -> str:
        """A short Chinese label: "国庆节", "调休上班", "周末" or "工作日"."""
        return self._classify(_require_date(d))[1]

    # -- periods ---------------------------------------------------------

    def add_working_days(self, start: dt.date, n: int) -> DueDate:
        """The n-th working day after ``start`` (``start`` itself never counts; n=0 gives start)."""
        start = _require_date(start)
        if n < 0:
            raise ValueError("n must be >= 0")
        d, counted = start, 0
        while counted < n:
            d += DAY
            if self._working(d):
                counted += 1
        return DueDate(start, n, d, self._warnings(start + DAY, d) if n else [])

    def working_days_between(self, start: dt.date, end: dt.date) -> Span:
        """Working days in (start, end]; 0 when equal, minus the count of (end, start] when end < start.

        The inverse of add_working_days: for n >= 0,
        working_days_between(s, add_working_days(s, n).due).working_days == n.
        """
        start, end = _require_date(start), _require_date(end)
        if start == end:
            return Span(start, end, 0, [])
        lo, hi = sorted((start, end))
        count, d = 0, lo
        while d < hi:
            d += DAY
            count += self._working(d)
        sign = 1 if end > start else -1
        return Span(start, end, sign * count, self._warnings(lo + DAY, hi))

    def working_days_left(self, today: dt.date, due: dt.date) -> Countdown:
        """How many working days remain before ``due`` (or how far past it) as seen on ``today``.

        Counted like the period itself: on the day the inspection ended a
        5-working-day deadline shows "还剩5个工作日", on the due date "今天到期".
        """
        span = self.working_days_between(today, due)
        n = span.working_days
        overdue = today > due
        if overdue:
            label = f"已逾期{-n}个工作日" if n else "已逾期"
        elif n:
            label = f"还剩{n}个工作日"
        elif today == due:
            label = "今天到期"
        else:
            # due falls on a rest day with no working day before it
            label = "到期前已无工作日"
        return Countdown(today, due, n, overdue, label, span.warnings)
