"""Sealed access is never given by an administrator alone (SPEC §4 "Granting sealed access"; Art 12, 14).

An administrator manages accounts but must not read sealed lists — nor
make someone (themselves, or a colleague) who can: create an account with
`supervisor`, add `section_head`, reset the leader's password and sign in
as them. So any account change after which a person could read sealed
lists that they could not read before — and any password reset of such an
account — is held as an `AccessGrant` and takes effect only when a
supervisor of that account's department, who is neither the grantee nor
the requester, approves it. A new account that needs one starts disabled.
"""
from __future__ import annotations

import json
from typing import Optional

from sqlalchemy import select

from .. import audit, clock
from ..auth.roles import ROLE_NAMES, SECTION_HEAD, STAFF, SUPERVISOR
from ..auth.sessions import revoke_all
from ..ceremony import policy as ceremony_policy
from ..extensions import db
from ..models import AccessGrant, Section, Task, User

SEALED_ROLES = (SECTION_HEAD, SUPERVISOR)  # read a whole sealed list by role
# A task drawn and not yet published: its list is sealed.
SEALED_STATUSES = ("drawing", "sealed", "inspecting", "reported", "publishing")


class GrantRefused(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def sections_with_sealed_tasks() -> set[int]:
    """Sections whose staff organise a task with a sealed list (the responsible section and the 大队)."""
    out: set[int] = set()
    for task in db.session.execute(select(Task).where(Task.status.in_(SEALED_STATUSES))).scalars():
        out |= ceremony_policy.organising_section_ids(task)
    return out


def sealed_reach(roles, section_id: Optional[int], enabled: bool = True) -> frozenset[str]:
    """What in these account fields lets a person read sealed lists: the roles, and for staff their section."""
    if not enabled:
        return frozenset()
    reach = {r for r in roles if r in SEALED_ROLES}
    if STAFF in roles and section_id is not None and section_id in sections_with_sealed_tasks():
        reach.add(f"staff@{section_id}")
    if reach and section_id is not None:
        reach = {r if "@" in r else f"{r}@{section_id}" for r in reach}  # a head of another section reads other lists
    return frozenset(reach)


def needs_approval(user: Optional[User], wanted: dict) -> bool:
    """True if the wanted fields give sealed reach the account does not have now."""
    after = sealed_reach(wanted["roles"], wanted["section_id"], wanted["enabled"])
    before = frozenset() if user is None else sealed_reach(user.roles, user.section_id, user.enabled)
    department_changed = user is not None and user.department_id != wanted["department_id"]
    return bool(after - before) or bool(after and department_changed)


def _supersede(user: User, kind: str) -> None:
    for old in db.session.execute(
        select(AccessGrant).where(AccessGrant.user_id == user.id, AccessGrant.kind == kind,
                                  AccessGrant.state == "pending")
    ).scalars():
        old.state = "superseded"


def hold_account(user: User, wanted: dict, requester: User) -> AccessGrant:
    """Keep the wanted roles/section/department/enabled for approval; the account keeps what it has."""
    _supersede(user, "account")
    grant = AccessGrant(user_id=user.id, kind="account", requested_json=json.dumps(wanted, sort_keys=True),
                        state="pending", requested_by_id=requester.id, requested_at=clock.now(), note="")
    db.session.add(grant)
    db.session.flush()
    audit.record("access_grant_requested", objects={"grant": grant.id, "user": user.id, "username": user.username,
                                                    "kind": "account", "wanted": wanted})
    return grant


def hold_password(user: User, password_hash: str, requester: User) -> AccessGrant:
    _supersede(user, "password")
    grant = AccessGrant(user_id=user.id, kind="password", password_hash=password_hash, state="pending",
                        requested_by_id=requester.id, requested_at=clock.now(), note="")
    db.session.add(grant)
    db.session.flush()
    audit.record("access_grant_requested", objects={"grant": grant.id, "user": user.id, "username": user.username,
                                                    "kind": "password"})
    return grant


def pending_for(user: User) -> list[AccessGrant]:
    return list(db.session.execute(
        select(AccessGrant).where(AccessGrant.user_id == user.id, AccessGrant.state == "pending")
        .order_by(AccessGrant.id)
    ).scalars())


def pending_in_department(department_id: Optional[int]) -> list[AccessGrant]:
    return list(db.session.execute(
        select(AccessGrant).join(User, AccessGrant.user_id == User.id)
        .where(AccessGrant.state == "pending", User.department_id == department_id)
        .order_by(AccessGrant.id)
    ).scalars())


def wanted_of(grant: AccessGrant) -> dict:
    return json.loads(grant.requested_json) if grant.requested_json else {}


def describe(grant: AccessGrant) -> str:
    """One Chinese line for the approver: what the account would become."""
    if grant.kind == "password":
        return "重置登录密码（批准后新密码生效，原有登录全部结束）"
    w = wanted_of(grant)
    section = db.session.get(Section, w["section_id"]) if w.get("section_id") else None
    roles = "、".join(ROLE_NAMES.get(r, r) for r in w.get("roles", []))
    return f"角色：{roles}；科室：{section.full_name if section else '无'}；账号{'启用' if w.get('enabled') else '停用'}"


def decide(grant: AccessGrant, approver: User, approve: bool, note: str = "") -> None:
    if grant.state != "pending":
        raise GrantRefused("already_decided", "这项授权已经处理过。")
    if not approver.has_role(SUPERVISOR) or approver.department_id != grant.user.department_id:
        raise GrantRefused("not_supervisor_of_department", "只有该账号所在部门的局领导可以审批。")
    if approver.id == grant.user_id:
        raise GrantRefused("own_grant", "不能审批给自己的授权或自己的密码重置，请由另一位局领导审批。")
    if approver.id == grant.requested_by_id:
        raise GrantRefused("own_request", "不能审批自己提出的授权，请由另一位局领导审批。")
    grant.state = "approved" if approve else "declined"
    grant.decided_by_id = approver.id
    grant.decided_at = clock.now()
    grant.note = (note or "").strip()
    user = grant.user
    if approve:
        if grant.kind == "password":
            user.password_hash = grant.password_hash
            user.failed_logins = 0
            user.locked_until = None
            user.password_changed_at = clock.now()
            revoke_all(user.id, "password_changed")
        else:
            w = wanted_of(grant)
            before = sorted(user.roles)
            user.department_id = w["department_id"]
            user.section_id = w["section_id"]
            user.enabled = w["enabled"]
            user.set_roles(w["roles"])
            revoke_all(user.id, "admin_revoked")
            if before != sorted(w["roles"]):
                audit.record("role_change", objects={"user": user.id, "username": user.username,
                                                     "before": before, "after": sorted(w["roles"]),
                                                     "grant": grant.id})
    grant.password_hash = None  # applied or refused: the hash lives on in the account only
    db.session.flush()
    audit.record("access_grant_approved" if approve else "access_grant_declined",
                 objects={"grant": grant.id, "user": user.id, "username": user.username, "kind": grant.kind,
                          "requested_by": grant.requested_by.username})
