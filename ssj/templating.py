"""Template globals and filters: CSRF token, role names, local times."""
from datetime import date, datetime

from flask import Flask, request
from flask_login import current_user

from . import clock
from .auth.roles import ROLE_NAMES
from .security.csrf import csrf_token


def watermark() -> str:
    """Who is looking and when: printed across every page and sheet of sealed content (Art 12)."""
    return f"保密 · {current_user.display_name}（{current_user.username}）· {clock.show(clock.now())} · 不得复制传播"


def init_app(app: Flask) -> None:
    @app.template_filter("local")
    def local(value: datetime | None, fmt: str = clock.SHOWN) -> str:
        """A stored (UTC) time as the bureau reads it: `2026-12-02 16:29` local time."""
        return clock.show(value, fmt)

    @app.template_filter("day")
    def day(value: date | None) -> str:
        return value.isoformat() if value else ""

    @app.context_processor
    def globals_():
        return {
            "csrf_token": csrf_token,
            "ROLE_NAMES": ROLE_NAMES,
            "is_htmx": bool(request.headers.get("HX-Request")),
            "me": current_user,
        }
