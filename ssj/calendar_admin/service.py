"""Holidays the administrator enters, checked, stored and turned into the working-day calendar (SPEC §7).

Serves Art 9 ("自检查结束之日起5个工作日内完成检查报告"): every deadline in
ssj is counted in Chinese working days, and the `chinese_calendar` package
only knows the State Council's schedules up to 2026. For later years the
administrator types in the schedule as published (one day at a time or a
pasted list) and marks the year complete; until then answers touching that
year carry a warning (see `ssj.workdays`).

Other areas call `current_calendar()`; everything else here serves the
admin page. Parsing and checking need no Flask: they take what is already
stored as a plain mapping, so the rules can be tested on their own.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple, Optional

from flask import g
from sqlalchemy import func, select

from .. import clock
from .. import audit
from ..extensions import db
from ..models import Holiday, HolidayYear, User
from ..models.calendar import WEEKDAYS
from ..workdays import PACKAGE_YEARS, Calendar

YEAR_MIN, YEAR_MAX = 2000, 2099
NAME_LIMIT = 32
# The longest statutory break so far is 9 days (春节 2026); a longer range is a typo.
MAX_RANGE_DAYS = 15
BULK_LINE_LIMIT = 400

# The seven statutory holidays (《全国年节及纪念日放假办法》), in calendar order.
# A year's schedule without one of them is probably not complete yet.
STATUTORY_HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
_STEMS = {"元旦": "元旦", "春节": "春节", "清明节": "清明", "劳动节": "劳动", "端午节": "端午", "中秋节": "中秋", "国庆节": "国庆"}

PACKAGE_NOTE = f"chinese_calendar 软件包（{PACKAGE_YEARS.start}–{PACKAGE_YEARS.stop - 1}年）"


def weekday_label(d: date) -> str:
    return "星期" + WEEKDAYS[d.weekday()]


def day_text(d: date) -> str:
    return f"{d.isoformat()}（{weekday_label(d)}）"


# --- the calendar other areas use ------------------------------------------------

_G_KEY = "_ssj_calendar"


def current_calendar() -> Calendar:
    """The working-day calendar with every entered day and completed year; built once per request."""
    cal = g.get(_G_KEY)
    if cal is None:
        rows = db.session.execute(select(Holiday.date, Holiday.is_working_day, Holiday.name)).all()
        years = db.session.scalars(select(HolidayYear.year).where(HolidayYear.complete.is_(True))).all()
        cal = Calendar({r.date: (r.is_working_day, r.name) for r in rows}, years)
        setattr(g, _G_KEY, cal)
    return cal


def _forget_calendar() -> None:
    # A change must be visible to the rest of the same request (the page it redirects to is
    # another request, but a view that changes and then computes must not see stale data).
    g.pop(_G_KEY, None)


def stored_entries() -> dict[date, tuple[bool, str]]:
    rows = db.session.execute(select(Holiday.date, Holiday.is_working_day, Holiday.name)).all()
    return {r.date: (r.is_working_day, r.name) for r in rows}


# --- parsing and checking entries (no Flask) -------------------------------------

_DATE = clock.DATE_PATTERN  # the one set of date spellings (ssj.clock.parse_date)
_LINE_RE = re.compile(rf"^{_DATE}(?:\s*(?:至|到|~|～|—)\s*{_DATE})?(.*)$")
_TRIM = " \t,，、;；:：。()（）[]【】\"“”'"


@dataclass(frozen=True)
class Entry:
    date: date
    working: bool
    name: str

    @property
    def label(self) -> str:
        if self.working:
            return f"{self.name}调休上班" if self.name else "调休上班"
        return f"{self.name}放假"


def stored_label(working: bool, name: str) -> str:
    return Entry(date.min, working, name).label


class Check(NamedTuple):
    """What `check_entry` found: an error (and the form field it belongs to) or a warning."""

    error: Optional[str] = None
    field: str = "date"
    warning: Optional[str] = None


def check_entry(entry: Entry, stored: Mapping[date, tuple[bool, str]]) -> Check:
    """One entry against the rules and what is already stored; an identical stored entry is no error here."""
    d = entry.date
    if not YEAR_MIN <= d.year <= YEAR_MAX:
        return Check(f"日期 {d.isoformat()} 的年份应在 {YEAR_MIN}–{YEAR_MAX} 之间，请检查是否输错。")
    if entry.working and d.weekday() < 5:
        return Check(
            f"{day_text(d)} 本来就是工作日，不需要录入为“调休上班”。"
            "只有国务院通知中周六、周日上班的日子才需要录入。",
            "kind",
        )
    if not entry.working and not entry.name:
        return Check(f"请写明 {day_text(d)} 放假的节日名称，例如“元旦”“春节”“国庆节”。", "name")
    if len(entry.name) > NAME_LIMIT:
        return Check(f"节日名称最多 {NAME_LIMIT} 个字。", "name")
    if d in stored and stored[d] != (entry.working, entry.name):
        before = stored_label(*stored[d])
        return Check(
            f"{day_text(d)} 已录入为“{before}”。如需改为“{entry.label}”，"
            "请先在该年度的列表中删除原记录，再重新录入。"
        )
    if d.year in PACKAGE_YEARS and d not in stored:
        package_says = Calendar().describe(d)
        return Check(
            warning=f"{d.year}年的节假日已由{PACKAGE_NOTE}提供，软件包中 {day_text(d)} 为“{package_says}”；"
            f"保存后该日以您录入的“{entry.label}”为准。"
        )
    return Check()


def warnings_digest(warnings: list[str]) -> str:
    """What a confirmation box confirms: exactly these warnings. A changed paste that
    overrides other days must be confirmed again, not ride on an earlier tick."""
    return hashlib.sha256("\n".join(warnings).encode("utf-8")).hexdigest()[:16]


def _split_kind(text: str) -> tuple[Optional[bool], str, Optional[str]]:
    """(working, name, error) from the words after the date, as written in a State Council notice."""
    text = text.strip(_TRIM)
    if "上班" in text:
        name = text.replace("调休上班", "").replace("上班", "").replace("调休", "")
        return True, name.strip(_TRIM), None
    if "放假" in text or "休息" in text:
        name = text.replace("放假调休", "").replace("放假", "").replace("休息", "").replace("调休", "")
        return False, name.strip(_TRIM), None
    if "调休" in text:
        return None, "", "“调休”不明确：这一天上班请写“调休上班”，这一天休息请写节日名称（如“春节”）。"
    return False, text, None


@dataclass
class AddForm:
    """The one-day form: a date, rest day or make-up working day, and the holiday's name."""

    date: str = ""
    kind: str = "rest"  # "rest" (放假) or "work" (调休上班)
    name: str = ""
    confirm_override: str = ""  # the digest of the warnings the admin saw and confirmed
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    entry: Optional[Entry] = None

    @classmethod
    def from_request(cls, form) -> "AddForm":
        return cls(
            date=form.get("date", "").strip(),
            kind=form.get("kind", "rest"),
            name=form.get("name", "").strip(),
            confirm_override=form.get("confirm_override", "").strip(),
        )

    @property
    def digest(self) -> str:
        return warnings_digest(self.warnings)

    @property
    def needs_confirmation(self) -> bool:
        return not self.errors and bool(self.warnings) and self.confirm_override != self.digest

    def validate(self, stored: Mapping[date, tuple[bool, str]]) -> bool:
        d = clock.parse_date(self.date)
        if d is None:
            self.errors["date"] = "请按“2027-01-01”的格式填写一个存在的日期。"
        if self.kind not in ("rest", "work"):
            self.errors["kind"] = "请选择“放假”或“调休上班”。"
        if self.errors:
            return False
        entry = Entry(d, self.kind == "work", self.name)
        check = check_entry(entry, stored)
        if check.error:
            self.errors[check.field] = check.error
            return False
        if d in stored:
            self.errors["date"] = f"{day_text(d)} 已录入为“{entry.label}”，无需重复录入。"
            return False
        self.entry = entry
        if check.warning:
            self.warnings.append(check.warning)
        return not self.needs_confirmation


@dataclass
class BulkForm:
    """The pasted schedule: one day (or a range of rest days) per line, saved all or nothing."""

    text: str = ""
    confirm_override: str = ""  # the digest of the warnings the admin saw and confirmed
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    unchanged: int = 0

    @classmethod
    def from_request(cls, form) -> "BulkForm":
        return cls(text=form.get("text", ""), confirm_override=form.get("confirm_override", "").strip())

    @property
    def digest(self) -> str:
        return warnings_digest(self.warnings)

    @property
    def needs_confirmation(self) -> bool:
        return not self.errors and bool(self.warnings) and self.confirm_override != self.digest

    def validate(self, stored: Mapping[date, tuple[bool, str]]) -> bool:
        lines = self.text.splitlines()
        if len(lines) > BULK_LINE_LIMIT:
            self.errors.append(f"一次最多粘贴 {BULK_LINE_LIMIT} 行，请分几次提交。")
            return False
        seen: dict[date, int] = {}
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            problem = self._line(number, line, stored, seen)
            if problem:
                self.errors.append(f"第{number}行：{problem}")
        if not self.errors and not self.entries and not self.unchanged:
            self.errors.append("没有可保存的内容：请每行填写一个日期和说明，例如“2027-01-01 元旦”。")
        return not self.errors and not self.needs_confirmation

    def _line(self, number: int, line: str, stored, seen: dict[date, int]) -> Optional[str]:
        m = _LINE_RE.match(line)
        if not m:
            return f"“{line}”开头不是日期。每行格式为“2027-01-01 元旦”或“2027-02-06 调休上班”。"
        first = clock.date_of(m[1], m[2], m[3])
        if first is None:
            return f"日期 {m[1]}-{m[2]}-{m[3]} 不存在，请检查月份和日期。"
        last = first
        if m[4]:
            last = clock.date_of(m[4], m[5], m[6])
            if last is None:
                return f"日期 {m[4]}-{m[5]}-{m[6]} 不存在，请检查月份和日期。"
        working, name, problem = _split_kind(m[7])
        if problem:
            return problem
        if last < first:
            return "日期范围的结束日早于开始日。"
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            return f"日期范围超过 {MAX_RANGE_DAYS} 天，请检查是否输错。"
        if working and last != first:
            return "调休上班的日子请每天一行，不能写成日期范围。"
        d = first
        while d <= last:
            if d in seen:
                return f"{day_text(d)} 与第{seen[d]}行重复。"
            seen[d] = number
            entry = Entry(d, working, name)
            check = check_entry(entry, stored)
            if check.error:
                return check.error
            if d in stored:
                self.unchanged += 1  # pasting the same schedule twice changes nothing
            else:
                self.entries.append(entry)
                if check.warning:
                    self.warnings.append(f"第{number}行：{check.warning}")
            d += timedelta(days=1)
        return None


# --- years ------------------------------------------------------------------------


@dataclass(frozen=True)
class YearStatus:
    """Where a year's holidays come from, for the overview table."""

    year: int
    source: str  # "package", "admin", "partial", "missing"
    entries: int
    marked_by: Optional[str] = None
    marked_at: Optional[datetime] = None

    @property
    def known(self) -> bool:
        return self.source in ("package", "admin")

    @property
    def label(self) -> str:
        return {
            "package": "软件包已覆盖",
            "admin": "管理员已录入完整",
            "partial": "已录入部分，尚未标记完整",
            "missing": "尚未录入",
        }[self.source]

    @property
    def tag(self) -> str:
        return {"package": "tag-ok", "admin": "tag-ok", "partial": "tag-warn", "missing": "tag-bad"}[self.source]


def year_statuses(today: date, also: int | None = None) -> list[YearStatus]:
    """Last year to two years ahead, plus any year with entries (or asked for), oldest first."""
    counts = dict(
        db.session.execute(
            select(func.extract("year", Holiday.date), func.count()).group_by(func.extract("year", Holiday.date))
        ).all()
    )
    counts = {int(y): n for y, n in counts.items()}
    marks = {row.year: row for row in db.session.scalars(select(HolidayYear)).all()}
    years = set(range(today.year - 1, today.year + 3)) | set(counts) | set(marks)
    if also is not None:
        years.add(also)
    return [status_of(y, counts.get(y, 0), marks.get(y)) for y in sorted(years)]


def status_of(year: int, entries: int, mark: Optional[HolidayYear]) -> YearStatus:
    who = mark.marked_by.display_name if mark is not None and mark.marked_by is not None else None
    at = mark.marked_at if mark is not None else None
    if year in PACKAGE_YEARS:
        source = "package"
    elif mark is not None and mark.complete:
        source = "admin"
    elif entries:
        source = "partial"
    else:
        source = "missing"
    return YearStatus(year, source, entries, who, at)


def year_status(year: int) -> YearStatus:
    entries = db.session.scalar(select(func.count()).select_from(Holiday).where(_in_year(year))) or 0
    mark = db.session.scalar(select(HolidayYear).where(HolidayYear.year == year))
    return status_of(year, entries, mark)


def _in_year(year: int):
    # A range rather than extract(): it can use the unique index on date on every backend.
    return Holiday.date.between(date(year, 1, 1), date(year, 12, 31))


def entries_of(year: int) -> list[Holiday]:
    return list(db.session.scalars(select(Holiday).where(_in_year(year)).order_by(Holiday.date)).all())


def missing_holidays(entries: list[Holiday]) -> list[str]:
    """The statutory holidays no rest day of the year is named after."""
    names = [h.name for h in entries if not h.is_working_day]
    return [h for h in STATUTORY_HOLIDAYS if not any(_STEMS[h] in n for n in names)]


@dataclass(frozen=True)
class ScheduleRow:
    first: date
    last: date
    working: bool
    name: str
    entered: bool  # at least one day of it was entered by the administrator

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def year_schedule(cal: Calendar, year: int, entered: set[date]) -> list[ScheduleRow]:
    """The year's holidays and make-up days as in effect, runs of rest days joined, for checking against the notice."""
    rows: list[ScheduleRow] = []
    d, end = date(year, 1, 1), date(year, 12, 31)
    while d <= end:
        day = cal.is_working_day(d)
        weekend = d.weekday() >= 5
        special = (day.working and weekend) or (not day.working and (day.holiday_name or not weekend))
        if special:
            name = day.holiday_name or ""
            prev = rows[-1] if rows else None
            if (
                prev is not None
                and not day.working
                and not prev.working
                and prev.name == name
                and prev.last == d - timedelta(days=1)
            ):
                rows[-1] = ScheduleRow(prev.first, d, False, name, prev.entered or d in entered)
            else:
                rows.append(ScheduleRow(d, d, day.working, name, d in entered))
        d += timedelta(days=1)
    return rows


# --- changes (the caller's request commits them with its log entry) ----------------


def _now() -> datetime:
    return clock.now()


def add_entries(entries: list[Entry], user: User, how: str, overrides: list[str]) -> list[Holiday]:
    """Store new days and log them as one change."""
    rows = [
        Holiday(date=e.date, is_working_day=e.working, name=e.name, entered_by_id=user.id, entered_at=_now())
        for e in entries
    ]
    db.session.add_all(rows)
    db.session.flush()
    audit.record(
        "holiday_changed",
        objects={
            "change": how,
            "days": [[e.date.isoformat(), "work" if e.working else "rest", e.name] for e in entries],
            "package_overridden": bool(overrides),
        },
    )
    _forget_calendar()
    return rows


def remove_entry(holiday: Holiday) -> Optional[int]:
    """Delete one day; a completed year left with no days at all is no longer complete. Returns that year, if so."""
    year = holiday.date.year
    snapshot = [holiday.date.isoformat(), "work" if holiday.is_working_day else "rest", holiday.name]
    db.session.delete(holiday)
    db.session.flush()
    reopened = None
    mark = db.session.scalar(select(HolidayYear).where(HolidayYear.year == year))
    left = db.session.scalar(select(func.count()).select_from(Holiday).where(_in_year(year)))
    if mark is not None and mark.complete and not left:
        mark.complete, mark.marked_by_id, mark.marked_at = False, None, None
        reopened = year
    audit.record(
        "holiday_changed",
        objects={"change": "removed", "days": [snapshot], "year_reopened": reopened is not None},
    )
    _forget_calendar()
    return reopened


def mark_problem(year: int, complete: bool, confirm_missing: bool) -> Optional[str]:
    """Why the year cannot be marked (or unmarked) as asked, or None."""
    if year in PACKAGE_YEARS:
        return f"{year}年的节假日已由{PACKAGE_NOTE}提供，无需标记。如需更正个别日期，直接录入即可。"
    status = year_status(year)
    if not complete:
        return None if status.source == "admin" else f"{year}年尚未标记为录入完整。"
    if status.source == "admin":
        return f"{year}年已标记为录入完整。"
    if not status.entries:
        return (
            f"{year}年还没有录入任何日期，不能标记为录入完整。"
            f"请先按国务院办公厅关于{year}年部分节假日安排的通知录入放假和调休上班的日期。"
        )
    missing = missing_holidays(entries_of(year))
    if missing and not confirm_missing:
        return (
            f"{year}年还没有录入以下节日的放假日期：{'、'.join(missing)}。"
            "请核对国务院通知后补录；如确认通知中没有这些节日的安排，请勾选“确认无误”后再标记。"
        )
    return None


def set_year_complete(year: int, complete: bool, user: User) -> None:
    mark = db.session.scalar(select(HolidayYear).where(HolidayYear.year == year))
    if mark is None:
        mark = HolidayYear(year=year, complete=False)
        db.session.add(mark)
    mark.complete = complete
    mark.marked_by_id = user.id if complete else None
    mark.marked_at = _now() if complete else None
    db.session.flush()
    audit.record(
        "holiday_changed",
        objects={"change": "year_complete" if complete else "year_reopened", "year": year},
    )
    _forget_calendar()

