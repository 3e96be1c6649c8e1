"""Optimistic concurrency: when two people edit one object, the second save is refused, never lost.

Every object two people may edit carries `row_version` (the `Versioned` mixin).
SQLAlchemy writes it as `version_id_col`: each UPDATE of the row says
`... WHERE id = :id AND row_version = :loaded` and sets it one higher, so a
row changed by someone else since it was loaded is not overwritten: the
UPDATE matches no row and the flush fails (StaleDataError), on SQLite and
PostgreSQL alike, however close together the two requests arrive.

The edit form carries the version it was loaded at (`row_version` field).
`check` compares it with the row before anything is written; when it
matches, the UPDATE's own WHERE catches a save that lands between this
request's read and its write. Either way the view gets `StaleEdit`, answers
409, shows what is saved now beside what the person typed, and keeps their
input on the page. Nothing of the refused save is written; a refusal entry
names the reason `stale_version` in the access log.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Optional

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db

FIELD = "row_version"
STALE_REASON = "stale_version"


class Versioned:
    """Mixin: a row whose every UPDATE checks and bumps `row_version` in the same statement."""

    # A server default so that Core inserts (imports) need not know the column.
    row_version: Mapped[int] = mapped_column(server_default=text("1"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.row_version}


class StaleEdit(Exception):
    """Someone else saved the object after this person's form was loaded; nothing was written."""

    def __init__(self, message: str = "", current: Optional[int] = None) -> None:
        super().__init__(message or "您打开表单之后，别人已经保存了修改。您的修改没有保存。")
        self.current = current


def submitted_version(form) -> Optional[int]:
    """The version the person's form was loaded at; None for a form of something not yet saved."""
    raw = (form.get(FIELD) or "").strip()
    try:
        return int(raw) if raw else None
    except ValueError:
        return -1  # never matches: a mangled field is treated as stale, not as "no version"


def check(row: Optional[Versioned], submitted: Optional[int]) -> None:
    """Refuse when the form was loaded at another version than the row has now.

    A row that exists while the form was of a new object (None) is stale too:
    two people's first saves of one record."""
    current = None if row is None else row.row_version
    if current != submitted:
        raise StaleEdit(current=current)


def flush() -> None:
    """Flush the request's changes; a version or uniqueness clash with another save is a StaleEdit.

    The caller must not go on using the session: the view rolls it back (`discard_uncommitted`)."""
    with guarded():
        db.session.flush()


@contextmanager
def guarded() -> Iterator[None]:
    """Around a service call that flushes (autoflush included): a row changed by someone else since it
    was loaded, or a unique key (task + position) taken by another person's first save, is a StaleEdit."""
    try:
        yield
    except StaleDataError as exc:
        raise StaleEdit() from exc
    except IntegrityError as exc:
        raise StaleEdit() from exc


def differences(labels: dict[str, str], saved: dict[str, Any], typed: dict[str, Any]) -> list[dict[str, str]]:
    """[{label, saved, typed}] for each field where what is saved now differs from what the person typed."""
    out = []
    for name, label in labels.items():
        a, b = _shown(saved.get(name)), _shown(typed.get(name))
        if a != b:
            out.append({"label": label, "saved": a, "typed": b})
    return out


def stale_box(labels: dict[str, str], saved: dict[str, Any], typed: dict[str, Any], *, by: Optional[str] = None,
              at: Optional[str] = None, state: Optional[str] = None, typed_heading: Optional[str] = None) -> dict:
    """What the stale-save box (templates/_stale_changes.html) shows after a refused save: who saved
    last and when, and each field where what is saved now differs from what the person typed.

    `saved` must come from the same logged read the page itself makes of sealed content: the box
    shows nothing the page would not. `typed_heading` names the person's column where they typed
    nothing but confirmed what they saw (a withdrawal)."""
    return {"by": by, "at": at, "state": state, "typed_heading": typed_heading,
            "changes": differences(labels, saved, typed)}


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)) and not isinstance(value, str):
        return "；".join(str(v) for v in value)
    return str(value)


def claim(row, submitted: Optional[int], *still) -> None:
    """For rows that other services also change (a task's or plan's status): the edit form's save
    takes the row with `UPDATE ... SET row_version = row_version + 1 WHERE id = :id AND
    row_version = :submitted`. No match: someone saved in between (StaleEdit). A match holds the
    row (PostgreSQL row lock, SQLite write lock) until this request commits its own changes.
    `still`: conditions the row must still meet (a task still planned: a draw that froze it since
    does not bump the version, but must refuse the edit all the same)."""
    table = type(row).__table__
    result = db.session.execute(
        table.update()
        .where(table.c.id == row.id, table.c.row_version == submitted, *still)
        .values(row_version=table.c.row_version + 1)
    )
    if result.rowcount != 1:
        raise StaleEdit(current=row.row_version)
    set_committed_value(row, FIELD, submitted + 1)
