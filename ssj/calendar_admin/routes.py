"""Pages for entering holidays (admin) and counting working days (everyone signed in); SPEC §7, Art 9.

Routes stay thin: parse into a form from `service`, validate against what
is stored, change through `service` (which writes the "holiday_changed"
log entry), redirect. A rejected form comes back on the same page with
every value as typed and a status of 422; a form that would override the
package's data comes back once with the warning and a box to confirm.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Optional

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from .. import clock
from ..auth.roles import ADMIN
from ..listing import wants_fragment
from ..security import access
from . import bp, service
from .policy import get_holiday
from .service import YEAR_MAX, YEAR_MIN, AddForm, BulkForm, current_calendar

MAX_CALCULATOR_DAYS = 120



def _year_arg(raw: Optional[str]) -> Optional[int]:
    raw = (raw or "").strip()
    if raw.isdigit() and YEAR_MIN <= int(raw) <= YEAR_MAX:
        return int(raw)
    return None


def _default_year(statuses, today: date) -> int:
    # The admin comes here to fill a gap: open the first year from now on that lacks data.
    for s in statuses:
        if s.year >= today.year and not s.known:
            return s.year
    return today.year + 1


def _page(year: Optional[int], add: Optional[AddForm] = None, bulk: Optional[BulkForm] = None,
          mark_error: Optional[str] = None, status: int = 200):
    today = clock.today()
    statuses = service.year_statuses(today, also=year)
    if year is None:
        year = _default_year(statuses, today)
    cal = current_calendar()
    entries = service.entries_of(year)
    return render_template(
        "holidays/holidays.html",
        today=today,
        year=year,
        statuses=statuses,
        status=next(s for s in statuses if s.year == year),
        entries=entries,
        missing=service.missing_holidays(entries),
        schedule=service.year_schedule(cal, year, {h.date for h in entries}),
        year_warning=cal.warning_for(year),
        add=add or AddForm(),
        bulk=bulk or BulkForm(),
        mark_error=mark_error,
        holiday_names=service.STATUTORY_HOLIDAYS,
        package_note=service.PACKAGE_NOTE,
        package_years=service.PACKAGE_YEARS,
        bulk_limit=service.BULK_LINE_LIMIT,
    ), status


def _to_year(year: int, anchor: str = "entries"):
    return redirect(url_for("holidays.holidays", year=year, _anchor=anchor))


@bp.route("/admin/holidays")
@access.roles(ADMIN)
def holidays():
    """节假日管理: where each year's holidays come from, a year's entered days, and the forms to change them."""
    return _page(_year_arg(request.args.get("year")))


@bp.route("/admin/holidays/add", methods=["POST"])
@access.roles(ADMIN)
def add():
    """Enter one rest day or make-up working day."""
    form = AddForm.from_request(request.form)
    year = _year_arg(request.form.get("year"))
    if not form.validate(service.stored_entries()):
        if form.entry is not None:
            year = form.entry.date.year
        return _page(year, add=form, status=422 if form.errors else 200)
    entry = form.entry
    service.add_entries([entry], current_user, "added", form.warnings)
    flash(f"已录入：{service.day_text(entry.date)} {entry.label}。", "success")
    if form.warnings:
        flash(f"{service.day_text(entry.date)} 的软件包数据已被覆盖。", "warning")
    return _to_year(entry.date.year)


@bp.route("/admin/holidays/bulk", methods=["POST"])
@access.roles(ADMIN)
def bulk():
    """Enter a pasted schedule, one day per line; nothing is saved unless every line is right."""
    form = BulkForm.from_request(request.form)
    year = _year_arg(request.form.get("year"))
    if not form.validate(service.stored_entries()):
        return _page(year, bulk=form, status=422 if form.errors else 200)
    if not form.entries:
        flash(f"粘贴的 {form.unchanged} 天都已录入过，内容相同，没有改动。", "info")
        return _to_year(year or clock.today().year)
    service.add_entries(form.entries, current_user, "bulk_added", form.warnings)
    years = sorted({e.date.year for e in form.entries})
    note = f"另有 {form.unchanged} 天已录入过，内容相同，未改动。" if form.unchanged else ""
    flash(f"已录入 {len(form.entries)} 天（{'、'.join(f'{y}年' for y in years)}）。{note}", "success")
    if form.warnings:
        flash(f"其中 {len(form.warnings)} 行覆盖了软件包数据。", "warning")
    return _to_year(years[0])


@bp.route("/admin/holidays/<int:holiday_id>/remove", methods=["POST"])
@access.roles(ADMIN)
@access.load(holiday_id=get_holiday)
def remove(holiday):
    """Delete one entered day (the package's data, if any, applies to it again)."""
    day, label, year = holiday.date, service.stored_label(holiday.is_working_day, holiday.name), holiday.date.year
    reopened = service.remove_entry(holiday)
    flash(f"已删除：{service.day_text(day)} {label}。", "success")
    if reopened:
        flash(f"{reopened}年已没有任何录入的日期，已取消“录入完整”标记。", "warning")
    return _to_year(year)


@bp.route("/admin/holidays/years/<int:year>", methods=["POST"])
@access.roles(ADMIN)
def mark_year(year: int):
    """Mark a year's schedule complete (its dates then count as known), or take the mark back."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        abort(404)
    complete = request.form.get("complete") == "1"
    problem = service.mark_problem(year, complete, request.form.get("confirm_missing") == "1")
    if problem:
        return _page(year, mark_error=problem, status=422)
    service.set_year_complete(year, complete, current_user)
    if complete:
        flash(f"已将{year}年标记为录入完整：该年的期限计算不再显示“节假日未录入”的提示。", "success")
    else:
        flash(f"已取消{year}年的“录入完整”标记：涉及该年的期限计算将重新显示提示。", "warning")
    return _to_year(year, "year-status")


@bp.route("/workdays")
@access.signed_in
def workdays():
    """工作日计算: the date a number of working days after a start date, with each day counted and any warning."""
    today = clock.today()
    raw_start = request.args.get("start", "").strip() or today.isoformat()
    raw_days = request.args.get("days", "").strip() or "5"
    errors: dict[str, str] = {}
    start = clock.parse_date(raw_start)
    if start is None:
        errors["start"] = "请按“2027-01-01”的格式填写一个存在的日期。"
    elif not YEAR_MIN <= start.year <= YEAR_MAX - 1:
        errors["start"] = f"起算日期的年份应在 {YEAR_MIN}–{YEAR_MAX - 1} 之间。"
    if not raw_days.isdigit() or int(raw_days) > MAX_CALCULATOR_DAYS:
        errors["days"] = f"请填写 0–{MAX_CALCULATOR_DAYS} 之间的整数。"
    result = days = None
    if not errors:
        cal = current_calendar()
        due = cal.add_working_days(start, int(raw_days))
        days, counted = [], 0
        for i in range(1, (due.due - start).days + 1):
            day = cal.is_working_day(start + timedelta(days=i))
            counted += day.working
            days.append((day, counted if day.working else None))
        result = dict(due=due, days=days, countdown=cal.working_days_left(today, due.due))
    context = dict(today=today, start=raw_start, days=raw_days, errors=errors, result=result,
                   max_days=MAX_CALCULATOR_DAYS)
    template = "holidays/_workdays_result.html" if wants_fragment() else "holidays/workdays.html"
    response = make_response(render_template(template, **context), 422 if errors else 200)
    response.headers["Vary"] = "HX-Request"
    return response
