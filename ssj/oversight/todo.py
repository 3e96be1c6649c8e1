"""The discipline office's items on the to-do page (SPEC §9; §5; Art 9, 17, 18).

Two routines keep the log useful as evidence: a signed checkpoint kept
outside the system every month (a rewrite after the last one kept cannot
be proved), and a regular look at the flags. Both are read from the log
itself — when the office last downloaded checkpoints and last opened the
flags — so the reminder needs no state of its own.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Optional

from flask import url_for
from sqlalchemy import func, select

from .. import clock
from ..auth.roles import DISCIPLINE
from ..extensions import db
from ..todo import TodoItem, provider
from ..models import AccessLogEntry

EXPORT_EVERY = timedelta(days=30)
REVIEW_EVERY = timedelta(days=7)


def _last(action: str) -> Optional[date]:
    """The local date the office last did this (any member of it), from the log."""
    at = db.session.scalar(select(func.max(AccessLogEntry.at)).where(AccessLogEntry.action == action))
    if at is None:
        return None
    return clock.local_date(at)


@provider
def keep_checkpoints(user, today: date) -> list[TodoItem]:
    if not user.has_role(DISCIPLINE):
        return []
    last = _last("oversight_checkpoints_exported")
    if last is not None and today < last + EXPORT_EVERY - timedelta(days=7):
        return []
    detail = (
        "还没有下载过访问日志检查点。" if last is None else f"上次下载检查点是 {last.isoformat()}。"
    ) + "请签名检查点、下载文件保存在系统之外并打印签字：日后凭它证明日志没有被改写或截断。"
    return [TodoItem(
        "留存访问日志检查点", detail, url_for("oversight.verify"),
        due=None if last is None else last + EXPORT_EVERY, article="细则第九条、第十四条",
    )]


@provider
def review_flags(user, today: date) -> list[TodoItem]:
    if not user.has_role(DISCIPLINE):
        return []
    last = _last("oversight_flags_viewed")
    if last is not None and today < last + REVIEW_EVERY:
        return []
    return [TodoItem(
        "查看异常提示",
        ("还没有查看过异常提示。" if last is None else f"上次查看异常提示是 {last.isoformat()}。")
        + "越权查看、反复被拒绝、批量导出、非工作时间访问、重新抽取和管理员变更角色等情况，每周至少核查一次。",
        url_for("oversight.flags"),
        due=None if last is None else last + REVIEW_EVERY, article="细则第十七条、第十八条",
    )]
