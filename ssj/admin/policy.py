"""The objects the admin pages load (SPEC §1).

The admin manages every department's accounts and sections, so these
loaders scope nothing beyond existence; they are here so that every route
taking an id loads it the same way (`ssj.security.access.load`).
"""
from __future__ import annotations

from ..extensions import db
from ..models import Section, User
from ..security.access import not_found


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        not_found()
    return user


def get_section(section_id: int) -> Section:
    section = db.session.get(Section, section_id)
    if section is None:
        not_found()
    return section
