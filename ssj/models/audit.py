"""The tamper-evident access log (SPEC §5, Art 9, 14, 17, 18)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import UTCDateTime, utcnow


class AccessLogEntry(db.Model):
    """One entry of the hash chain.

    Everything that is hashed is stored as the exact canonical JSON text
    (`body`), so verification never depends on how a backend round-trips
    types; the columns beside it are copies for searching.
    """

    __tablename__ = "access_log"

    # Row id in insertion order; `seq` is the chain position.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(index=True)
    username: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    task_id: Mapped[Optional[int]] = mapped_column(index=True)
    # The actor's department code when the entry was written (None: nobody
    # signed in, or the CLI): a discipline officer reads their own department's log only.
    department: Mapped[Optional[str]] = mapped_column(String(32), index=True)
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256(audit MAC key, entry_hash): only the application can write
    # an entry that passes, so a forged row is named as inserted.
    entry_mac: Mapped[str] = mapped_column(String(64))


class AuditChainHead(db.Model):
    """A single row; updating it first is what serialises appends across processes."""

    __tablename__ = "access_log_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(db.Model):
    """A signed (sequence, head hash) pair; the signing key lives outside the database."""

    __tablename__ = "access_log_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    statement: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(64))


class Investigation(db.Model):
    """立案核查: the discipline office's approved question "who looked at these enterprises?" (SPEC §5; Art 14, 17).

    Without one, the console's enterprise search covers published tasks
    only. An investigation names enterprises and a reason, is approved by a
    supervisor of the office's department who is not the requester, and
    lets the search cover every task for those enterprises until it
    expires. The credit codes are kept in clear: an investigation says whom
    the office suspects, not which units any task drew.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    codes_json: Mapped[str] = mapped_column(Text)  # JSON list of credit codes, sorted
    reason: Mapped[str] = mapped_column(Text)
    days: Mapped[int] = mapped_column()  # how long it runs once approved
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending / approved / declined / closed
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    department = relationship("Department")
