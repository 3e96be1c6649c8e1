"""User and organisation management for the admin role (SPEC §1).

Every change is logged with what it was before and after: role changes
made by an admin are exactly what the discipline office watches (SPEC §5).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from flask import current_app
from sqlalchemy import select

from .. import audit
from ..auth.passwords import hash_password, password_problem
from ..auth.roles import ADMIN, ALL_ROLES
from ..auth.sessions import revoke_all
from ..extensions import db
from ..models import Department, Section, User
from . import grants

USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.-")


@dataclass
class UserForm:
    username: str = ""
    display_name: str = ""
    department_id: Optional[int] = None
    section_id: Optional[int] = None
    roles: list[str] = field(default_factory=list)
    enabled: bool = True
    password: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, form) -> "UserForm":
        def as_int(name):
            value = form.get(name, "").strip()
            return int(value) if value.isdigit() else None

        return cls(
            username=form.get("username", "").strip().lower(),
            display_name=form.get("display_name", "").strip(),
            department_id=as_int("department_id"),
            section_id=as_int("section_id"),
            roles=[r for r in form.getlist("roles") if r in ALL_ROLES],
            enabled=form.get("enabled") == "on",
            password=form.get("password", ""),
        )

    @classmethod
    def from_user(cls, user: User) -> "UserForm":
        return cls(
            username=user.username,
            display_name=user.display_name,
            department_id=user.department_id,
            section_id=user.section_id,
            roles=sorted(user.roles),
            enabled=user.enabled,
        )

    def validate(self, user: Optional[User], actor: User) -> bool:
        e = self.errors
        if user is None:
            if not self.username or not set(self.username) <= USERNAME_CHARS:
                e["username"] = "用户名只能包含小写字母、数字和 _ . -"
            elif db.session.execute(select(User.id).where(User.username == self.username)).first():
                e["username"] = "该用户名已被使用，请换一个。"
            problem = password_problem(self.password, current_app.config["PASSWORD_MIN_LENGTH"],
                                       username=self.username)
            if problem:
                e["password"] = problem
        if not self.display_name:
            e["display_name"] = "请填写姓名。"
        dept = db.session.get(Department, self.department_id) if self.department_id else None
        if dept is None:
            e["department_id"] = "请选择所属部门。"
        if self.section_id is not None:
            section = db.session.get(Section, self.section_id)
            if section is None or dept is None or section.department_id != dept.id:
                e["section_id"] = "所选科室不属于所选部门。"
        if not self.roles:
            e["roles"] = "请至少选择一个角色。"
        if user is not None and user.id == actor.id:
            if ADMIN not in self.roles:
                e["roles"] = "不能取消自己的系统管理员角色（请由另一位管理员操作）。"
            if not self.enabled:
                e["enabled"] = "不能停用自己的账号。"
        return not e


def _wanted(form: UserForm, enabled: bool) -> dict:
    return {"department_id": form.department_id, "section_id": form.section_id,
            "roles": sorted(form.roles), "enabled": enabled}


def create_user(form: UserForm, actor: User) -> tuple[User, Optional["grants.AccessGrant"]]:
    """Create the account; one that could read sealed lists starts disabled until a supervisor approves (SPEC §4)."""
    wanted = _wanted(form, True)
    held = grants.needs_approval(None, wanted)
    user = User(
        username=form.username,
        display_name=form.display_name,
        password_hash=hash_password(form.password),
        department_id=form.department_id,
        section_id=form.section_id,
        enabled=not held,
    )
    user.set_roles(form.roles)
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user_created",
        objects={
            "user": user.id,
            "username": user.username,
            "roles": sorted(form.roles),
            "department_id": form.department_id,
            "section_id": form.section_id,
            "held_for_approval": held,
        },
    )
    return user, (grants.hold_account(user, wanted, actor) if held else None)


def update_user(user: User, form: UserForm, actor: User) -> dict[str, list]:
    """Apply the edit; a part that would give sealed reach is held for a supervisor (key "held" in the result)."""
    wanted = _wanted(form, form.enabled)
    if grants.needs_approval(user, wanted):
        changes: dict = {}
        if user.display_name != form.display_name:
            changes["display_name"] = [user.display_name, form.display_name]
            user.display_name = form.display_name
            audit.record("user_updated", objects={"user": user.id, "username": user.username, "changes": changes})
        grant = grants.hold_account(user, wanted, actor)
        return {**changes, "held": [None, grant.id]}
    before = {
        "display_name": user.display_name,
        "department_id": user.department_id,
        "section_id": user.section_id,
        "roles": sorted(user.roles),
        "enabled": user.enabled,
    }
    user.display_name = form.display_name
    user.department_id = form.department_id
    user.section_id = form.section_id
    user.enabled = form.enabled
    user.set_roles(form.roles)
    after = {**before, "display_name": form.display_name, "department_id": form.department_id,
             "section_id": form.section_id, "roles": sorted(form.roles), "enabled": form.enabled}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if not changes:
        return {}
    if "roles" in changes:
        audit.record("role_change", objects={"user": user.id, "username": user.username,
                                             "before": changes["roles"][0], "after": changes["roles"][1]})
    audit.record("user_updated", objects={"user": user.id, "username": user.username, "changes": changes})
    # A user whose access shrank or who was disabled must not keep an open session.
    if {"roles", "department_id", "section_id", "enabled"} & changes.keys():
        keep = actor.current_session.id if actor.id == user.id and actor.current_session else None
        revoke_all(user.id, "user_disabled" if not user.enabled else "admin_revoked", except_session_id=keep)
    return changes


def reset_password(user: User, password: str, actor: User) -> tuple[Optional[str], bool]:
    """(problem, held): the reset of an account that reads sealed lists waits for a supervisor (SPEC §4)."""
    problem = password_problem(password, current_app.config["PASSWORD_MIN_LENGTH"], username=user.username,
                               current_hash=user.password_hash)
    if problem:
        return problem, False
    if grants.sealed_reach(user.roles, user.section_id, user.enabled) or grants.pending_for(user):
        grants.hold_password(user, hash_password(password), actor)
        return None, True
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    revoke_all(user.id, "password_changed")
    audit.record("password_reset", objects={"user": user.id, "username": user.username})
    return None, False


def unlock(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None
    audit.record("account_unlocked", objects={"user": user.id, "username": user.username})


def end_sessions(user: User) -> int:
    count = revoke_all(user.id, "admin_revoked")
    audit.record("sessions_revoked", objects={"user": user.id, "username": user.username, "count": count})
    return count
