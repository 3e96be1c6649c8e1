"""Signing in: password check, lockout after repeated failures (SPEC §1)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask import current_app
from sqlalchemy import select

from .. import clock
from .. import audit
from ..extensions import db
from ..models import User
from .passwords import hash_password, needs_rehash, verify_password


@dataclass
class LoginResult:
    user: Optional[User]
    message: Optional[str] = None


def authenticate(username: str, password: str) -> LoginResult:
    """Check a login; every attempt is logged, failures count towards a lockout."""
    username = username.strip()
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    now = clock.now()
    generic = "用户名或密码错误。"

    if user is not None and user.locked_until is not None and user.locked_until > now:
        verify_password(None, password)  # same work as a real check
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        audit.record("login_failed", outcome="denied", reason="locked", username=username)
        return LoginResult(None, f"该账号因多次登录失败已被锁定，请约 {minutes} 分钟后再试，或联系系统管理员解锁。")

    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok:
        reason = "unknown_user" if user is None else "bad_password"
        audit.record("login_failed", outcome="denied", reason=reason, username=username)
        if user is not None:
            user.failed_logins += 1
            limit = current_app.config["LOGIN_MAX_FAILURES"]
            if user.failed_logins >= limit:
                user.locked_until = now + current_app.config["LOGIN_LOCKOUT"]
                user.failed_logins = 0
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
