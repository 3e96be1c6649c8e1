"""The to-do page's registry (SPEC §9: "what needs doing now, by whom, and by when").

Each area contributes a provider: a function of the signed-in user and today
that returns TodoItems, registered with @provider in the area's todo.py. The
page (main.routes) asks items_for; it imports no area, and no area imports
the page (issue #15: the registry is what keeps main and the areas apart).

Providers only read plaintext state (statuses, dates, counts) — never sealed
content — so the to-do page itself reveals nothing that the person could not
already see.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable, Optional


@dataclass
class TodoItem:
    title: str
    detail: str
    url: str
    due: Optional[date] = None
    article: str = ""


Provider = Callable[[object, date], list[TodoItem]]
PROVIDERS: list[Provider] = []


def provider(fn: Provider) -> Provider:
    """Register a to-do provider; areas decorate a function with this."""
    PROVIDERS.append(fn)
    return fn


def items_for(user, today: date) -> list[TodoItem]:
    items: list[TodoItem] = []
    for fn in PROVIDERS:
        items.extend(fn(user, today))
    # Deadlines first, the nearest on top; undated items after them.
    return sorted(items, key=lambda i: (i.due is None, i.due or date.max))
