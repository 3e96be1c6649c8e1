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
import itertools
import multiprocessing
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, Optional

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
# Takes the next `count` sequence numbers: returns the last of them and the hash before the first.
_TAKE_NEXT = (
    update(_head).where(_head.c.id == 1).values(seq=_head.c.seq + bindparam("count"))
    .returning(_head.c.seq, _head.c.head_hash)
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
    """Append the request's waiting read entries to the chain, in the order the reads were made.

    All at once: one move of the head, one insert of the rows (a record page
    logs the record and its evidence list: two entries, one append).
    """
    if not has_request_context():
        return
    pending = g.pop(_PENDING, None)
    if pending:
        g.audit_entries = g.get("audit_entries", len(pending)) - len(pending)  # counted once already, by record_read
        _append([_Entry(action, objects=objects, task_id=task_id, user=user) for action, task_id, objects, user in pending])


@event.listens_for(Session, "before_commit")
def _append_pending_reads(session: Session) -> None:
    # Whoever commits the request's transaction (audit.hooks, or a view of its own)
    # commits its waiting read entries with it.
    if has_request_context() and g.get(_PENDING) and session is db.session():
        write_pending()


@dataclass
class _Entry:
    action: str
    outcome: str = "ok"
    reason: Optional[str] = None
    objects: Optional[dict[str, Any]] = None
    task_id: Optional[int] = None
    user: Any = None
    username: Optional[str] = None


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
    return _append([_Entry(action, outcome, reason, objects, task_id, user, username)])[0]


def _append(entries: list[_Entry]) -> list[AccessLogEntry]:
    """Chain `entries` after the head, in order, inside the current transaction."""
    try:
        # Who acted, before the head is taken: naming them may load their department and
        # section, which must not happen while every other worker waits for the chain.
        actors = []
        for e in entries:
            user = e.user
            if user is None and has_request_context():
                user = current_user if current_user.is_authenticated else None
            actor = _actor(user)
            if actor["username"] is None and e.username is not None:
                actor["username"] = e.username  # e.g. a failed login names who was tried
            actors.append(actor)
        row = db.session.execute(_TAKE_NEXT, {"count": len(entries)}).one_or_none()
        if row is None:
            raise AuditWriteError("access log has no head row: run `flask --app app init`")
        last_seq, prev_hash = row
        keys = keyring()
        interval = current_app.config["AUDIT_CHECKPOINT_INTERVAL"]
        client = request.remote_addr if has_request_context() else "cli"
        rows = []
        for seq, e, actor in zip(range(last_seq - len(entries) + 1, last_seq + 1), entries, actors):
            at = clock.now()
            body = {
                "seq": seq,
                "at": _iso(at),
                **actor,
                "client": client,
                "action": e.action,
                "objects": e.objects or {},
                "outcome": e.outcome,
                "reason": e.reason,
                "task_id": e.task_id,
            }
            canonical = chain.canonical_json(body)
            digest = chain.entry_hash(prev_hash, canonical, keys.crypto_suite)
            rows.append(AccessLogEntry(
                seq=seq,
                at=at,
                user_id=actor["user_id"],
                username=actor["username"],
                action=e.action,
                outcome=e.outcome,
                task_id=e.task_id,
                department=actor["department"],
                body=canonical,
                prev_hash=prev_hash,
                entry_hash=digest,
                entry_mac=chain.entry_mac(keys.entry_mac_key, digest, keys.crypto_suite),
            ))
            prev_hash = digest
        db.session.add_all(rows)
        db.session.execute(_SET_HEAD, {"digest": prev_hash})
        for entry in rows:
            if interval and entry.seq % interval == 0:
                _sign_checkpoint(entry.seq, entry.entry_hash)
        db.session.flush()
    except (AuditWriteError, StaleDataError):
        # StaleDataError: taking the chain's head autoflushes the caller's pending UPDATE of a
        # versioned row that someone else changed meanwhile; that is the caller's refused save
        # (ssj.concurrency), not a log that cannot be written.
        raise
    except Exception as exc:  # any failure means the caller must not proceed
        raise AuditWriteError(str(exc)) from exc
    if has_request_context():
        g.audit_entries = g.get("audit_entries", 0) + len(rows)
    return rows


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


_ROWS_SQL = f"SELECT {', '.join(chain.ROW_COLUMNS + chain.COPY_COLUMNS)} FROM {AccessLogEntry.__tablename__}"


def _rows_sql(lo: Optional[int], hi: Optional[int]) -> str:
    where = [f"seq >= {int(lo)}"] if lo is not None else []
    where += [f"seq < {int(hi)}"] if hi is not None else []
    return _ROWS_SQL + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY seq, id"


def at_speller():
    """The raw driver value of `at` spelled as stored_entries spells it.

    That is SQLAlchemy's result processing for this backend (the dialect's
    DATETIME, then UTCDateTime.process_result_value, which only sets the
    zone to UTC), then _iso_utc. Setting the zone and cutting it off again
    cancel out for a naive datetime, which both backends return: it is
    spelled directly, in C. Anything else goes the whole way.
    """
    dialect = db.session.get_bind().dialect
    outer = AccessLogEntry.__table__.c.at.type.dialect_impl(dialect)
    process = outer.result_processor(dialect, None)
    parse = outer.impl_instance.result_processor(dialect, None)  # sqlite: fromisoformat; psycopg: none
    naive_datetime = datetime

    def whole_way(raw):
        at = process(raw) if process is not None else raw
        return _iso_utc(at) if at is not None else None

    def spell(raw):
        at = parse(raw) if parse is not None else raw
        if type(at) is naive_datetime and at.tzinfo is None:
            if type(raw) is str and len(raw) == 26 and raw[10] == " " and raw[4] == raw[7] == "-" and raw[19] == ".":
                # SQLite's own spelling, YYYY-MM-DD HH:MM:SS.ffffff: that the parse gave a naive
                # time leaves no other reading of these 26 characters (a week date has no '-' at
                # 7, an offset would have made it aware), so isoformat would write the same digits
                # with a T. Slicing is five times cheaper, over a million entries.
                return raw[:10] + "T" + raw[11:] + "Z"
            return at.isoformat(timespec="microseconds") + "Z"
        return whole_way(raw)

    spell.whole_way = whole_way  # type: ignore[attr-defined]
    return spell


def entry_maker(spell_at):
    """A raw row (chain.ROW_COLUMNS, then COPY_COLUMNS) as the StoredEntry stored_entries makes of it."""
    names, entry = chain.COPY_COLUMNS, chain.StoredEntry

    def make(row) -> chain.StoredEntry:
        return entry(row[0], row[1], row[2], row[3], row[4], row[5], dict(zip(names, (spell_at(row[6]), *row[7:]))))

    return make


@contextmanager
def stored_rows(lo: Optional[int] = None, hi: Optional[int] = None, *, dbapi=None,
                batch: int = 5000) -> Iterator[Iterator[tuple]]:
    """The stored entries with lo <= seq < hi in chain order, as the driver's own tuples (chain.verify_rows).

    A plain DB-API cursor, by default on the session's connection (its
    transaction), fetched `batch` rows at a time; on PostgreSQL a
    server-side cursor, so the log is never held in memory whole.
    """
    if dbapi is None:
        dbapi = db.session.connection().connection.dbapi_connection
    cur = dbapi.cursor(name="ssj_audit_verify") if db.engine.dialect.name == "postgresql" else dbapi.cursor()
    try:
        cur.execute(_rows_sql(lo, hi))

        def rows() -> Iterator[tuple]:
            while chunk := cur.fetchmany(batch):
                yield from chunk

        yield rows()
    finally:
        cur.close()


def walk_log(mac_key: Optional[bytes], anchors: list[chain.Anchor], suite: str,
             processes: Optional[int] = None) -> chain.WalkResult:
    """chain.verify_entries' result for the stored log, computed by chain.verify_rows.

    A long log is split by sequence number into one range per process: each
    child (forked, with a connection of its own) runs the fast check over its
    range, trusting its first row's link, and reports how far it got; this
    process does the first range. The ranges are then joined in order: a
    range whose first entry does not continue the one before, or that
    stopped early, hands over to the ordinary walk from that row, with the
    state the walk would have had there. So the report is the one-process
    report, whatever happens in a child (a child that fails only costs time).
    """
    spell_at = at_speller()
    make = entry_maker(spell_at)
    config = current_app.config
    if has_request_context():
        # A web worker runs threads, and a fork copies whatever lock another thread holds
        # (logging's, the driver's) into a child that would then hang: the discipline
        # office's page walks in this process; `flask audit verify` splits the log.
        processes = 1
    elif processes is None:
        processes = config["AUDIT_VERIFY_PROCESSES"] or (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    head = head_row()
    total = head[0] if head is not None else 0
    if processes < 2 or total < max(config["AUDIT_VERIFY_PARALLEL_FROM"], processes) \
            or any(a.seq <= 0 for a in anchors):
        with stored_rows() as rows:
            return chain.verify_rows(rows, make, spell_at, mac_key, anchors, suite)

    # The first range has no lower bound: a row numbered 0 or below comes first in the walk too.
    bounds: list[Optional[int]] = [None] + [1 + total * k // processes for k in range(1, processes)] + [None]
    by_seq: dict[int, list[chain.Anchor]] = {}
    for a in anchors:
        by_seq.setdefault(a.seq, []).append(a)

    def within(seq: int, lo: Optional[int], hi: Optional[int]) -> bool:
        return (lo is None or seq >= lo) and (hi is None or seq < hi)

    def scan(lo: Optional[int], hi: Optional[int], dbapi=None) -> _Slice:
        mine = {s: list(v) for s, v in by_seq.items() if within(s, lo, hi)}
        check = chain.FastCheck(mac_key, suite, spell_at)
        with stored_rows(lo, hi, dbapi=dbapi) as rows:
            pairs = chain._pairs(rows)
            first = next(pairs, None)
            if first is None:
                return _Slice(None, chain.FastState(), None, set())
            state = chain.FastState(expected=first[0][1], prev_hash=first[0][3])
            stopped = check.run(itertools.chain([first], pairs), state, mine)
        matched = {s for s in by_seq if within(s, lo, hi)} - set(mine)
        return _Slice((first[0][1], first[0][3]), state, None if stopped is None else stopped[0][1], matched)

    engine = db.engine
    ctx = multiprocessing.get_context("fork")
    children = []
    for lo, hi in zip(bounds[1:-1], bounds[2:]):
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_scan_child, args=(send, engine, scan, lo, hi), daemon=True)
        try:
            child.start()
        except Exception:  # e.g. inside a daemonic process, which may not fork: walked here instead
            child = None
        send.close()
        children.append((child, receive))
    slices: list[Optional[_Slice]] = [scan(bounds[0], bounds[1])]
    for child, receive in children:
        try:
            slices.append(receive.recv() if child is not None else None)
        except (EOFError, OSError):
            slices.append(None)  # the child died: its range is walked here
        receive.close()
        if child is not None:
            child.join()

    state = chain.FastState()
    restart: Optional[tuple[Optional[int]]] = None  # (lowest seq to read again,), if the walk must go on here
    for lo, part in zip(bounds, slices):
        if part is None or (part.first is not None and part.first != (state.expected, state.prev_hash)):
            restart = (lo,)
            break
        if part.first is None:
            continue
        if part.state.checked:  # else the range stopped at its first row: nothing of it accepted
            state.expected, state.prev_hash = part.state.expected, part.state.prev_hash
            state.prev_row_id = part.state.prev_row_id
        state.checked += part.state.checked
        state.matched += part.state.matched
        if part.state.last_anchor_ok:
            state.last_anchor_ok = part.state.last_anchor_ok
        for s in part.matched:
            del by_seq[s]
        if part.stopped_at is not None:
            restart = (part.stopped_at,)
            break
    left = [a for s in sorted(by_seq) for a in by_seq[s]]
    if restart is None:
        return chain.verify_rows((), make, spell_at, mac_key, left, suite, state=state)
    with stored_rows(restart[0]) as rows:
        return chain.verify_rows(rows, make, spell_at, mac_key, left, suite, state=state)


@dataclass
class _Slice:
    first: Optional[tuple[int, str]]  # (seq, prev_hash) of the range's first row; None: no rows
    state: chain.FastState  # after the rows accepted from the start of the range
    stopped_at: Optional[int]  # seq of the first row not accepted; None: all were
    matched: set[int]  # sequence numbers whose anchors all agreed


def _scan_child(send, engine, scan, lo: Optional[int], hi: Optional[int]) -> None:
    """In a forked child: a connection of its own (never the parent's), scan, send the result."""
    try:
        engine.dispose(close=False)  # the parent's pooled connections stay the parent's
        dbapi = engine.raw_connection()
        try:
            send.send(scan(lo, hi, dbapi))
        finally:
            dbapi.close()
            engine.dispose()
    finally:
        send.close()


def head_row() -> Optional[tuple[int, str]]:
    """(seq, head hash) of the head row, or None if it is gone."""
    row = db.session.execute(
        select(AuditChainHead.seq, AuditChainHead.head_hash).where(AuditChainHead.id == 1)
    ).one_or_none()
    return None if row is None else (row.seq, row.head_hash)
