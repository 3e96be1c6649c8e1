"""The 抽取记录 (draw record) and the helpers every ceremony template uses (Art 9 全程留痕).

The record is rendered by its page (routes.record) and by the archive export
job (publication.exports), which runs in the background: both come here, so
no job reaches into the ceremony's routes (issue #15).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import render_template

from . import service
from .forms import DIGITS_LIMIT, NAME_LIMIT, REASON_LIMIT


def group_hex(value: str | None, size: int = 8) -> str:
    """A long hash in groups of eight, so people can read it aloud and compare it with the print."""
    if not value:
        return ""
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


def template_helpers() -> dict[str, Any]:
    """What the ceremony templates use besides their own context (the blueprint's context processor)."""
    return {
        "STEPS": service.STEPS,
        "group_hex": group_hex,
        "MIN_DIGITS": 20,
        "LIMITS": {"username": NAME_LIMIT, "digits": DIGITS_LIMIT, "reason": REASON_LIMIT},
    }


def render_record(task, printed_by, printed_at: datetime) -> str:
    """The draw record of a task: every attempt's public facts on A4, without the selected names."""
    return render_template(
        "ceremony/record.html",
        task=task,
        attempts=service.attempts_view(task),
        printed_by=printed_by,
        printed_at=printed_at,
        **template_helpers(),
    )
