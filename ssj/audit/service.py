"""Writing and checkpointing the access log (SPEC §5; Art 9 全程留痕, Art 14, 17, 18).

Entries join the caller's database transaction: the data change and the
entry that records it commit together or not at all (fail closed). Appends
are serialised by updating the single head row first: on PostgreSQL that
takes a row lock, on SQLite the database write lock, so concurrent worker
processes queue instead of forking the chain.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from typing import Any, Optional

from flask import current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import bindparam, event, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import clock
from .. import suites
from ..extensions import db
from ..models import AccessLogEntry, AuditChainHead, AuditCheckpoint
from . import chain


class AuditWriteError(RuntimeError):
    """The entry could not be written; whatever it recorded must not happen."""


def keyring():
    return current_app.extensions["ssj.keys"]()


def sealed_ref(value: str, *, task_id: Optional[int]) -> str:
    """The log's reference to an enterprise: HMAC-SHA256(log key, task_id + "|" + credit code).

    The log records *that* an enterprise was looked at without naming it.
    Bound to the task, the same enterprise gets unrelated references in
    different tasks, so a task made public (whose bundle names its units)
    unmasks no entry of another, still sealed task (SPEC §5). An entry about
    no task (a directory page) uses an empty task part, "|" + code, which is
    unrelated to every task's reference and to the old form below. The
    discipline office finds an enterprise by computing the same values, for
    the tasks it may search (`oversight.console`).
    """
    part = "" if task_id is None else str(int(task_id))
    return _hmac(f"{part}|{value}")


def legacy_ref(value: str) -> str:
    """HMAC-SHA256(log key, credit code): the form written before references were per task.

    Entries already in the chain keep it (rewriting them would break the
    chain); the console still searches it, only for tasks it may search.
    """
    return _hmac(value)


def _hmac(text: str) -> str:
    keys = keyring()
    if keys.crypto_suite == "intl":
        return hmac.new(keys.reference_key, text.encode("utf-8"), hashlib.sha256).hexdigest()
    return suites.mac_hex(keys.crypto_suite, keys.reference_key, text.encode("utf-8"))  # HMAC-SM3


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ensure_head() -> None:
    """Create the head row of an empty log (idempotent; used by init)."""
    if db.session.get(AuditChainHead, 1) is None:
        db.session.add(AuditChainHead(id=1, seq=0, head_hash=chain.GENESIS))
        db.session.flush()


# Built once and run as plain Core statements: every request runs them while
# holding the chain lock, so their cost is paid by every waiting worker too.
_head = AuditChainHead.__table__
_TAKE_NEXT = (
    update(_head).where(_head.c.id == 1).values(seq=_head.c.seq + 1).returning(_head.c.seq, _head.c.head_hash)
)
_SET_HEAD = update(_head).where(_head.c.id == 1).values(head_hash=bindparam("digest"))


def _actor(user) -> dict[str, Any]:
    if user is None or not getattr(user, "is_authenticated", False):
        return {"user_id": None, "username": None, "roles": [], "department": None, "section": None}
    return {
        "user_id": user.id,
        "username": user.username,
        "roles": sorted(user.roles),
        "department": user.department.code if user.department else None,
        "section": user.section.code if user.section else None,
    }


# Sealed reads of a page being read (GET): their entries, fixed when the read is made,
# waiting for their place in the chain until the request's transaction commits.
_PENDING = "_ssj_pending_entries"
READ_METHODS = ("GET", "HEAD")


def record_read(action: str, *, task_id: Optional[int], objects: dict[str, Any]) -> None:
    """Log a read of sealed content in this transaction: at once, or at its commit (a page read).

    On a page read (GET) the entry says everything now — who, what, which
    enterprises by reference — and is appended to the chain when the
    request's transaction commits (`write_pending`, from the session's
    before-commit hook), before the response leaves the server: the commit
    that carries it is the one `audit.hooks` makes, and if the entry cannot
    be written the page is replaced by an error page, as before. Taking the
    chain head only then, instead of at the first read, keeps it (the
    SQLite write lock, the PostgreSQL row lock) for the length of one
    append rather than for the rest of the page, so concurrent pages of
    every worker no longer queue behind a page being rendered. A change
    (POST) appends at once, as every other entry does.
    """
    if not has_request_context() or request.method not in READ_METHODS:
        record(action, task_id=task_id, objects=objects)
        return
    # Who read is fixed now (the user object, not the request's proxy to it).
    user = current_user._get_current_object() if current_user.is_authenticated else None
    _actor(user)
    g.setdefault(_PENDING, []).append((action, task_id, objects, user))
    g.audit_entries = g.get("audit_entries", 0) + 1


def write_pending() -> None:
    """Append the request's waiting read entries to the chain, in the order the reads were made."""
    if not has_request_context():
        return
    pending = g.pop(_PENDING, None)
    for action, task_id, objects, user in pending or ():
        g.audit_entries = g.get("audit_entries", 1) - 1  # counted once already, by record_read
        record(action, task_id=task_id, objects=objects, user=user)


@event.listens_for(Session, "before_commit")
def _append_pending_reads(session: Session) -> None:
    # Whoever commits the request's transaction (audit.hooks, or a view of its own)
    # commits its waiting read entries with it.
    if has_request_context() and g.get(_PENDING) and session is db.session():
        write_pending()


def record(
    action: str,
    *,
    outcome: str = "ok",
    reason: Optional[str] = None,
    objects: Optional[dict[str, Any]] = None,
    task_id: Optional[int] = None,
    user=None,
    username: Optional[str] = None,
) -> AccessLogEntry:
    """Append one entry to the chain inside the current transaction."""
    if has_request_context() and g.get(_PENDING):
        write_pending()  # reads made earlier in the request keep their place before this entry
    try:
        if user is None and has_request_context():
            user = current_user if current_user.is_authenticated else None
        actor = _actor(user)
        if actor["username"] is None and username is not None:
            actor["username"] = username  # e.g. a failed login names who was tried
        row = db.session.execute(_TAKE_NEXT).one_or_none()
        if row is None:
            raise AuditWriteError("access log has no head row: run `flask --app app init`")
        seq, prev_hash = row
        at = clock.now()
        body = {
            "seq": seq,
            "at": _iso(at),
            **actor,
            "client": request.remote_addr if has_request_context() else "cli",
            "action": action,
            "objects": objects or {},
            "outcome": outcome,
            "reason": reason,
            "task_id": task_id,
        }
        canonical = chain.canonical_json(body)
        keys = keyring()
        digest = chain.entry_hash(prev_hash, canonical, keys.crypto_suite)
        entry = AccessLogEntry(
            seq=seq,
            at=at,
            user_id=actor["user_id"],
            username=actor["username"],
            action=action,
            outcome=outcome,
            task_id=task_id,
            department=actor["department"],
            body=canonical,
            prev_hash=prev_hash,
            entry_hash=digest,
            entry_mac=chain.entry_mac(keys.entry_mac_key, digest, keys.crypto_suite),
        )
        db.session.add(entry)
        db.session.execute(_SET_HEAD, {"digest": digest})
        interval = current_app.config["AUDIT_CHECKPOINT_INTERVAL"]
        if interval and seq % interval == 0:
            _sign_checkpoint(seq, digest)
        db.session.flush()
    except (AuditWriteError, StaleDataError):
        # StaleDataError: taking the chain's head autoflushes the caller's pending UPDATE of a
        # versioned row that someone else changed meanwhile; that is the caller's refused save
        # (ssj.concurrency), not a log that cannot be written.
        raise
    except Exception as exc:  # any failure means the caller must not proceed
        raise AuditWriteError(str(exc)) from exc
    if has_request_context():
        g.audit_entries = g.get("audit_entries", 0) + 1
    return entry


def discard_uncommitted() -> None:
    """Roll back what the request has not committed, its log entries with it.

    The after_request hook writes a generic entry only for a request that
    wrote none; entries rolled back are no longer written, so the count goes too.
    """
    db.session.rollback()
    if has_request_context():
        g.pop("audit_entries", None)
        g.pop(_PENDING, None)


def _sign_checkpoint(seq: int, head_hash: str) -> AuditCheckpoint:
    keys = keyring()
    # One instant for the column and the signed text, so they never disagree.
    now = clock.now()
    statement = chain.checkpoint_statement(seq, head_hash, _iso(now))
    signature = keys.signing_key.sign(statement.encode("utf-8")).hex()
    cp = AuditCheckpoint(
        seq=seq,
        head_hash=head_hash,
        signed_at=now,
        statement=statement,
        signature=signature,
        key_id=keys.signing_key_id,
    )
    db.session.add(cp)
    return cp


def checkpoint() -> AuditCheckpoint:
    """Sign the current head now (CLI, console). Takes the chain lock like an append."""
    row = db.session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(seq=AuditChainHead.seq)
        .returning(AuditChainHead.seq, AuditChainHead.head_hash)
    ).one_or_none()
    if row is None:
        raise AuditWriteError("access log has no head row: run `flask --app app init`")
    cp = _sign_checkpoint(row.seq, row.head_hash)
    db.session.flush()
    return cp


def _iso_utc(at: datetime) -> str:
    # `at` comes back from UTCDateTime already in UTC: isoformat (C) spells it
    # like _iso, several times faster than strftime over a million entries.
    return at.isoformat(timespec="microseconds")[:-6] + "Z"


def stored_entries(batch: int = 5000):
    """Every stored entry in chain order, streamed so a long log fits in memory.

    Read on the Core connection (no ORM row loading) in batches of `batch`
    rows: a verify walk over a million entries spends its time here.
    """
    rows = db.session.connection().execution_options(stream_results=True, yield_per=batch).execute(
        select(
            AccessLogEntry.id,
            AccessLogEntry.seq,
            AccessLogEntry.body,
            AccessLogEntry.prev_hash,
            AccessLogEntry.entry_hash,
            AccessLogEntry.entry_mac,
            AccessLogEntry.at,
            AccessLogEntry.user_id,
            AccessLogEntry.username,
            AccessLogEntry.action,
            AccessLogEntry.outcome,
            AccessLogEntry.task_id,
            AccessLogEntry.department,
        )
        .order_by(AccessLogEntry.seq, AccessLogEntry.id)
    )
    entry = chain.StoredEntry
    for row_id, seq, body, prev, digest, mac, at, user_id, username, action, outcome, task_id, department in rows:
        # The searchable columns, spelled as in the body: the console finds
        # entries by them, so an edit there must show up as tampering too.
        copies = {
            "at": _iso_utc(at) if at is not None else None,
            "user_id": user_id,
            "username": username,
            "action": action,
            "outcome": outcome,
            "task_id": task_id,
            "department": department,
        }
        yield entry(row_id, seq, body, prev, digest, mac, copies)


def head_row() -> Optional[tuple[int, str]]:
    """(seq, head hash) of the head row, or None if it is gone."""
    row = db.session.execute(
        select(AuditChainHead.seq, AuditChainHead.head_hash).where(AuditChainHead.id == 1)
    ).one_or_none()
    return None if row is None else (row.seq, row.head_hash)
