"""Versioning of the public matter list (Art 4: "随时进行动态更新").

Every change to a matter, from a form or an import, goes through
`apply_matter_changes`, which bumps the version and keeps who, when and
what changed. Nothing else writes Matter fields.
"""
from __future__ import annotations

import json
from typing import Any, Optional

from .. import clock
from ..extensions import db
from ..models import Matter, MatterVersion, User

# The fields a person edits; the version history shows exactly these.
MATTER_FIELDS = (
    "code",
    "name",
    "legal_basis",
    "content",
    "documents",
    "ratio_percent",
    "frequency",
    "method",
    "section_id",
    "status",
)


def snapshot(matter: Matter) -> dict[str, Any]:
    return {f: getattr(matter, f) for f in MATTER_FIELDS}


def apply_matter_changes(
    matter: Optional[Matter], values: dict[str, Any], user: Optional[User], kind: str
) -> tuple[Matter, dict[str, list]]:
    """Create or update a matter from validated values; return it and what changed.

    An update that changes nothing writes nothing (re-importing the same
    file is a no-op). `kind` is "create", "update" or "import".
    """
    now = clock.now()
    if matter is None:
        matter = Matter(version=0, **{f: values[f] for f in MATTER_FIELDS if f in values})
        changes = {f: [None, getattr(matter, f)] for f in MATTER_FIELDS if f in values}
        db.session.add(matter)
    else:
        changes = {
            f: [getattr(matter, f), values[f]]
            for f in MATTER_FIELDS
            if f in values and getattr(matter, f) != values[f]
        }
        if not changes:
            return matter, {}
        for f, (_old, new) in changes.items():
            setattr(matter, f, new)
    matter.version = (matter.version or 0) + 1
    matter.updated_at = now
    db.session.flush()
    db.session.add(
        MatterVersion(
            matter_id=matter.id,
            version=matter.version,
            changed_at=now,
            changed_by_id=user.id if user is not None else None,
            change_kind=kind,
            snapshot_json=json.dumps(snapshot(matter), ensure_ascii=False, sort_keys=True),
            changes_json=json.dumps(changes, ensure_ascii=False, sort_keys=True),
        )
    )
    return matter, changes
