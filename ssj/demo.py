"""The demo county 商水县: a realistic, repeatable data set for trying ssj.

`flask --app app demo` loads it: the bureau and two partner departments for
joint inspections (Art 11), their sections and one account per role, the
matter list with real legal bases (Art 4), about forty inspectors with
certificates (Art 5), a few declared conflicts of interest (Art 5), and
thousands of employers spread over every township (Art 6, 19).

Every choice comes from `random.Random` with a fixed seed, so the demo is
the same every time, and the first N employers of a bigger load are the N
employers of a smaller one. Certificate expiry dates are the exception:
they are set relative to today, so that "mostly valid, a few expired" stays
true whenever the demo is loaded. Loading is idempotent: whatever already
exists (matched by its natural key) is kept, so a second run adds nothing.
"""
from __future__ import annotations

import random
from bisect import bisect
from datetime import timedelta
from itertools import accumulate
from typing import Any, Iterator, NamedTuple, Optional

from sqlalchemy import insert, select

from . import clock
from . import audit
from .auth.passwords import hash_password
from .auth.roles import ADMIN, DISCIPLINE, INSPECTOR, ROLE_NAMES, SECTION_HEAD, STAFF, SUPERVISOR
from .creditcode import ALPHABET, check_character
from .demo_data import DEMO_PASSWORD, businesses, county, names
from .demo_data.matters import MATTERS
from .demo_lifecycle import load_lifecycle
from .directories.versions import apply_matter_changes
from .extensions import db
from .models import Conflict, Department, Inspector, Matter, Section, Target, Township, User
from .training.service import load_demo_training


# Bulk inserts go in batches so that 100,000 employers never sit in memory at once.
_BATCH = 5000


class DemoDepartment(NamedTuple):
    code: str
    name: str
    short: str  # how colleagues name it: 人社局
    cert_code: str  # digits after the region code in its certificate numbers


class DemoSection(NamedTuple):
    department: str
    code: str
    name: str
    inspectors: int  # how many certified inspectors work there
    staff_prefix: Optional[str]  # middle part of staff numbers, SS-JC-001


class DemoUser(NamedTuple):
    username: str
    display_name: str
    role: str
    department: str
    section: str
    staff_no: Optional[str] = None  # the Inspector row this account works as


DEPARTMENTS = [
    DemoDepartment("RSJ", "商水县人力资源和社会保障局", "人社局", "00"),
    DemoDepartment("SCJ", "商水县市场监督管理局", "市场监管局", "01"),
    DemoDepartment("YBJ", "商水县医疗保障局", "医保局", "02"),
]

SECTIONS = [
    DemoSection("RSJ", "JCDD", "劳动保障监察大队", 14, "JC"),
    DemoSection("RSJ", "SBG", "社会保险股", 6, "SB"),
    DemoSection("RSJ", "JYZX", "就业促进中心", 4, "JY"),
    DemoSection("RSJ", "LDGX", "劳动关系股", 4, "LD"),
    DemoSection("RSJ", "RLSC", "人力资源市场股", 3, "RL"),
    DemoSection("RSJ", "ZYNL", "职业能力建设股", 3, "ZY"),
    DemoSection("RSJ", "JJ", "纪检监察室", 0, None),
    DemoSection("RSJ", "BGS", "办公室", 0, None),
    DemoSection("SCJ", "ZFJC", "执法稽查科", 5, "ZF"),
    DemoSection("YBJ", "YBJG", "基金监管股", 2, "YB"),
]

# In the order a visitor would try them: the cast of one draw in the
# 监察大队 first, then the other sections, then the partner department.
USERS = [
    DemoUser("jc_staff", "李娜", STAFF, "RSJ", "JCDD"),
    DemoUser("jc_head", "张伟", SECTION_HEAD, "RSJ", "JCDD"),
    DemoUser("leader", "孙国强", SUPERVISOR, "RSJ", "BGS"),
    DemoUser("jc_insp1", "刘洋", INSPECTOR, "RSJ", "JCDD", "SS-JC-001"),
    DemoUser("jc_insp2", "陈静", INSPECTOR, "RSJ", "JCDD", "SS-JC-002"),
    DemoUser("jijian", "周敏", DISCIPLINE, "RSJ", "JJ"),
    DemoUser("admin", "赵磊", ADMIN, "RSJ", "BGS"),
    DemoUser("sb_staff", "王芳", STAFF, "RSJ", "SBG"),
    DemoUser("sb_head", "杨帆", SECTION_HEAD, "RSJ", "SBG"),
    DemoUser("sb_insp1", "黄晓东", INSPECTOR, "RSJ", "SBG", "SS-SB-001"),
    DemoUser("jy_staff", "吴婷", STAFF, "RSJ", "JYZX"),
    DemoUser("jy_head", "郑海涛", SECTION_HEAD, "RSJ", "JYZX"),
    DemoUser("ld_staff", "马丽", STAFF, "RSJ", "LDGX"),
    DemoUser("ld_head", "韩超", SECTION_HEAD, "RSJ", "LDGX"),
    DemoUser("rl_staff", "朱琳", STAFF, "RSJ", "RLSC"),
    DemoUser("rl_head", "胡志强", SECTION_HEAD, "RSJ", "RLSC"),
    DemoUser("zy_staff", "郭佳", STAFF, "RSJ", "ZYNL"),
    DemoUser("zy_head", "何建军", SECTION_HEAD, "RSJ", "ZYNL"),
    DemoUser("scj_staff", "宋雪", STAFF, "SCJ", "ZFJC"),
    DemoUser("scj_head", "高鹏", SECTION_HEAD, "SCJ", "ZFJC"),
    DemoUser("scj_insp", "许明", INSPECTOR, "SCJ", "ZFJC", "SS-ZF-001"),
]

# Inspectors who cannot be drawn, so that the eligibility rule (SPEC §2:
# active and holding a valid certificate) has something to exclude:
# staff number -> (status, days from today to certificate expiry).
UNAVAILABLE_INSPECTORS = {
    "SS-JC-009": ("active", -213),
    "SS-SB-005": ("active", -41),
    "SS-JY-004": ("active", -402),
    "SS-ZF-005": ("active", -16),
    "SS-JC-011": ("leave", 530),
    "SS-LD-003": ("leave", 288),
    "SS-JC-014": ("left", 610),
    "SS-RL-003": ("left", -95),
}
# Still valid, but soon not: the to-do page should warn about these.
EXPIRING_SOON = {"SS-JC-006": 19, "SS-ZY-002": 27}

# Declared conflicts (Art 5 回避): staff number, kind, reason, declared by.
# {legal_rep} is filled in with the drawn-for employer's legal representative.
CONFLICTS = [
    ("SS-JC-001", "relative", "该单位法定代表人{legal_rep}系本人配偶的兄弟。", "jc_insp1"),
    ("SS-JC-002", "former_employer", "2016年3月至2019年8月曾在该单位从事人事管理工作。", "jc_insp2"),
    ("SS-JC-004", "other", "本人配偶持有该单位股份。", "jc_staff"),
    ("SS-JC-007", "relative", "本人之子在该单位担任会计。", "jc_staff"),
    ("SS-SB-001", "former_employer", "2012年至2015年曾在该单位担任财务人员。", "sb_insp1"),
    ("SS-SB-003", "other", "与该单位法定代表人{legal_rep}存在尚未了结的民间借贷纠纷。", "sb_staff"),
]

# The content items of SPEC §2 every HRSS inspector is trained for.
HRSS_TOPICS = [
    "劳动合同", "劳务派遣", "禁止使用童工", "女职工和未成年工特殊劳动保护",
    "工作时间和休息休假", "工资支付和最低工资", "社会保险",
]


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, Chinese role name, where they work) for every demo account."""
    depts = {d.code: d for d in DEPARTMENTS}
    secs = {s.code: s for s in SECTIONS}
    return [
        (u.username, ROLE_NAMES[u.role], f"{depts[u.department].short}·{secs[u.section].name}")
        for u in USERS
    ]


# ---------------------------------------------------------------- generators
# Pure functions of a Random: no database, so they can be tested and timed alone.

_SURNAME_CUM = list(accumulate(1 / (i + 1) ** 0.8 for i in range(len(names.SURNAMES))))
_TOWN_NAMES = [name for _code, name, _w in county.TOWNSHIPS]
_TOWN_CUM = list(accumulate(w for _c, _n, w in county.TOWNSHIPS))
_KIND_CUM = list(accumulate(k["weight"] for k in businesses.KINDS))
# The 9-character organisation code inside a credit code uses the credit
# code's alphabet; its own check character follows GB 11714.
_ORG_VALUE = {ch: int(ch, 36) for ch in ALPHABET}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                    "152", "155", "156", "157", "158", "159", "166", "176", "177", "180", "181",
                    "182", "183", "185", "186", "187", "188", "189", "199"]


def _pick(rng: random.Random, items, cum_weights):
    # random.choices for one item, without its per-call overhead (called
    # several times per employer, 100,000 employers for the benchmarks).
    return items[bisect(cum_weights, rng.random() * cum_weights[-1])]


def _chars(rng: random.Random, k: int) -> str:
    """k characters of the credit-code alphabet from one random number."""
    n = rng.randrange(31**k)
    out = []
    for _ in range(k):
        n, r = divmod(n, 31)
        out.append(ALPHABET[r])
    return "".join(out)


def person(rng: random.Random) -> tuple[str, str]:
    """A (surname, given name) pair with a plausible frequency of surnames."""
    surname = _pick(rng, names.SURNAMES, _SURNAME_CUM)
    if rng.random() < 0.4:
        given = rng.choice(names.GIVEN_SINGLE)
    else:
        given = rng.choice(names.GIVEN_FIRST) + rng.choice(names.GIVEN_SECOND)
    return surname, given


def phone(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return f"0394-54{rng.randrange(100000):05d}"  # a landline in the county
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"


def _org_check(body8: str) -> str:
    """GB 11714 check character of an organisation code's first 8 characters."""
    total = sum(_ORG_VALUE[ch] * w for ch, w in zip(body8, _ORG_WEIGHTS))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def credit_code(rng: random.Random, prefix: str, seen: set[str]) -> str:
    """A valid, not yet used unified social credit code for this county.

    Units registered since 2015 got organisation codes beginning MA (市场监管)
    or MJ (民政); older companies kept their numeric code.
    """
    while True:
        if prefix.startswith("5"):
            body = "MJ" + _chars(rng, 6)
        elif prefix == businesses.ENTERPRISE and rng.random() < 0.35:
            body = f"{rng.randrange(10_000_000, 80_000_000):08d}"
        else:
            body = "MA" + rng.choice("349") + _chars(rng, 5)
        first17 = prefix + county.REGION_CODE + body + _org_check(body)
        if first17 not in seen:
            seen.add(first17)
            return first17 + check_character(first17)


def _villages(town_code: str) -> list[str]:
    # Each township has its own fixed villages, so addresses repeat the way real ones do.
    rng = random.Random(f"ssj-demo|villages|{town_code}")
    out: list[str] = []
    while len(out) < 14:
        v = rng.choice(county.VILLAGE_SURNAMES) + rng.choice(county.VILLAGE_SUFFIXES) + "村"
        if v not in out:
            out.append(v)
    return out


_VILLAGES = {name: _villages(code) for code, name, _w in county.TOWNSHIPS}


def address(rng: random.Random, town: str) -> str:
    prefix = county.COUNTY + town
    if town.endswith("街道") or town == "城关乡":
        road = rng.choice(county.TOWN_SEAT_ROADS)
        if rng.random() < 0.2:
            road += rng.choice("东西南北") + "段"
        return f"{prefix}{road}{rng.randint(1, 399)}号"
    if rng.random() < 0.5:
        return f"{prefix}{rng.choice(county.TOWNSHIP_ROADS)}{rng.randint(1, 199)}号"
    return f"{prefix}{rng.choice(_VILLAGES[town])}{rng.randint(1, 12)}组"


def _trade_name(rng: random.Random, attempt: int) -> str:
    if attempt < 10 and rng.random() < 0.75:
        return rng.choice(names.TRADE_NAMES)
    # Later attempts use rarer three-character names, as latecomers to a
    # crowded register do; this keeps names unique at 100,000 employers.
    return "".join(rng.sample(names.TRADE_CHARS, 2 if attempt < 10 else 3))


def _unit_name(rng: random.Random, town: str, owner: tuple[str, str], seen: set[str]) -> tuple[dict, str]:
    surname, given = owner
    for attempt in range(200):
        kind = _pick(rng, businesses.KINDS, _KIND_CUM)
        form = rng.choice(kind["forms"])
        name = form.format(
            trade=_trade_name(rng, attempt),
            word=rng.choice(kind["words"]),
            town=town,
            surname=surname,
            # A shop named after its owner uses the full name when the given
            # name is one character ("罗超五金店", not "超五金店").
            given=given if len(given) > 1 else surname + given,
        )
        if name not in seen:
            seen.add(name)
            return kind, name
    # Unreachable in practice (see _trade_name), but a loader must never hang.
    name = f"{name}{len(seen)}号"
    seen.add(name)
    return kind, name


def _special_facts(rng: random.Random) -> tuple[int, bool, str]:
    """Complaint count, serious-violation record and credit grade (Art 7)."""
    r = rng.random()
    complaints = 0 if r < 0.85 else 1 if r < 0.93 else 2 if r < 0.97 else rng.randint(3, 7)
    serious = rng.random() < 0.015
    if serious:
        grade = "D" if rng.random() < 0.6 else "C"
    else:
        g = rng.random()
        grade = "A" if g < 0.72 else "B" if g < 0.96 else "C" if g < 0.99 else "D"
    return complaints, serious, grade


def generate_targets(count: int) -> Iterator[dict[str, Any]]:
    """`count` employers of the county, always the same ones in the same order.

    Rows carry the township's name under "township"; codes and names are unique.
    """
    rng = random.Random("ssj-demo|targets")
    codes: set[str] = set()
    unit_names: set[str] = set()
    for _ in range(count):
        town = _pick(rng, _TOWN_NAMES, _TOWN_CUM)
        owner = person(rng)
        kind, name = _unit_name(rng, town, owner, unit_names)
        complaints, serious, grade = _special_facts(rng)
        s = rng.random()
        status = "operating" if s < 0.925 else "cancelled" if s < 0.965 else "revoked" if s < 0.985 else "moved"
        yield {
            "credit_code": credit_code(rng, kind["prefix"], codes),
            "name": name,
            "industry": kind["industry"],
            "is_small_micro": rng.random() * 100 < kind["small_percent"],
            "township": town,
            "address": address(rng, town),
            "legal_rep": owner[0] + owner[1],
            "contact": phone(rng),
            "status": status,
            "complaint_count": complaints,
            "serious_violation": serious,
            "credit_grade": grade,
        }


# ------------------------------------------------------------------- loading


def load_demo(target_count: int = 3000) -> dict[str, int]:
    """Add the demo county (the caller commits; the life-cycle tasks commit as they go); return what was added."""
    added: dict[str, int] = {}
    depts = _load_departments(added)
    sections = _load_sections(depts, added)
    townships = _load_townships(added)
    users = _load_users(depts, sections, added)
    _load_matters(sections, added)
    inspectors = _load_inspectors(depts, sections, users, added)
    picks = _load_targets(depts["RSJ"], townships, target_count, added)
    _load_conflicts(depts["RSJ"], inspectors, users, picks, added)
    load_demo_training()  # Art 15 training sessions, so the dashboard has something to show
    added.update(load_lifecycle())  # tasks in every stage, each committed as it is done
    audit.record("demo_loaded", objects=added, username="cli")
    db.session.flush()
    return added


def _get_or_add(model, key: str, value, make, added: dict[str, int], counter: str):
    obj = db.session.execute(select(model).where(getattr(model, key) == value)).scalar_one_or_none()
    if obj is None:
        obj = make()
        db.session.add(obj)
        added[counter] = added.get(counter, 0) + 1
    return obj


def _load_departments(added) -> dict[str, Department]:
    return {
        d.code: _get_or_add(Department, "code", d.code, lambda d=d: Department(code=d.code, name=d.name),
                            added, "departments")
        for d in DEPARTMENTS
    }


def _load_sections(depts, added) -> dict[str, Section]:
    out = {}
    for s in SECTIONS:
        out[s.code] = _get_or_add(
            Section, "code", s.code,
            lambda s=s: Section(department=depts[s.department], code=s.code, name=s.name),
            added, "sections",
        )
    db.session.flush()
    return out


def _load_townships(added) -> dict[str, int]:
    for code, name, _w in county.TOWNSHIPS:
        _get_or_add(Township, "name", name, lambda c=code, n=name: Township(code=c, name=n), added, "townships")
    db.session.flush()
    return dict(db.session.execute(select(Township.name, Township.id)).all())


def _load_users(depts, sections, added) -> dict[str, User]:
    hashed: Optional[str] = None  # argon2 is slow on purpose: hash once, share it
    out = {}
    for u in USERS:
        user = db.session.execute(select(User).where(User.username == u.username)).scalar_one_or_none()
        if user is None:
            hashed = hashed or hash_password(DEMO_PASSWORD)
            user = User(
                username=u.username,
                display_name=u.display_name,
                password_hash=hashed,
                department=depts[u.department],
                section=sections[u.section],
            )
            user.set_roles([u.role])
            db.session.add(user)
            added["users"] = added.get("users", 0) + 1
        out[u.username] = user
    db.session.flush()
    return out


def _load_matters(sections, added) -> None:
    existing = set(db.session.scalars(select(Matter.code)))
    for m in MATTERS:
        if m["code"] in existing:
            continue
        values = {
            "code": m["code"],
            "name": m["name"],
            "legal_basis": m["legal_basis"],
            "content": "\n".join(m["content"]),
            "documents": "\n".join(m["documents"]),
            "ratio_percent": m["ratio"],
            "frequency": m["frequency"],
            "method": m["method"],
            "section_id": sections[m["section"]].id,
            "status": "active",
        }
        apply_matter_changes(None, values, user=None, kind="create")
        added["matters"] = added.get("matters", 0) + 1


def _specialties(rng: random.Random, section: DemoSection) -> str:
    own = list(dict.fromkeys(m["topic"] for m in MATTERS if m["section"] == section.code))
    wider = HRSS_TOPICS if section.department == "RSJ" else own
    chosen = [rng.choice(own)]
    for topic in rng.sample(wider, min(len(wider), rng.randint(1, 3))):
        if topic not in chosen:
            chosen.append(topic)
    return "、".join(chosen)


def _load_inspectors(depts, sections, users, added) -> dict[str, Inspector]:
    rng = random.Random("ssj-demo|inspectors")
    today = clock.today()
    by_staff_no = {u.staff_no: users[u.username] for u in USERS if u.staff_no}
    existing = {i.staff_no: i for i in db.session.scalars(select(Inspector))}
    taken_names = {u.display_name for u in USERS}
    cert_seq = {d.code: 0 for d in DEPARTMENTS}
    dept_info = {d.code: d for d in DEPARTMENTS}
    out: dict[str, Inspector] = {}
    for sec in SECTIONS:
        for n in range(1, sec.inspectors + 1):
            staff_no = f"SS-{sec.staff_prefix}-{n:03d}"
            cert_seq[sec.department] += 1
            # Draw everything even for rows that exist, so the others stay the same.
            name = "".join(person(rng))
            while name in taken_names:
                name = "".join(person(rng))
            taken_names.add(name)
            specialties = _specialties(rng, sec)
            days = rng.randint(150, 1500)
            if staff_no in existing:
                out[staff_no] = existing[staff_no]
                continue
            status, days = UNAVAILABLE_INSPECTORS.get(staff_no, ("active", EXPIRING_SOON.get(staff_no, days)))
            user = by_staff_no.get(staff_no)
            dept = dept_info[sec.department]
            inspector = Inspector(
                staff_no=staff_no,
                name=user.display_name if user is not None else name,
                department=depts[sec.department],
                section=sections[sec.code],
                cert_no=f"豫周执字第{county.REGION_CODE}{dept.cert_code}{cert_seq[sec.department]:03d}号",
                cert_expiry=today + timedelta(days=days),
                specialties=specialties,
                status=status,
                user=user,
            )
            db.session.add(inspector)
            out[staff_no] = inspector
            added["inspectors"] = added.get("inspectors", 0) + 1
    db.session.flush()
    return out


def _load_targets(dept: Department, townships: dict[str, int], count: int, added) -> list[dict]:
    """Insert the employers in bulk; return the first few hundred for the conflicts."""
    existing = set(db.session.scalars(select(Target.credit_code).where(Target.department_id == dept.id)))
    now = clock.now()
    picks: list[dict] = []
    batch: list[dict] = []
    new = 0
    for row in generate_targets(count):
        if len(picks) < 300:
            picks.append(row)
        if row["credit_code"] in existing:
            continue
        values = dict(row, department_id=dept.id, township_id=townships[row["township"]], updated_at=now)
        del values["township"]
        batch.append(values)
        if len(batch) >= _BATCH:
            db.session.execute(insert(Target), batch)
            new += len(batch)
            batch = []
    if batch:
        db.session.execute(insert(Target), batch)
        new += len(batch)
    if new:
        added["targets"] = new
    return picks


def _load_conflicts(dept, inspectors, users, picks, added) -> None:
    rng = random.Random("ssj-demo|conflicts")
    candidates = [p for p in picks if p["status"] == "operating"]
    if len(candidates) < len(CONFLICTS):
        return
    chosen = rng.sample(candidates, len(CONFLICTS))
    codes = [p["credit_code"] for p in chosen]
    target_ids = dict(
        db.session.execute(
            select(Target.credit_code, Target.id).where(
                Target.department_id == dept.id, Target.credit_code.in_(codes)
            )
        ).all()
    )
    for (staff_no, kind, reason, declared_by), target in zip(CONFLICTS, chosen):
        inspector = inspectors[staff_no]
        target_id = target_ids[target["credit_code"]]
        exists = db.session.execute(
            select(Conflict.id).where(Conflict.inspector_id == inspector.id, Conflict.target_id == target_id)
        ).first()
        if exists:
            continue
        db.session.add(
            Conflict(
                inspector_id=inspector.id,
                target_id=target_id,
                kind=kind,
                reason=reason.format(legal_rep=target["legal_rep"]),
                declared_by_id=users[declared_by].id,
            )
        )
        added["conflicts"] = added.get("conflicts", 0) + 1
    db.session.flush()
