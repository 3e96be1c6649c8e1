"""Departments, sections, users, their roles and their server-side sessions (SPEC §1)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import UTCDateTime, utcnow


class Department(db.Model):
    """A 部门: the bureau itself or a partner department of a joint inspection (Art 11)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)

    sections: Mapped[list["Section"]] = relationship(
        back_populates="department", order_by="Section.code"
    )


class Section(db.Model):
    """A 股室/中心 inside a department, e.g. 劳动保障监察大队."""

    __table_args__ = (UniqueConstraint("department_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))

    department: Mapped[Department] = relationship(back_populates="sections", lazy="joined", innerjoin=True)

    @property
    def full_name(self) -> str:
        return f"{self.department.name}·{self.name}"


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    section_id: Mapped[Optional[int]] = mapped_column(ForeignKey("section.id"))
    enabled: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department: Mapped[Department] = relationship()
    section: Mapped[Optional[Section]] = relationship()
    role_rows: Mapped[list["UserRole"]] = relationship(
        cascade="all, delete-orphan", back_populates="user"
    )

    # Set by the session loader: the server-side session this request runs in.
    current_session = None  # type: Optional[UserSession]

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)

    def set_roles(self, roles) -> None:
        wanted = set(roles)
        self.role_rows = [r for r in self.role_rows if r.role in wanted]
        have = {r.role for r in self.role_rows}
        for role in sorted(wanted - have):
            self.role_rows.append(UserRole(role=role))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.enabled

    def get_id(self) -> str:
        # Flask-Login stores this in the cookie: the opaque session token,
        # never the user id, so that sessions can be revoked server-side.
        if self.current_session is None:
            raise RuntimeError("user has no server-side session")
        return self.current_session.cookie_token


class UserRole(db.Model):
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    role: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(back_populates="role_rows")


class UserSession(db.Model):
    """A signed-in session. Only the token's SHA-256 is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[Optional[str]] = mapped_column(String(64))
    client_address: Mapped[Optional[str]] = mapped_column(String(64))

    user: Mapped[User] = relationship()

    # The raw token exists only in memory during the login request.
    cookie_token = None  # type: Optional[str]


class AccessGrant(db.Model):
    """An account change that would let someone read sealed lists, waiting for a supervisor (SPEC §4).

    An administrator alone cannot give such access: creating an account with
    `section_head` or `supervisor` (or `staff` of a section with sealed
    tasks), adding such a role, moving such a person to another section,
    enabling them, or resetting their password is stored here and takes
    effect only when a supervisor of the account's department — neither the
    grantee nor the requester — approves it.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "account" (roles, section, enabled) or "password"
    requested_json: Mapped[Optional[str]] = mapped_column(Text)  # the account fields asked for ("account")
    password_hash: Mapped[Optional[str]] = mapped_column(String(255))  # the new password's hash ("password")
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending / approved / declined / superseded
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[Optional[User]] = relationship(foreign_keys=[decided_by_id])
