"""Refused changes are logged as refusals, naming the reason (issue #13).

A form that is refused (stale version, a submitted record, a rule of the
regulation, bad input) is re-rendered with the person's input, and that
page's own sealed reads are logged. Without an entry of its own the refusal
would look, in the log, like a plain read. `refuse_change` undoes whatever
the view had begun, writes one entry with outcome `refused` and the reason,
and tells the after-request hook to keep it (the status is an error, which
would otherwise roll it back).

Access denials (wrong role, another department's object) are not this:
they are `denied`, written by the access layer (`ssj.security.access`).
"""
from __future__ import annotations

from typing import Any, Optional

from flask import g, request

from .hooks import logged_view_args
from .service import discard_uncommitted, record

OUTCOME = "refused"


def refuse_change(reason: str, status: int, objects: Optional[dict[str, Any]] = None,
                  task_id: Optional[int] = None) -> int:
    """Undo the request's changes and log the refusal; return the status for the re-rendered form."""
    discard_uncommitted()
    g.keep_changes = True
    args = logged_view_args()
    if task_id is None and isinstance(args.get("task_id"), int):
        task_id = args["task_id"]
    record(
        f"refused:{request.endpoint}",
        outcome=OUTCOME,
        reason=reason,
        objects={"endpoint": request.endpoint, "status": status, "args": args, **(objects or {})},
        task_id=task_id,
    )
    return status
