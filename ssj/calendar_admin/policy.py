"""The objects the holiday calendar pages load (Art 9 working days).

Only the admin enters holidays, for the whole bureau: the loader scopes
nothing beyond existence, and is here so that every route taking an id
loads it the same way (`ssj.security.access.load`).
"""
from __future__ import annotations

from ..extensions import db
from ..models import Holiday
from ..security.access import not_found


def get_holiday(holiday_id: int) -> Holiday:
    holiday = db.session.get(Holiday, holiday_id)
    if holiday is None:
        not_found()
    return holiday
