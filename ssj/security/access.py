"""Default-deny access control (SPEC §1; STYLE: Arlo's pattern).

Every view declares who may call it with exactly one of these decorators.
`check_every_route_declared` runs in the factory and refuses to start the
app if any route lacks a declaration, so a new route cannot be open by
accident. The decision itself is taken in one place, `enforce`, before the
view runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user

from ..auth.roles import ALL_ROLES

ATTR = "_ssj_access"


@dataclass(frozen=True)
class Rule:
    public: bool = False
    roles: frozenset[str] = frozenset()  # empty and not public: any signed-in user

    def allows(self, user) -> bool:
        if self.public:
            return True
        if not user.is_authenticated:
            return False
        return not self.roles or user.has_role(*self.roles)


def _declare(rule: Rule) -> Callable:
    def decorator(view):
        if hasattr(view, ATTR):
            raise RuntimeError(f"{view.__name__} declares its access twice")
        setattr(view, ATTR, rule)
        return view

    return decorator


def public(view):
    """Anyone, without signing in (the public pages of SPEC §6)."""
    return _declare(Rule(public=True))(view)


def signed_in(view):
    """Any signed-in user, whatever their roles (their own to-do page, password)."""
    return _declare(Rule())(view)


def roles(*names: str):
    """Signed-in users holding at least one of these roles."""
    unknown = set(names) - set(ALL_ROLES)
    if unknown or not names:
        raise ValueError(f"unknown roles: {unknown}")
    return _declare(Rule(roles=frozenset(names)))


def rule_for(endpoint: str | None) -> Rule | None:
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return Rule(public=True)
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ATTR, None)


def check_every_route_declared(app: Flask) -> None:
    missing = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not hasattr(view, ATTR)
    ]
    if missing:
        raise RuntimeError(f"routes without an access declaration: {', '.join(sorted(missing))}")


def enforce():
    """before_request: allow, or refuse before the view runs."""
    if request.endpoint is None:
        return None  # 404/405 from routing: nothing to protect
    rule = rule_for(request.endpoint)
    if rule is not None and rule.allows(current_user):
        return None
    g.denied = True
    if not current_user.is_authenticated:
        g.denial_reason = g.get("session_ended") or "not_signed_in"
        abort(401)
    g.denial_reason = "role"
    abort(403)


def login_redirect():
    """Where an anonymous person is sent for a page that needs a login."""
    target = request.full_path if request.method == "GET" else None
    if target and target.endswith("?"):
        target = target[:-1]
    return redirect(url_for("auth.login", next=target))
