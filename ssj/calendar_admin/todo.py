"""The administrator's 待办 for the working-day calendar (SPEC §7, §9; Art 9's 5 working days).

The State Council publishes the next year's holidays late in the year, and
`chinese-calendar` stops at its last release; from 1 December the administrator
is asked to enter next year's schedule, so report deadlines counted across New
Year are right (a year without data gives a visible warning, never a guess).
"""
from __future__ import annotations

from datetime import date

from flask import url_for

from ..auth.roles import ADMIN
from ..todo import TodoItem, provider
from .service import current_calendar

ASK_FROM = (12, 1)  # month, day: when next year's holidays are asked for


@provider
def holidays_to_enter(user, today: date) -> list[TodoItem]:
    """This year's holidays if missing; next year's from 1 December until entered and marked complete."""
    if not user.has_role(ADMIN):
        return []
    cal = current_calendar()
    years = [today.year] if not cal.is_year_known(today.year) else []
    if (today.month, today.day) >= ASK_FROM and not cal.is_year_known(today.year + 1):
        years.append(today.year + 1)
    return [
        TodoItem(
            f"录入{year}年法定节假日和调休",
            f"{year}年的节假日安排还没有录全，跨年的报告期限将按普通周末计算并显示警告。"
            "国务院办公厅公布后，请按通知录入放假日和调休上班日，并标记“已录全”。",
            url_for("holidays.holidays", year=year),
            due=date(year, 1, 1) if year > today.year else None,
            article="细则第九条",
        )
        for year in years
    ]
