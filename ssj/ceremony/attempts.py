"""What every step shares: the ceremony's error, the commitment text, the attempts of a task
and the conditional UPDATE that moves one on (SPEC §3; Art 5, 9).

Part of the ceremony's service (see ceremony/service.py); split out of it along its sections (issue #15).
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select, update

from ..draws import algorithm as alg
from ..extensions import db
from ..models import DrawAttempt, Task
from .. import clock

# Tasks whose settings the ceremony has frozen and whose draw may be redone
# with approval; once inspection starts (later statuses) a redraw is refused.
REDRAWABLE = ("drawing", "sealed")
_CREDIT_CODE_LIKE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}", re.IGNORECASE)
_CHUNK = 500  # ids per IN (...) list: well inside every backend's parameter limit


class CeremonyError(ValueError):
    """A step cannot be taken now; str() is a Chinese sentence saying what to do instead.

    `status` is the HTTP status the page is returned with: 409 when the
    ceremony is not at this step, 422 when what was typed must be fixed.
    """

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def _now() -> datetime:
    return clock.now()


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 characters as themselves: the text the commitment hashes."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def result_commitment(nonce_hex: str, result: dict) -> str:
    """SHA-256 of nonce_hex + "|" + canonical JSON of the sealed result.

    Public from the moment of the draw; with the nonce secret, nobody can
    test guesses of the result against it. At publication the nonce is
    revealed and anyone can check that the published result is the one
    sealed at the ceremony.
    """
    return alg.sha256_hex(nonce_hex + "|" + canonical_json(result))


def _chunks(items: list, size: int = _CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- attempts -------------------------------------------------------------------


def attempts_view(task: Task) -> list[dict[str, Any]]:
    """Each attempt with its summary and sample counts, as the ceremony record shows them (page and archive)."""
    return [
        {
            "attempt": a,
            "summary": summary(a),
            "samples": json.loads(a.sample_summary_json) if a.sample_summary_json else None,
        }
        for a in attempts_of(task)
    ]


def attempts_of(task: Task) -> list[DrawAttempt]:
    return list(
        db.session.execute(
            select(DrawAttempt).where(DrawAttempt.task_id == task.id).order_by(DrawAttempt.number)
        ).scalars()
    )


def current_attempt(task: Task) -> Optional[DrawAttempt]:
    """The attempt that is not void, if any (there is at most one)."""
    live = [a for a in attempts_of(task) if a.state != "void"]
    return live[-1] if live else None


def sealed_attempt(task: Task) -> Optional[DrawAttempt]:
    a = current_attempt(task)
    return a if a is not None and a.state == "sealed" else None


def summary(attempt: DrawAttempt) -> dict:
    return json.loads(attempt.pool_summary_json)


def _claim(attempt: DrawAttempt, expect_state: str, **values) -> None:
    """Move the attempt on only if it is still where this request found it.

    The UPDATE's WHERE is the guard: a second request (double click, another
    worker) matches no row and is refused, on SQLite and PostgreSQL alike.
    """
    conditions = [DrawAttempt.id == attempt.id, DrawAttempt.state == expect_state]
    if "entropy" in values:
        conditions.append(DrawAttempt.entropy.is_(None))
    done = db.session.execute(
        update(DrawAttempt).where(*conditions).values(**values).execution_options(synchronize_session="fetch")
    ).rowcount
    if done != 1:
        db.session.refresh(attempt)
        raise CeremonyError("这一步刚刚已经由他人完成，请刷新页面查看最新进度。")
    db.session.refresh(attempt)


def _ref(task: Task, attempt: DrawAttempt) -> dict[str, Any]:
    return {"task": task.id, "attempt": attempt.number}


def _refuse_if_pending(attempt: DrawAttempt) -> None:
    if attempt.redraw_pending:
        raise CeremonyError("本次抽取已申请作废并重新抽取，正在等待局领导审批，审批前不能继续操作。")
