"""Searchable, paginated lists that work with and without htmx (SPEC §9): the one Page.

Serves the directory pages (Art 4, 5, 6), the public pages (Art 4, 5, 13),
the task list and the discipline office's log search: one URL returns the
full page normally and only the results fragment to an htmx request, so the
page and the fragment share one template; every list pages through
templates/_pager.html.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from flask import current_app, make_response, render_template, request, url_for
from sqlalchemy import Select, func

from .extensions import db


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.page * self.per_page, self.total)


def contains_text(column, text: str):
    """`column` contains `text`, ignoring case, with LIKE's wildcards in `text` taken literally.

    SQLite's LIKE already ignores the case of ASCII letters, which is all its
    lower() folds: lower() on every row only cost time (a name search over
    the demo county's 3,000 targets counted in 2.5 ms instead of 1.0 ms), and
    it missed non-ASCII capitals that Python's lower() had folded in `text`.
    PostgreSQL's LIKE is case-sensitive: both sides are lowered there.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return column.contains(text, autoescape=True)
    return func.lower(column).contains(text.lower(), autoescape=True)


def requested_page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


def paginate(stmt: Select, count_stmt: Select, scalars: bool = True) -> Page:
    """One page of `stmt` plus the total from `count_stmt` (same filters).

    The count is its own `SELECT count(*) ... WHERE ...` rather than a count
    over a subquery of the page query, so the database can answer it from an
    index without fetching rows.
    """
    per_page = current_app.config["PAGE_SIZE"]
    total = db.session.scalar(count_stmt) or 0
    pages = max(1, -(-total // per_page))
    # A bookmarked page past the end shows the last page rather than nothing.
    page = min(requested_page(), pages)
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = result.scalars().all() if scalars else result.all()
    return Page(items=items, total=total, page=page, per_page=per_page)


# How many ids a first pass may collect to answer both the page and the count: eight
# pages of 25. A word matching more (the county's name, a common trade) costs the pass
# and the count anyway; fetching 1,000 ids first made such a search the slowest page of
# the directory (bench/pages.py).
ID_PASS_CAP = 200


def paginate_ids(ids_stmt: Select, count_stmt: Select, load: Callable[[list[int]], Sequence[Any]]) -> Page:
    """Like `paginate`, for a large table where a filter cannot seek in an index.

    A substring search must read the whole index once to count, and a rare
    word makes the page query read it all again. Collecting the first
    ID_PASS_CAP matching ids in list order answers both at once when the
    matches are few; when they are many, that pass stops early and only
    the count reads to the end. `ids_stmt` selects ids in display order
    (ideally from a covering index); `load` turns a page of ids into objects.
    """
    per_page = current_app.config["PAGE_SIZE"]
    wanted = requested_page()
    ids: list[int] = []
    total = None
    if wanted * per_page <= ID_PASS_CAP:
        ids = db.session.execute(ids_stmt.limit(ID_PASS_CAP + 1)).scalars().all()
        if len(ids) <= ID_PASS_CAP:
            total = len(ids)
    if total is None:
        total = db.session.scalar(count_stmt) or 0
    pages = max(1, -(-total // per_page))
    page = min(wanted, pages)
    start = (page - 1) * per_page
    if start + per_page <= len(ids) or len(ids) == total:
        page_ids = ids[start : start + per_page]
    else:
        page_ids = list(db.session.execute(ids_stmt.limit(per_page).offset(start)).scalars())
    by_id = {obj.id: obj for obj in load(page_ids)} if page_ids else {}
    items = [by_id[i] for i in page_ids if i in by_id]
    return Page(items=items, total=total, page=page, per_page=per_page)


def page_url(number: int) -> str:
    """The current list URL with its query string, at another page."""
    args = request.args.to_dict()
    args["page"] = str(number)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def wants_fragment() -> bool:
    # A history restore (back button after the cache is gone) needs the whole
    # page even though htmx marks it as an htmx request.
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


def render_list(page_template: str, fragment_template: str, **context):
    """The full page, or only its results fragment for an htmx request."""
    template = fragment_template if wants_fragment() else page_template
    response = make_response(render_template(template, page_url=page_url, **context))
    response.vary.add("HX-Request")
    response.vary.add("HX-History-Restore-Request")
    return response
