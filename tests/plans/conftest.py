"""A small directory for plan and task tests: matters of two sections, townships,
targets of known strata and inspectors of known eligibility, in real SQLite."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ssj.creditcode import ALPHABET, check_character
from ssj.extensions import db
from ssj.models import Department, Inspector, Matter, Section, Target, Township, User, UserRole

_serial = itertools.count(1)


def credit_code() -> str:
    """A fresh code with a valid GB 32100-2015 check character."""
    n = next(_serial)
    org = ""
    for _ in range(9):
        n, d = divmod(n, 31)
        org = ALPHABET[d] + org
    body = "91411623" + org
    return body + check_character(body)


def section(code: str) -> Section:
    return db.session.execute(select(Section).where(Section.code == code)).scalar_one()


def department(code: str) -> Department:
    return db.session.execute(select(Department).where(Department.code == code)).scalar_one()


def add_targets(department_code: str, n: int, **fields) -> list[str]:
    dept = department(department_code)
    codes = [credit_code() for _ in range(n)]
    for code in codes:
        db.session.add(Target(department_id=dept.id, credit_code=code, name=f"单位{code[-6:]}", **fields))
    db.session.flush()
    return codes


def add_inspector(department_code: str, section_code: str, staff_no: str, *, status="active", expires_in_days=365):
    db.session.add(
        Inspector(
            staff_no=staff_no,
            name=f"检查员{staff_no}",
            department_id=department(department_code).id,
            section_id=section(section_code).id,
            cert_no=f"CERT-{staff_no}",
            cert_expiry=date.today() + timedelta(days=expires_in_days),
            status=status,
        )
    )
    db.session.flush()


def add_user(username: str, roles: list[str], department_code: str, section_code: str | None) -> None:
    template = db.session.execute(select(User).where(User.username == "staff_jc")).scalar_one()
    user = User(
        username=username,
        display_name=username,
        password_hash=template.password_hash,
        department_id=department(department_code).id,
        section_id=section(section_code).id if section_code else None,
    )
    user.role_rows = [UserRole(role=r) for r in roles]
    db.session.add(user)
    db.session.flush()


@pytest.fixture
def matters(app) -> dict[str, int]:
    """JC-001, JC-002 (JCDD, active), JC-009 (JCDD, suspended), SB-001 (SBG, active)."""
    with app.app_context():
        made = {}
        for code, sec, status, ratio, freq in [
            ("JC-001", "JCDD", "active", "1", 3),
            ("JC-002", "JCDD", "active", "2", 4),
            ("JC-009", "JCDD", "suspended", "1", 3),
            ("SB-001", "SBG", "active", "1", 3),
        ]:
            m = Matter(
                code=code, name=f"事项{code}", legal_basis="《劳动保障监察条例》", content="劳动合同签订情况",
                ratio_percent=ratio, frequency=freq, method="onsite", section_id=section(sec).id, status=status,
            )
            db.session.add(m)
            db.session.flush()
            made[code] = m.id
        db.session.add_all([Township(code="T01", name="城关乡"), Township(code="T02", name="固墙镇")])
        db.session.commit()
        return made


def this_year(app) -> int:
    from ssj import clock

    with app.test_request_context():
        return clock.today().year
