"""Which instance this database belongs to (SPEC §4): keys of another instance are refused."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._types import UTCDateTime, utcnow


class InstanceIdentity(db.Model):
    """A single row written by `flask init`; the key directory's instance.json carries the same id."""

    __tablename__ = "instance_identity"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    instance_id: Mapped[str] = mapped_column(String(64))
    # "intl" (AES-256-GCM, SHA-256/HMAC-SHA256) or "sm" (SM4-GCM, SM3/HMAC-SM3), fixed at init.
    crypto_suite: Mapped[str] = mapped_column(String(16), default="intl")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
