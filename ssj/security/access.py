"""Default-deny access control: the one access layer (SPEC §1; STYLE: Arlo's pattern).

Every view declares who may call it with exactly one of `public`,
`signed_in` or `roles`; a page that serves sealed content says so there
too (`sealed="抽中名单"`), and the discipline office's flags are derived
from those declarations (`sealed_pages`). A route that takes an object id
gets the object through `load`, whose loaders (in each area's `policy.py`)
scope it to the user: the view receives the object, never the bare id, so
it cannot forget the check. `check_every_route_declared` runs in the
factory and refuses to start the app if a route lacks its declaration or
its loader.

Every refusal, whoever decides it (the role check in `enforce`, an area's
policy, CSRF), goes through `refuse`: the request is marked denied with a
reason, `audit.hooks` logs it the same way, and `ssj.errors` shows the
Chinese page.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Callable, NoReturn, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user

from ..extensions import db
from ..roles import ALL_ROLES

ATTR = "_ssj_access"
LOADS = "_ssj_loads"


@dataclass(frozen=True)
class Rule:
    public: bool = False
    roles: frozenset[str] = frozenset()  # empty and not public: any signed-in user
    sealed: str | None = None  # the page's Chinese name when it serves sealed content (SPEC §4)

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


def roles(*names: str, sealed: str | None = None):
    """Signed-in users holding at least one of these roles.

    `sealed`: the page serves sealed content; its Chinese name labels a
    refused attempt at it in the discipline office's flags.
    """
    unknown = set(names) - set(ALL_ROLES)
    if unknown or not names:
        raise ValueError(f"unknown roles: {unknown}")
    return _declare(Rule(roles=frozenset(names), sealed=sealed))


def mark_refused(reason: str) -> None:
    """Log this request as refused while the view answers with its own page.

    For a form that stays on screen with its message (a supervisor
    approving their own request): the status is the view's, the log entry
    is a denial like every other refusal.
    """
    g.denied = True
    g.denial_reason = reason


def refuse(reason: str, status: int = 403, description: str | None = None) -> NoReturn:
    """Refuse this request: the one way every refusal is made.

    Marks the request denied with `reason` (an English code; its Chinese
    label is in `ssj.oversight.flags.REASON_ZH`), so `audit.hooks` logs it
    as a denial whatever the status; `ssj.errors` then shows the Chinese
    page. 404 is for an object that does not exist *for this user* (another
    department's), so ids cannot be probed; 403 for one they may see but
    not use this way.
    """
    mark_refused(reason)
    abort(status, description=description)


def not_found() -> NoReturn:
    """No such object at all (not a refusal: nothing to flag)."""
    abort(404)


T = TypeVar("T")


def in_department(model: type[T], object_id: int, department_of: Callable[[T], int]) -> T:
    """The object with this id, if it belongs to the user's department; otherwise it does not exist for them.

    The loaders' first step: a missing id and another department's both get
    a 404, so ids cannot be probed; only the second is a refusal, logged and
    flagged as `other_department`. The area's policy then decides the rest.
    """
    obj = db.session.get(model, object_id)
    if obj is None:
        not_found()
    if department_of(obj) != current_user.department_id:
        refuse("other_department", 404)
    return obj


def _object_name(arg: str) -> str:
    return "job" if arg == "token" else arg.removesuffix("_id")


def load(**loaders: Callable[[Any], Any]):
    """Load the route's objects through loaders scoped to the user.

    `@access.load(task_id=policy.get_task)`: the URL's `task_id` is passed
    to the loader, which returns the object or refuses; the view receives
    it as `task` (a job's `token` as `job`). Put it under the access
    declaration, so the role check runs first.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(**kwargs):
            for arg, loader in loaders.items():
                kwargs[_object_name(arg)] = loader(kwargs.pop(arg))
            return view(**kwargs)

        setattr(wrapper, LOADS, frozenset(loaders))
        return wrapper

    return decorator


def rule_for(endpoint: str | None) -> Rule | None:
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return Rule(public=True)
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ATTR, None)


def _object_args(rule) -> list[str]:
    """The URL arguments naming an object (`…_id`, `token`), in URL order."""
    names = re.findall(r"<(?:[^<>:]+:)?([^<>:]+)>", rule.rule)
    return [n for n in names if n.endswith("_id") or n == "token"]


def check_every_route_declared(app: Flask) -> None:
    """Refuse to start if a route lacks its access declaration, or a loader for its object.

    A route whose URL names an object must load its first (outermost) one
    through `load`; objects nested in it (a follow-up of a record) are then
    looked up within that parent.
    """
    missing = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not hasattr(view, ATTR)
    ]
    if missing:
        raise RuntimeError(f"routes without an access declaration: {', '.join(sorted(missing))}")
    unloaded = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if view is None or rule.endpoint == "static" or getattr(view, ATTR).public:
            continue
        names = _object_args(rule)
        if names and names[0] not in getattr(view, LOADS, ()):
            unloaded.append(f"{rule.endpoint} ({names[0]})")
    if unloaded:
        raise RuntimeError(f"routes taking an object id without a scoped loader (access.load): {', '.join(sorted(unloaded))}")


def sealed_pages(app: Flask) -> dict[str, str]:
    """{endpoint: Chinese page name} of every route declared `sealed=`: the flags' list."""
    return {
        endpoint: rule.sealed
        for endpoint, view in app.view_functions.items()
        if (rule := getattr(view, ATTR, None)) is not None and rule.sealed
    }


def enforce():
    """before_request: allow, or refuse before the view runs."""
    if request.endpoint is None:
        return None  # 404/405 from routing: nothing to protect
    rule = rule_for(request.endpoint)
    if rule is not None and rule.allows(current_user):
        return None
    if not current_user.is_authenticated:
        refuse(g.get("session_ended") or "not_signed_in", 401)
    refuse("role")


def login_redirect():
    """Where an anonymous person is sent for a page that needs a login."""
    target = request.full_path if request.method == "GET" else None
    if target and target.endswith("?"):
        target = target[:-1]
    return redirect(url_for("auth.login", next=target))
