"""Server-side sessions: revocable, with idle and absolute timeouts (SPEC §1).

The cookie holds an opaque random token; the database holds its SHA-256.
Changing a password, disabling a user or an admin's revoke ends sessions
at once, because every request looks the token up.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Optional

from flask import current_app, g, request
from sqlalchemy import select, update

from .. import clock
from ..audit.hooks import on_signed_in_commit
from ..extensions import db, login_manager
from ..models import User, UserSession


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start_session(user: User) -> UserSession:
    token = secrets.token_urlsafe(32)
    s = UserSession(
        token_sha256=_digest(token),
        user_id=user.id,
        client_address=request.remote_addr,
    )
    db.session.add(s)
    db.session.flush()
    s.cookie_token = token
    user.current_session = s
    return s


def revoke_all(user_id: int, reason: str, except_session_id: Optional[int] = None) -> int:
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoked_reason=reason)
    )
    if except_session_id is not None:
        stmt = stmt.where(UserSession.id != except_session_id)
    return db.session.execute(stmt).rowcount


def _expiry_reason(s: UserSession, now: datetime) -> Optional[str]:
    if s.revoked_at is not None:
        return s.revoked_reason or "revoked"
    if now - s.created_at > current_app.config["ABSOLUTE_TIMEOUT"]:
        return "absolute_timeout"
    if now - s.last_seen_at > current_app.config["IDLE_TIMEOUT"]:
        return "idle_timeout"
    return None


@login_manager.user_loader
def load_user(token: str) -> Optional[User]:
    if not token or len(token) > 128:
        return None
    s = db.session.execute(
        select(UserSession).where(UserSession.token_sha256 == _digest(token))
    ).scalar_one_or_none()
    if s is None:
        return None
    now = clock.now()
    reason = _expiry_reason(s, now)
    if reason is None and not s.user.enabled:
        reason = "user_disabled"
    if reason is not None:
        if s.revoked_at is None:
            s.revoked_at, s.revoked_reason = now, reason
        g.session_ended = reason
        return None
    s.cookie_token = token
    s.user.current_session = s
    return s.user


@on_signed_in_commit
def touch(user: User) -> None:
    """Record activity for the idle timeout (called once per request, at commit)."""
    s = user.current_session
    if s is not None and s.revoked_at is None:
        s.last_seen_at = clock.now()


SESSION_END_MESSAGES = {
    "idle_timeout": "您已超过30分钟未操作，为保护数据安全已自动退出，请重新登录。",
    "absolute_timeout": "本次登录已超过8小时，请重新登录。",
    "password_changed": "您的密码已修改，请用新密码重新登录。",
    "user_disabled": "您的账号已被停用，如有疑问请联系系统管理员。",
    "revoked": "您的登录已被管理员终止，请重新登录。",
    "admin_revoked": "您的登录已被管理员终止，请重新登录。",
    "logout": "您已退出登录。",
}
