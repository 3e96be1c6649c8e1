"""A small world for draw ceremonies: targets with distinctive names, inspectors
linked to the test users, a task ready to draw; helpers that walk the ceremony
through its real routes."""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ssj.creditcode import check_character
from ssj.draws import algorithm as alg
from ssj.extensions import db
from ssj.models import (
    Assignment,
    Conflict,
    Department,
    DrawAttempt,
    Inspector,
    Section,
    Stratum,
    Target,
    Task,
    TaskPartner,
    User,
    UserRole,
)
from ssj.sealing.service import open_json
from tests.conftest import post
from tests.factories import PASSWORD

_serial = itertools.count(1)


def credit_code() -> str:
    n = next(_serial)
    body = f"91411623MA{n:07d}"
    return body + check_character(body)


def section(code: str) -> Section:
    return db.session.execute(select(Section).where(Section.code == code)).scalar_one()


def department(code: str) -> Department:
    return db.session.execute(select(Department).where(Department.code == code)).scalar_one()


def user(username: str) -> User:
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def add_user(username: str, roles: list[str], department_code: str, section_code: str | None) -> int:
    template = user("staff_jc")
    u = User(
        username=username,
        display_name=username,
        password_hash=template.password_hash,
        department_id=department(department_code).id,
        section_id=section(section_code).id if section_code else None,
    )
    u.role_rows = [UserRole(role=r) for r in roles]
    db.session.add(u)
    db.session.flush()
    return u.id


def add_inspector(staff_no: str, section_code: str, username: str | None = None, **over) -> Inspector:
    s = section(section_code)
    values = dict(
        staff_no=staff_no,
        name=f"检查员{staff_no}",
        department_id=s.department_id,
        section_id=s.id,
        cert_no=f"豫ZJ{staff_no}",
        cert_expiry=date.today() + timedelta(days=365),
        status="active",
        user_id=user(username).id if username else None,
    )
    values.update(over)
    i = Inspector(**values)
    db.session.add(i)
    db.session.flush()
    return i


@dataclass
class World:
    task_id: int
    targets: dict[str, str]  # credit code -> name
    target_ids: dict[str, int]  # credit code -> row id
    inspectors: dict[str, int]  # staff number -> Inspector.id
    extra: dict = field(default_factory=dict)


def build_world(
    app,
    *,
    n_targets: int = 12,
    ratio: str = "34",
    team_size: int = 2,
    cap: int | None = 4,
    jc_inspectors: int = 3,
    partner_inspectors: int = 0,
    tag: str = "甲",
    exclusion_days: int = 180,
    planned_start: date | None = None,
    section_code: str = "JCDD",
    organizer: str = "staff_jc",
) -> World:
    """Targets of RSJ, JCDD inspectors (JC01 is inspector_jc), a planned task organised by staff_jc.

    With 12 targets at 34 % (k = 5, ten places), three inspectors and a cap
    of 4, every inspector sits on at least two teams and none on all five.
    """
    with app.app_context():
        rsj = department("RSJ")
        targets, target_ids = {}, {}
        for n in range(n_targets):
            code = credit_code()
            name = f"商水县{tag}{n:03d}精密机械有限公司"
            t = Target(
                department_id=rsj.id,
                credit_code=code,
                name=name,
                industry="制造业",
                address=f"商水县城关乡{tag}人民路{n}号",
                legal_rep=f"法人{tag}{n}",
                contact=f"1390000{n:04d}",
            )
            db.session.add(t)
            db.session.flush()
            targets[code] = name
            target_ids[code] = t.id
        inspectors = {}
        for n in range(1, jc_inspectors + 1):
            staff_no = f"JC{n:02d}"
            i = add_inspector(staff_no, "JCDD", "inspector_jc" if n == 1 else None)
            inspectors[staff_no] = i.id
        for n in range(1, partner_inspectors + 1):
            staff_no = f"SC{n:02d}"
            i = add_inspector(staff_no, "ZFJC", "inspector_scj" if n == 1 else None)
            inspectors[staff_no] = i.id
        start = planned_start or date.today() + timedelta(days=10)
        task = Task(
            section_id=section(section_code).id,
            year=start.year,
            name=f"{tag}号工资支付专项抽查",
            status="planned",
            team_size=team_size,
            cap_per_inspector=cap,
            exclusion_days=exclusion_days,
            planned_start=start,
            planned_end=start + timedelta(days=30),
            publish_date=start + timedelta(days=60),
            organizer_id=user(organizer).id,
        )
        task.strata = [Stratum(position=0, name="一般对象", kind="general", ratio_percent=ratio)]
        if partner_inspectors:
            task.partners = [TaskPartner(department_id=department("SCJ").id)]
        db.session.add(task)
        db.session.commit()
        return World(task.id, targets, target_ids, inspectors)


@pytest.fixture
def world(app) -> World:
    # Four inspectors under a cap of 4: with only three, a fixed throw of the dice
    # could (about 1 in 81) leave the fifth team short, and a test meant to draw would not.
    return build_world(app, jc_inspectors=4)


# --- walking the ceremony through its routes ----------------------------------------------


def draw_url(task_id: int, step: str = "") -> str:
    return f"/tasks/{task_id}/draw" + (f"/{step}" if step else "")


def attempt_number(app, task_id: int) -> int:
    with app.app_context():
        return db.session.execute(
            select(DrawAttempt.number).where(DrawAttempt.task_id == task_id).order_by(DrawAttempt.number.desc())
        ).scalars().first()


def freeze(client, task_id: int):
    return post(client, draw_url(task_id, "freeze"), {"attempt": "new"})


def commit(client, app, task_id: int):
    return post(client, draw_url(task_id, "commit"), {"attempt": str(attempt_number(app, task_id))})


def witness(client, app, task_id: int, digits: str, *, username="discipline", password=PASSWORD):
    """A witness enters their own digits on the ceremony screen, confirming with their own password."""
    data = {"attempt": str(attempt_number(app, task_id)), "username": username, "password": password, "digits": digits}
    return post(client, draw_url(task_id, "witnesses"), data)


def own_witness(client, app, task_id: int, digits: str):
    """A witness signed in as themselves enters their digits on their own page."""
    return post(client, draw_url(task_id, "witness"), {"attempt": str(attempt_number(app, task_id)), "digits": digits})


def run(client, app, task_id: int):
    return post(client, draw_url(task_id, "run"), {"attempt": str(attempt_number(app, task_id))})


def sealed_nonce(app, task_id: int) -> str:
    with app.app_context():
        a = db.session.execute(
            select(DrawAttempt).where(DrawAttempt.task_id == task_id).order_by(DrawAttempt.number.desc())
        ).scalars().first()
        return open_json(task_id, "nonce", a.id, a.nonce_sealed)


def frozen_pools(app, task_id: int) -> dict:
    with app.app_context():
        a = db.session.execute(
            select(DrawAttempt).where(DrawAttempt.task_id == task_id).order_by(DrawAttempt.number.desc())
        ).scalars().first()
        return open_json(task_id, "pools", a.id, a.pools_sealed)


def entropy_such_that(app, task_id: int, wanted) -> str:
    """Dice digits for which the draw's teams satisfy `wanted(teams)`, found by trying.

    Tests only: it reads the sealed nonce, which is exactly what an insider
    with the keys could do (docs/draw-ceremony.md, "What it does not stop").
    """
    nonce_hex = sealed_nonce(app, task_id)
    pools = frozen_pools(app, task_id)
    strata = [alg.Stratum(s["name"], s["pool"], s["ratio"], s["count"]) for s in pools["strata"]]
    for n in range(10_000):
        digits = f"{n:020d}"
        try:
            result = alg.run_draw(
                strata, pools["inspectors"], alg.make_seed(nonce_hex, digits),
                pools["team_size"], pools["cap"], pools["conflicts"],
            )
        except alg.DrawError:
            continue
        if wanted(result.teams):
            return digits
    raise AssertionError("no entropy gives the wanted teams")


def jc01_on_some_not_all(teams) -> bool:
    on = sum(1 for t in teams if "JC01" in t.inspectors)
    return 0 < on < len(teams)


def full_draw(client, app, task_id: int, digits=jc01_on_some_not_all) -> None:
    """Freeze, commit, two witnesses (one external) entering their own digits, run: all through the routes.

    `digits` is the dice, or a condition on the teams for which dice are
    found (by default: the draw succeeds and inspector_jc, JC01, is on some
    teams but not all, so "sees only their own" is never vacuous).
    """
    for r in (freeze(client, task_id), commit(client, app, task_id)):
        assert r.status_code == 302, r.text
    if callable(digits):
        digits = entropy_such_that(app, task_id, digits)
    # A colleague of the section (not the one running the ceremony) and the
    # discipline office, each confirming with their own password.
    with app.app_context():
        operator = db.session.execute(
            select(User.username).join(DrawAttempt, DrawAttempt.operator_id == User.id)
            .where(DrawAttempt.task_id == task_id).order_by(DrawAttempt.number.desc())
        ).scalars().first()
    colleague = "head_jc" if operator != "head_jc" else "inspector_jc"
    r = witness(client, app, task_id, digits[:10], username=colleague)
    assert r.status_code == 302, r.text
    assert witness(client, app, task_id, digits[10:]).status_code == 302
    r = run(client, app, task_id)
    assert r.status_code == 302, r.text


def drawn_codes(app, task_id: int) -> list[str]:
    """The selected credit codes, decrypted in the test (never through a page)."""
    with app.app_context():
        a = db.session.execute(
            select(DrawAttempt).where(DrawAttempt.task_id == task_id, DrawAttempt.state == "sealed")
        ).scalar_one()
        result = open_json(task_id, "result", a.id, a.result_sealed)
        return [t["target"] for t in result["teams"]]


def teams_by_code(app, task_id: int) -> dict[str, list[str]]:
    with app.app_context():
        a = db.session.execute(
            select(DrawAttempt).where(DrawAttempt.task_id == task_id, DrawAttempt.state == "sealed")
        ).scalar_one()
        result = open_json(task_id, "result", a.id, a.result_sealed)
        return {t["target"]: t["inspectors"] for t in result["teams"]}


def active_assignments(app, task_id: int) -> list[tuple[int, str]]:
    """(position, staff number) of the task's active assignments."""
    with app.app_context():
        rows = db.session.execute(
            select(Assignment.position, Inspector.staff_no)
            .join(Inspector, Assignment.inspector_id == Inspector.id)
            .where(Assignment.task_id == task_id, Assignment.active.is_(True))
            .order_by(Assignment.position, Inspector.staff_no)
        ).all()
        return [tuple(r) for r in rows]


def add_conflict(app, staff_no: str, code: str) -> None:
    with app.app_context():
        i = db.session.execute(select(Inspector).where(Inspector.staff_no == staff_no)).scalar_one()
        t = db.session.execute(select(Target).where(Target.credit_code == code)).scalar_one()
        db.session.add(Conflict(inspector_id=i.id, target_id=t.id, kind="relative", reason="近亲属"))
        db.session.commit()


def text_of(html: str) -> str:
    """The visible text of a page, roughly: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
