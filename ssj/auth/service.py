"""Signing in: password check, lockout after repeated failures (SPEC §1)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask import current_app
from sqlalchemy import or_, select, update

from .. import clock
from .. import audit
from ..extensions import db
from ..models import User
from .passwords import hash_password, needs_rehash, verify_password


@dataclass
class LoginResult:
    user: Optional[User]
    message: Optional[str] = None


def reserve_check(user_id: int, now, limit: int) -> bool:
    """Take one of the account's password checks, atomically, before any hashing (issue 10).

    One conditional UPDATE both tests and counts: an account that is locked,
    or whose checks in this round are used up, matches no row. The UPDATE
    holds the row (PostgreSQL) or the database's write lock (SQLite) until
    the request commits, so a parallel attempt's UPDATE waits and then
    sees this one's count: 32 threads with wrong passwords get at most
    LOGIN_MAX_FAILURES checks between them, and a right password sent
    among them is refused like the rest once they are used up. (The login
    route keeps a failed attempt's changes, so the count persists.)
    """
    taken = db.session.execute(
        update(User)
        .where(User.id == user_id, User.failed_logins < limit,
               or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=User.failed_logins + 1)
        # "fetch": a loaded User sees the new count, so a later `failed_logins = 0` is a real change.
        .execution_options(synchronize_session="fetch")
    ).rowcount
    return taken == 1


def _locked(username: str, user: User, now) -> LoginResult:
    audit.record("login_failed", outcome="denied", reason="locked", username=username)
    until = user.locked_until if user.locked_until is not None and user.locked_until > now else None
    minutes = max(1, int(((until or now + current_app.config["LOGIN_LOCKOUT"]) - now).total_seconds() // 60) + 1)
    return LoginResult(None, f"该账号因多次登录失败已被锁定，请约 {minutes} 分钟后再试，或联系系统管理员解锁。")


def authenticate(username: str, password: str) -> LoginResult:
    """Check a login; every attempt is logged, failures count towards a lockout."""
    username = username.strip()
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    now = clock.now()
    generic = "用户名或密码错误。"
    limit = current_app.config["LOGIN_MAX_FAILURES"]

    if user is None:
        verify_password(None, password)  # same work as a real check: timing does not tell
        audit.record("login_failed", outcome="denied", reason="unknown_user", username=username)
        return LoginResult(None, generic)

    if not reserve_check(user.id, now, limit):
        db.session.refresh(user)
        return _locked(username, user, now)

    if not verify_password(user.password_hash, password):
        audit.record("login_failed", outcome="denied", reason="bad_password", username=username)
        db.session.refresh(user)
        if user.failed_logins >= limit:
            # This check used the last one: lock, and start a new round after the lockout.
            db.session.execute(
                update(User).where(User.id == user.id)
                .values(locked_until=now + current_app.config["LOGIN_LOCKOUT"], failed_logins=0)
                .execution_options(synchronize_session=False)
            )
            db.session.refresh(user)
            audit.record(
                "account_locked",
                outcome="denied",
                reason=f"{limit} failed logins",
                username=username,
                objects={"user": user.id},
            )
            minutes = int(current_app.config["LOGIN_LOCKOUT"].total_seconds() // 60)
            return LoginResult(None, f"连续 {limit} 次登录失败，该账号已被锁定 {minutes} 分钟。")
        return LoginResult(None, generic)

    if not user.enabled:
        audit.record("login_failed", outcome="denied", reason="disabled", username=username)
        return LoginResult(None, "该账号已停用，请联系系统管理员。")

    user.failed_logins = 0
    user.locked_until = None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginResult(user)
