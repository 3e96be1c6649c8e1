"""Search and filter queries for the directory lists (Art 4, 5, 6, 19).

Every query is scoped to the signed-in user's department before any
filter is applied. The target list must stay fast over 100,000 entries:
a credit-code prefix becomes an index range on (department_id,
credit_code); a name search and every filter are evaluated inside the
covering index ix_target_search, which is already in list order, so
neither the page nor the count reads table rows. Search terms travel in
the query string, never in a URL path.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Optional

from sqlalchemy import Select, and_, func, or_, select

from .. import creditcode
from ..extensions import db
from ..listing import contains_text
from ..models import Conflict, Inspector, Matter, Section, Target
from ..models.directories import (
    CONFLICT_KINDS,
    INSPECTOR_STATUSES,
    MATTER_STATUSES,
    TARGET_STATUSES,
)

# A character above every character of a credit code in code-point order and
# in the usual collations: [prefix, prefix + "Z") is exactly "starts with prefix".
_CODE_UPPER_BOUND = "Z"


def _arg(args, name: str, allowed=None) -> str:
    value = args.get(name, "").strip()
    if allowed is not None and value not in allowed:
        return ""
    return value


def _id_arg(args, name: str) -> Optional[int]:
    value = args.get(name, "").strip()
    return int(value) if value.isdigit() else None


def code_prefix(q: str) -> Optional[str]:
    """The query as a credit-code prefix, or None if it reads as a name."""
    code = creditcode.normalise(q)
    if code and len(code) <= 18 and all(ch in creditcode.ALPHABET for ch in code) and any(
        ch.isdigit() for ch in code
    ):
        return code
    return None


def starts_with(column, prefix: str):
    # A plain range lets SQLite and PostgreSQL use the b-tree index, which a
    # LIKE 'prefix%' does not on either without special settings.
    return and_(column >= prefix, column < prefix + _CODE_UPPER_BOUND)


@dataclass
class Query:
    stmt: Select
    count: Select
    filtered: bool  # whether the person narrowed the list (for the empty message)
    ids: Optional[Select] = None  # the same rows as ids only, for listing.paginate_ids


# --- matters ---------------------------------------------------------------


@dataclass
class MatterFilters:
    q: str = ""
    section_id: Optional[int] = None
    status: str = ""

    @classmethod
    def from_args(cls, args) -> "MatterFilters":
        return cls(
            q=_arg(args, "q"),
            section_id=_id_arg(args, "section"),
            status=_arg(args, "status", MATTER_STATUSES),
        )


def matters(department_id: int, f: MatterFilters) -> Query:
    conditions: list[Any] = [Section.department_id == department_id]
    if f.q:
        conditions.append(
            or_(
                contains_text(Matter.code, f.q),
                contains_text(Matter.name, f.q),
            )
        )
    if f.section_id:
        conditions.append(Matter.section_id == f.section_id)
    if f.status:
        conditions.append(Matter.status == f.status)
    stmt = select(Matter).join(Section, Matter.section_id == Section.id).where(*conditions)
    count = select(func.count()).select_from(Matter).join(Section, Matter.section_id == Section.id)
    return Query(
        stmt=stmt.order_by(Matter.code),
        count=count.where(*conditions),
        filtered=bool(f.q or f.section_id or f.status),
    )


# --- inspectors ------------------------------------------------------------


@dataclass
class InspectorFilters:
    q: str = ""
    section_id: Optional[int] = None
    status: str = ""
    cert: str = ""  # valid / expired

    @classmethod
    def from_args(cls, args) -> "InspectorFilters":
        return cls(
            q=_arg(args, "q"),
            section_id=_id_arg(args, "section"),
            status=_arg(args, "status", INSPECTOR_STATUSES),
            cert=_arg(args, "cert", ("valid", "expired")),
        )


def inspectors(department_id: int, f: InspectorFilters, today: date) -> Query:
    conditions: list[Any] = [Inspector.department_id == department_id]
    if f.q:
        conditions.append(
            or_(
                contains_text(Inspector.name, f.q),
                contains_text(Inspector.staff_no, f.q),
                contains_text(Inspector.cert_no, f.q),
            )
        )
    if f.section_id:
        conditions.append(Inspector.section_id == f.section_id)
    if f.status:
        conditions.append(Inspector.status == f.status)
    if f.cert == "valid":
        conditions.append(Inspector.cert_expiry >= today)
    elif f.cert == "expired":
        conditions.append(Inspector.cert_expiry < today)
    return Query(
        stmt=select(Inspector).where(*conditions).order_by(Inspector.section_id, Inspector.staff_no),
        count=select(func.count()).select_from(Inspector).where(*conditions),
        filtered=bool(f.q or f.section_id or f.status or f.cert),
    )


# --- targets ---------------------------------------------------------------


@dataclass
class TargetFilters:
    q: str = ""
    township_id: Optional[int] = None
    industry: str = ""
    size: str = ""  # small / other
    status: str = ""
    special: str = ""  # yes / no

    @classmethod
    def from_args(cls, args) -> "TargetFilters":
        return cls(
            q=_arg(args, "q"),
            township_id=_id_arg(args, "township"),
            industry=_arg(args, "industry"),
            size=_arg(args, "size", ("small", "other")),
            status=_arg(args, "status", TARGET_STATUSES),
            special=_arg(args, "special", ("yes", "no")),
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.township_id or self.industry or self.size or self.status or self.special)


def targets(department_id: int, f: TargetFilters) -> Query:
    conditions: list[Any] = [Target.department_id == department_id]
    order = (Target.name, Target.id)
    prefix = code_prefix(f.q) if f.q else None
    if prefix:
        conditions.append(starts_with(Target.credit_code, prefix))
        order = (Target.credit_code,)
    elif f.q:
        conditions.append(contains_text(Target.name, f.q))
    if f.township_id:
        conditions.append(Target.township_id == f.township_id)
    if f.industry:
        conditions.append(Target.industry == f.industry)
    if f.size == "small":
        conditions.append(Target.is_small_micro.is_(True))
    elif f.size == "other":
        conditions.append(Target.is_small_micro.is_(False))
    if f.status:
        conditions.append(Target.status == f.status)
    if f.special == "yes":
        conditions.append(Target.special_clause())
    elif f.special == "no":
        conditions.append(~Target.special_clause())
    return Query(
        stmt=select(Target).where(*conditions).order_by(*order),
        count=select(func.count()).select_from(Target).where(*conditions),
        filtered=f.active,
        ids=select(Target.id).where(*conditions).order_by(*order),
    )


def load_targets(ids: list[int]) -> list[Target]:
    return list(db.session.execute(select(Target).where(Target.id.in_(ids))).scalars())


def industries(department_id: int) -> list[str]:
    """The industries used in the department's directory, for the filter menu.

    DISTINCT over the (department_id, industry) index lets SQLite skip from
    one value to the next instead of reading all 100,000 entries.
    """
    return list(
        db.session.execute(
            select(Target.industry)
            .distinct()
            .where(Target.department_id == department_id, Target.industry != "")
            .order_by(Target.industry)
        ).scalars()
    )


# --- conflicts -------------------------------------------------------------


@dataclass
class ConflictFilters:
    q: str = ""
    kind: str = ""

    @classmethod
    def from_args(cls, args) -> "ConflictFilters":
        return cls(q=_arg(args, "q"), kind=_arg(args, "kind", CONFLICT_KINDS))


def conflicts(department_id: int, f: ConflictFilters, only_user_id: Optional[int] = None) -> Query:
    conditions: list[Any] = [Inspector.department_id == department_id]
    if only_user_id is not None:
        conditions.append(Inspector.user_id == only_user_id)
    if f.q:
        prefix = code_prefix(f.q)
        if prefix:
            conditions.append(starts_with(Target.credit_code, prefix))
        else:
            conditions.append(
                or_(
                    contains_text(Inspector.name, f.q),
                    contains_text(Inspector.staff_no, f.q),
                    contains_text(Target.name, f.q),
                )
            )
    if f.kind:
        conditions.append(Conflict.kind == f.kind)

    def joined(s: Select) -> Select:
        return s.join(Inspector, Conflict.inspector_id == Inspector.id).join(
            Target, Conflict.target_id == Target.id
        )

    return Query(
        stmt=joined(select(Conflict)).where(*conditions).order_by(Conflict.declared_at.desc(), Conflict.id.desc()),
        count=joined(select(func.count()).select_from(Conflict)).where(*conditions),
        filtered=bool(f.q or f.kind),
    )
