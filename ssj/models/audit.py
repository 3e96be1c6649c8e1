"""The tamper-evident access log (SPEC §5, Art 9, 14, 17, 18)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._types import UTCDateTime


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
