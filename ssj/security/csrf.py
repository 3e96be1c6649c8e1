"""CSRF protection for every state-changing request, plain forms and htmx alike.

The token lives in the (signed) session; forms send it as `csrf_token`,
htmx sends it as the `X-CSRF-Token` header set by `hx-headers` on <body>.
"""
from __future__ import annotations

import hmac
import secrets

from flask import request, session

from .access import refuse

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def csrf_token() -> str:
    token = session.get(FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[FIELD] = token
    return token


def rotate() -> None:
    session[FIELD] = secrets.token_urlsafe(32)


def protect():
    """before_request: refuse an unsafe request without the session's token."""
    if request.method in SAFE_METHODS:
        return None
    expected = session.get(FIELD)
    sent = request.headers.get(HEADER) or request.form.get(FIELD)
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        refuse("csrf", 400, description="页面已过期或请求来源不明（缺少有效的防伪令牌）。请刷新页面后重试。")
    return None
