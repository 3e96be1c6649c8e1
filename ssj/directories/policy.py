"""Who may see and change which directory entry (SPEC §1, §2; Art 4, 5, 6).

One loader per object answers both questions the flaskr way: an object of
another department does not exist for this user (404, so ids cannot be
probed), and an object they may read but not change is refused (403).
Matters belong to the section that leads them (Art 4: "各抽查事项由相关专业、
股室(中心)牵头"); inspectors, targets and conflicts are shared by the department.
"""
from __future__ import annotations

from typing import Optional

from flask_login import current_user
from sqlalchemy import select

from ..auth.roles import DIRECTORY_EDITORS, DIRECTORY_READERS
from ..extensions import db
from ..models import Conflict, Inspector, Matter, Target
from ..security.access import in_department, refuse


def may_edit_directory(user) -> bool:
    return user.has_role(*DIRECTORY_EDITORS)


def may_edit_matter(user, matter: Matter) -> bool:
    """Only staff or the head of the matter's own section change it."""
    return may_edit_directory(user) and user.section_id is not None and user.section_id == matter.section_id


def sees_department_conflicts(user) -> bool:
    """Staff, heads and supervisors see every conflict; an inspector only their own."""
    return user.has_role(*DIRECTORY_READERS)


def own_inspector(user) -> Optional[Inspector]:
    """The inspector record linked to this account, if any (Inspector.user_id)."""
    return db.session.execute(select(Inspector).where(Inspector.user_id == user.id)).scalar_one_or_none()


def get_matter(matter_id: int, for_edit: bool = False) -> Matter:
    matter = in_department(Matter, matter_id, lambda m: m.section.department_id)
    if for_edit and not may_edit_matter(current_user, matter):
        refuse("not_own_section")
    return matter


def get_inspector(inspector_id: int, for_edit: bool = False) -> Inspector:
    inspector = in_department(Inspector, inspector_id, lambda i: i.department_id)
    if for_edit and not may_edit_directory(current_user):
        refuse("role")
    return inspector


def get_target(target_id: int, for_edit: bool = False) -> Target:
    target = in_department(Target, target_id, lambda t: t.department_id)
    if for_edit and not may_edit_directory(current_user):
        refuse("role")
    return target


def get_matter_to_edit(matter_id: int) -> Matter:
    return get_matter(matter_id, for_edit=True)


def get_inspector_to_edit(inspector_id: int) -> Inspector:
    return get_inspector(inspector_id, for_edit=True)


def get_target_to_edit(target_id: int) -> Target:
    return get_target(target_id, for_edit=True)


def get_conflict_to_withdraw(conflict_id: int) -> Conflict:
    return get_conflict(conflict_id, for_withdraw=True)


def require_section() -> int:
    """The user's section: a matter is always added to one's own section."""
    if current_user.section_id is None:
        refuse("no_section")
    return current_user.section_id


def get_conflict(conflict_id: int, for_withdraw: bool = False) -> Conflict:
    conflict = in_department(Conflict, conflict_id, lambda c: c.inspector.department_id)
    if not sees_department_conflicts(current_user) and conflict.inspector.user_id != current_user.id:
        refuse("not_own_inspector", 404)  # an inspector does not learn of other people's conflicts
    if for_withdraw and not may_edit_directory(current_user):
        refuse("role")
    return conflict
