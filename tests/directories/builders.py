"""Directory rows for tests, written straight to the database of the `app` fixture."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from ssj import creditcode
from ssj.directories.versions import apply_matter_changes
from ssj.extensions import db
from ssj.models import Conflict, Department, Inspector, Section, Target, Township, User


def code(n: int, prefix: str = "91411623MA") -> str:
    """A valid unified social credit code, distinct for each n."""
    body = f"{prefix}{n:07d}"
    return body + creditcode.check_character(body)


def section(code_: str) -> Section:
    return db.session.execute(select(Section).where(Section.code == code_)).scalar_one()


def department(code_: str) -> Department:
    return db.session.execute(select(Department).where(Department.code == code_)).scalar_one()


def user(username: str) -> User:
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def matter(app, code_: str = "JC-001", section_code: str = "JCDD", **over) -> int:
    with app.app_context():
        values = dict(
            code=code_, name="工资支付情况检查", legal_basis="《劳动保障监察条例》第十一条",
            content="支付劳动者工资情况\n执行最低工资标准情况", ratio_percent="2", frequency=3,
            method="onsite", section_id=section(section_code).id, status="active",
        )
        values.update(over)
        m, _ = apply_matter_changes(None, values, None, "create")
        db.session.commit()
        return m.id


def target(app, n: int, dept: str = "RSJ", **over) -> int:
    with app.app_context():
        values = dict(credit_code=code(n), name=f"商水县测试{n:03d}有限公司", industry="制造业")
        values.update(over)
        t = Target(department_id=department(dept).id, **values)
        db.session.add(t)
        db.session.commit()
        return t.id


def township(app, name: str, code_: str) -> int:
    with app.app_context():
        t = Township(code=code_, name=name)
        db.session.add(t)
        db.session.commit()
        return t.id


def inspector(app, staff_no: str, name: str, section_code: str = "JCDD", **over) -> int:
    with app.app_context():
        s = section(section_code)
        values = dict(
            staff_no=staff_no, name=name, department_id=s.department_id, section_id=s.id,
            cert_no=f"豫ZJ{staff_no}", cert_expiry=date.today() + timedelta(days=365),
        )
        values.update(over)
        i = Inspector(**values)
        db.session.add(i)
        db.session.commit()
        return i.id


def conflict(app, inspector_id: int, target_id: int, kind: str = "relative", reason: str = "配偶在该单位任职") -> int:
    with app.app_context():
        c = Conflict(inspector_id=inspector_id, target_id=target_id, kind=kind, reason=reason)
        db.session.add(c)
        db.session.commit()
        return c.id


def bureau_today(app) -> date:
    """Today in the bureau's time zone, which decides whether a certificate is valid."""
    from ssj import clock

    with app.app_context():
        return clock.today()
