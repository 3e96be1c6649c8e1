"""What the public may see of the directories (SPEC §6; Art 4, 5, 13).

Each public list selects exactly the columns named in its field list and
hands the templates plain dicts of those fields, so nothing else (staff
numbers, certificate expiry, status details, linked accounts, contact
details) can reach a public page by accident (CTFd's per-audience fields).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select

from ..listing import contains_text
from ..models import Department, Inspector, Matter, Section

# Art 4: the matter list is public with its name, basis, content, ratio and frequency.
PUBLIC_MATTER_FIELDS = (
    "code",
    "name",
    "legal_basis",
    "content",
    "ratio_percent",
    "frequency",
    "method",
    "section",
    "department",
    "updated_at",
)

# Art 5 / SPEC §2: the inspector directory is public with name, section and certificate number only.
PUBLIC_INSPECTOR_FIELDS = ("name", "section", "department", "cert_no")


def as_public(rows, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{name: getattr(row, name) for name in fields} for row in rows]


def matters(q: str) -> tuple[Select, Select]:
    """Active matters of every department: the 随机抽查事项清单 as published."""
    conditions: list[Any] = [Matter.status == "active"]
    if q:
        conditions.append(
            or_(contains_text(Matter.code, q), contains_text(Matter.name, q))
        )
    stmt = (
        select(
            Matter.code,
            Matter.name,
            Matter.legal_basis,
            Matter.content,
            Matter.ratio_percent,
            Matter.frequency,
            Matter.method,
            Section.name.label("section"),
            Department.name.label("department"),
            Matter.updated_at,
        )
        .join(Section, Matter.section_id == Section.id)
        .join(Department, Section.department_id == Department.id)
        .where(*conditions)
        .order_by(Department.code, Matter.code)
    )
    count = select(func.count()).select_from(Matter).where(*conditions)
    return stmt, count


def inspectors(q: str, today: date) -> tuple[Select, Select]:
    """Inspectors who can be sent today: in post, not left, with a valid certificate.

    An expired certificate is left out because the public list tells a
    citizen that this person may inspect them; it must not vouch for
    someone who currently may not.
    """
    conditions: list[Any] = [Inspector.status == "active", Inspector.cert_expiry >= today]
    if q:
        conditions.append(
            or_(contains_text(Inspector.name, q), contains_text(Inspector.cert_no, q))
        )
    stmt = (
        select(
            Inspector.name,
            Section.name.label("section"),
            Department.name.label("department"),
            Inspector.cert_no,
        )
        .join(Section, Inspector.section_id == Section.id)
        .join(Department, Inspector.department_id == Department.id)
        .where(*conditions)
        .order_by(Department.code, Section.code, Inspector.name, Inspector.cert_no)
    )
    count = select(func.count()).select_from(Inspector).where(*conditions)
    return stmt, count
