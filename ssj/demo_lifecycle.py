"""The demo county's random inspections in every stage of their life cycle (Art 5–13, 18).

`flask --app app demo` calls `load_lifecycle` after the directories are in
place, so that a newcomer finds, in the 劳动保障监察大队 of the demo bureau,
one task at each stage a user meets: planned for next month (待办: 组织摇号),
drawn with the inspection still ahead, being inspected with a report
overdue, reported, waiting for a leader's approval to publish, and published
with its results notice and verification bundle on the public pages. Every
stage stands on approved annual plans of the tasks' years (Art 7, 18), and
one task is outside the plan with its written reason (Art 18).

Nothing here writes a sealed row itself. Each step is taken by the app's
own service functions, acting as the demo user whose job it is (the staff
member plans and draws with a witness from the discipline office, the
drawn inspectors record and upload evidence, the staff member drafts the
final report, the section head approves it, the organizer asks for
publication and the leader approves it with their password), so every rule
the app enforces holds for the demo too, and the access log says who did
what. Dates are set relative to today so the rules that need a date to
have passed (publish date, report due) hold genuinely whenever the demo is
loaded; the inspection dates in records are entered values in the past.

The dice come from a seeded `random.Random`, so the demo is the same every
time except for what the draw itself makes secret: the server's nonce is
fresh at every ceremony, so which employers are drawn differs from one
load to the next, exactly as it would in the bureau.
"""
from __future__ import annotations

import random
import struct
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterator, Optional

from flask import current_app
from flask_login import login_user, logout_user
from sqlalchemy import func, select

from . import clock
from .auth.passwords import hash_password
from .auth.roles import INSPECTOR
from .auth.sessions import start_session
from .ceremony import service as ceremony
from .ceremony.forms import DigitsForm
from .demo_data import DEMO_PASSWORD
from .plans.forms import earliest_publish_date
from .extensions import db
from .inspections import evidence, followup, reports
from .inspections import service as inspections
from .models import AnnualPlan, Assignment, Inspector, Matter, Task, Township, User
from .plans import service as plans
from .plans.forms import PlanForm, StratumInput, TaskForm
from .publication import service as publication

# Who does the section's work in the demo: (staff member, section head) by section code.
SECTION_PEOPLE = {"JCDD": ("jc_staff", "jc_head"), "SBG": ("sb_staff", "sb_head")}
LEADER_USER, WITNESS_USER = "leader", "jijian"

# The matter left out of the 监察大队's plan, on which the out-of-plan task runs (Art 18).
UNPLANNED_MATTER = "RS-JC-002"
UNPLANNED_REASON = "本年度劳务派遣用工检查由市人社局统一部署，县局不单独安排轮次。"


@dataclass(frozen=True)
class Outcome:
    """What the team found at one position, and what followed (Art 8, 10)."""

    result: str
    handling: str = "none"
    findings: str = "查阅了单位的规章制度、劳动合同、职工花名册、考勤记录和工资支付凭证，抽询职工 3 名，未发现违法违规问题。"
    evaluation: str = "该单位用工管理基本规范，劳动保障法律法规执行情况良好。"
    detail: str = ""
    # Follow-up (Art 10): "rechecked" closes the order, "overdue" leaves it open past its deadline.
    followup: str = ""


CLEAN = Outcome("未发现问题")


@dataclass(frozen=True)
class TaskSpec:
    stage: str  # the TASK_STATUSES key the task is left in
    section: str
    title: str  # "{year}" is filled in
    matters: tuple[str, ...]
    township: str
    start: int  # days from today
    end: int
    publish: int
    special_ratio: str = "10"
    out_of_plan_reason: str = ""
    outcomes: tuple[Outcome, ...] = ()
    report_text: str = ""
    recusal: bool = False  # an inspector declares a conflict after the draw (Art 5)
    general_ratio: str = ""  # blank: the approved plan's ratio
    # A redraw (Art 9): the first attempt is drawn, then voided with this reason
    # and the leader's approval; the published bundle carries both attempts.
    void_reason: str = ""
    method: str = "onsite"  # Art 8: 现场检查 or 书面检查


WAGES_PROBLEM = Outcome(
    "发现问题已责令改正", "rectify",
    findings="该单位 2 名职工上月工资低于本地最低工资标准，另有 5 名职工延时加班未支付加班工资，合计少支付 6,820 元。",
    evaluation="该单位违反《最低工资规定》第十二条和《中华人民共和国劳动法》第四十四条。",
    detail="下达《劳动保障监察责令改正指令书》，责令补发工资差额及加班工资。",
    followup="rechecked",
)
WAGES_OVERDUE = Outcome(
    "发现问题已责令改正", "rectify",
    findings="该单位未按月支付 11 名职工工资，最长拖欠 2 个月，未能提供工资支付台账。",
    evaluation="该单位违反《保障农民工工资支付条例》第十一条、第五十条。",
    detail="下达《劳动保障监察责令改正指令书》，责令限期支付拖欠工资并建立工资支付台账。",
    followup="overdue",
)
WAGES_PENALTY = Outcome(
    "发现问题待后续处理（立案查处）", "penalty",
    findings="该单位去年被责令改正的克扣工资问题再次出现，且拒不提供考勤记录，已立案调查。",
    evaluation="该单位违反《劳动保障监察条例》第三十条，经立案查处作出行政处罚。",
    detail="依据《劳动保障监察条例》第二十六条、第三十条作出行政处罚，并责令支付拖欠工资。",
)
WAGES_ADVICE = Outcome(
    "未发现问题", "advice",
    findings="未发现违法行为；工资支付制度未经职工代表大会讨论，工资条未列明加班工资项目。",
    evaluation="该单位工资支付行为合法，但工资支付制度的制定程序和工资清单内容有待完善。",
    detail="发出《劳动保障监察建议书》，建议依法履行民主程序并完善工资清单。",
)
UNREACHABLE = Outcome(
    "通过登记的住所（经营场所）无法联系",
    findings="按登记住所实地核查，该地址已由其他商户经营，登记的联系电话无法接通。",
    evaluation="无法对该单位开展检查，建议市场监管部门依法标注为通过登记的住所无法联系。",
)
CONTRACT_PROBLEM = Outcome(
    "发现问题已责令改正", "rectify",
    findings="该单位 4 名职工入职超过一个月未签订书面劳动合同。",
    evaluation="该单位违反《中华人民共和国劳动合同法》第十条。",
    detail="下达《劳动保障监察责令改正指令书》，责令限期与职工签订书面劳动合同。",
    followup="rechecked",
)
HOURS_PROBLEM = Outcome(
    "发现问题已责令改正", "rectify",
    findings="该单位生产旺季安排职工每月加班 52 小时，超过法定上限，且未与工会和劳动者协商。",
    evaluation="该单位违反《中华人民共和国劳动法》第四十一条。",
    detail="下达《劳动保障监察责令改正指令书》，责令调整排班、控制加班时长。",
    followup="rechecked",
)

SB_CLEAN = Outcome(
    "未发现问题",
    findings="审查了单位报送的职工花名册、工资发放记录和社会保险缴费明细，参保人数和缴费基数与工资发放记录一致。",
    evaluation="该单位依法为职工参加社会保险并足额缴费。",
)
SB_PROBLEM = Outcome(
    "发现问题已责令改正", "rectify",
    findings="该单位 3 名职工入职后未参加社会保险，另有 6 名职工的缴费基数低于实际工资。",
    evaluation="该单位违反《中华人民共和国社会保险法》第五十八条、第六十条。",
    detail="下达《责令限期改正通知书》，责令限期办理参保登记并按实际工资补缴社会保险费。",
    followup="rechecked",
)

TASKS = (
    TaskSpec(
        "published", "SBG", "{year}年社会保险参保缴费情况书面检查（张庄乡）", ("RS-SB-002",), "张庄乡",
        start=-120, end=-95, publish=-60, method="written",
        outcomes=(SB_CLEAN, SB_PROBLEM, SB_CLEAN),
        report_text="本次书面检查发现个别单位未为新入职职工参保、缴费基数偏低，已责令限期改正并复查完毕，其余单位参保缴费规范。",
    ),
    TaskSpec(
        "published", "JCDD", "{year}年工资支付和最低工资专项抽查（固墙镇）", ("RS-JC-006", "RS-JC-007"), "固墙镇",
        start=-100, end=-80, publish=-40,
        outcomes=(WAGES_PROBLEM, CLEAN, WAGES_PENALTY, WAGES_ADVICE, WAGES_OVERDUE, UNREACHABLE, CLEAN),
        report_text=(
            "本次专项抽查按细则规定随机抽取检查对象和执法检查人员，全部检查对象均已完成现场检查。"
            "发现的拖欠工资、低于最低工资标准支付等问题已依法责令改正或立案查处，"
            "一户责令改正事项尚待复查，一户通过登记住所无法联系，已移交市场监管部门标注。"
        ),
        recusal=True,
        void_reason="抽取后发现冻结名单时一名执法检查人员的执法证已注销，经局领导批准作废本次结果并重新抽取。",
    ),
    TaskSpec(
        "publishing", "JCDD", "{year}年劳动合同签订情况抽查（练集镇）", ("RS-JC-001",), "练集镇",
        start=-85, end=-65, publish=-20,
        outcomes=(CLEAN, CONTRACT_PROBLEM, CLEAN),
        report_text="本次抽查对象劳动合同签订率总体较高，发现的未签订书面劳动合同问题已责令改正并复查完毕。",
    ),
    TaskSpec(
        "reported", "JCDD", "{year}年工作时间和休息休假抽查（白寺镇）", ("RS-JC-005",), "白寺镇",
        # Ended a few days ago: the last visits' reports are on time, the earlier ones late.
        # Its publish date has come, so the organiser is asked to request publication; `_dates`
        # moves the end back until the report's 5 working days fit before it (SPEC §3).
        start=-20, end=-4, publish=-1,
        outcomes=(HOURS_PROBLEM, CLEAN),
        report_text="本次抽查发现个别单位旺季加班时间超过法定上限，已责令改正并复查，其余单位未发现问题。",
    ),
    TaskSpec(
        "inspecting", "JCDD", "{year}年女职工和未成年工特殊劳动保护抽查（魏集镇）", ("RS-JC-004",), "魏集镇",
        # Ended three weeks ago: 5 working days have passed even across a week-long holiday.
        start=-40, end=-21, publish=20,
    ),
    TaskSpec(
        "sealed", "JCDD", "{year}年劳务派遣用工计划外抽查（巴村镇）", ("RS-JC-002",), "巴村镇",
        start=7, end=25, publish=45, general_ratio="80", special_ratio="80",  # a complaint-led sweep
        out_of_plan_reason=(
            "市人社局转来关于本县部分单位违规使用被派遣劳动者的集中投诉线索，"
            "经局领导同意开展计划外随机抽查（细则第十八条）。"
        ),
    ),
    TaskSpec(
        "planned", "JCDD", "{year}年禁止使用童工专项抽查（谭庄镇）", ("RS-JC-003",), "谭庄镇",
        start=0, end=0, publish=0,  # next month: see _dates
    ),
    # Over the township of the sealed 劳务派遣 sweep above and drawn after it: its
    # walk passes targets the sweep drew (Art 16, skipped inside the sealed draw),
    # so its verification bundle is withheld until the sweep is published (SPEC
    # §3 release rule). The sweep holds 77 of the township's 95 targets, so with
    # k = 10 a skip is all but certain (none of E ranked before the 10th selected:
    # about 1 in 10^8) and the pool never runs out (18 outside E), which would
    # publish the complement of E. One stratum only: a special stratum of 3, all
    # in E, would run out.
    TaskSpec(
        "published", "SBG", "{year}年社会保险费缴纳情况书面检查（巴村镇）", ("RS-SB-001",), "巴村镇",
        start=-70, end=-50, publish=-20, method="written", general_ratio="10", special_ratio="",
        report_text="本次书面检查覆盖巴村镇大部分参保单位，未发现应参保未参保或少缴社会保险费的问题。",
    ),
)
STAGES = ("planned", "sealed", "inspecting", "reported", "publishing", "published")


# ------------------------------------------------------------------ acting as a user


@contextmanager
def acting_as(user: User) -> Iterator[User]:
    """Sign `user` in for the steps inside, as a browser request would.

    The services read `flask_login.current_user` (who writes a record, who
    drafted a report, whose assignment it is) and audit.record names the
    signed-in user. A CLI command has no request, so a test request
    context with a real server-side session stands in for one: the steps
    are checked and logged as that person's own, and the session is ended
    afterwards like a logout.
    """
    with current_app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        s = start_session(user)
        login_user(user)
        try:
            yield user
        finally:
            s.revoked_at, s.revoked_reason = clock.now(), "logout"
            logout_user()


# ------------------------------------------------------------------ small real files


def demo_photo(seed: str, width: int = 160, height: int = 120) -> bytes:
    """A small real PNG (a shop front under a sky), different for every seed.

    Written with zlib and struct so the demo needs no imaging library; the
    evidence store checks the file's first bytes, so it must be a true PNG.
    """
    rng = random.Random(seed)
    sky = (rng.randint(120, 170), rng.randint(170, 210), 235)
    wall = (rng.randint(170, 230), rng.randint(150, 200), rng.randint(120, 170))
    sign = (rng.randint(150, 210), 30, 30)
    left, right = rng.randint(10, 40), rng.randint(110, 150)
    top, ground = rng.randint(25, 40), 95
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type 0 for every scanline
        for x in range(width):
            if y >= ground:
                c = (110 + (x * 7 + y * 3) % 20, 110, 105)
            elif left <= x < right and y >= top:
                if y < top + 12:
                    c = sign
                elif (x - left) % 18 < 10 and (y - top - 12) % 22 < 12:
                    c = (70, 90, 110)  # windows
                else:
                    c = wall
            else:
                c = (sky[0], sky[1] + y // 4, sky[2])
            row += bytes(min(255, v) for v in c)
        rows.append(bytes(row))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))


# ------------------------------------------------------------------ loading


class _Cast:
    """The demo users of one section who take part, with the leader and the witness from outside."""

    def __init__(self, section_code: str) -> None:
        staff, head = SECTION_PEOPLE[section_code]
        by_name = {u.username: u for u in db.session.scalars(
            select(User).where(User.username.in_([staff, head, LEADER_USER, WITNESS_USER])))}
        self.staff = by_name[staff]
        self.head = by_name[head]
        self.leader = by_name[LEADER_USER]
        self.witness = by_name[WITNESS_USER]
        self.section = self.staff.section


def load_lifecycle() -> dict[str, int]:
    """Approved plans and the tasks of TASKS, each taken to its stage; commits after each task.

    Skipped when the 监察大队 already has a task: a county that has begun
    its own work should not have a demo history written into it, and a
    second `flask demo` adds nothing. Today is the real today: the services
    check dates against it, so the demo cannot pretend to be another day.
    """
    added: dict[str, int] = {}
    casts = {code: _Cast(code) for code in SECTION_PEOPLE}
    if db.session.scalar(select(func.count(Task.id)).where(Task.section_id == casts["JCDD"].section.id)):
        return added
    today = clock.today()
    added["inspector_accounts"] = _inspector_accounts(casts["JCDD"].staff.department_id)
    specs = [(spec, *_dates(spec, today)) for spec in TASKS]
    # Every task's year needs its section's approved plan, and the demo year every section's.
    years = {(code, today.year) for code in casts} | {(spec.section, start.year) for spec, start, _e, _p in specs}
    added["annual_plans"] = sum(_approved_plan(casts[code], year) for code, year in sorted(years))
    db.session.commit()
    rng = random.Random("ssj-demo|lifecycle")
    for spec, start, end, publish in specs:
        counts = _run_task(casts[spec.section], spec, start, end, publish, today, rng)
        db.session.commit()
        for k, v in counts.items():
            added[k] = added.get(k, 0) + v
        added["tasks"] = added.get("tasks", 0) + 1
    return added


def _dates(spec: TaskSpec, today: date) -> tuple[date, date, date]:
    if spec.stage == "planned":
        # Next month, so the to-do shows the draw coming up.
        start = (today.replace(day=1) + timedelta(days=32)).replace(day=1) + timedelta(days=4)
        return start, start + timedelta(days=20), start + timedelta(days=45)
    start, end, publish = (today + timedelta(days=spec.start), today + timedelta(days=spec.end),
                           today + timedelta(days=spec.publish))
    # A publish date is never before the planned end + the report's 5 working days (SPEC §3, the task
    # form refuses it): where a holiday on the way pushes that past the spec's publish date, the
    # inspection ended earlier instead, so the demo loads on any day of the year.
    while end > start and earliest_publish_date(end) > publish:
        end -= timedelta(days=1)
    return start, end, publish


def _inspector_accounts(department_id: int) -> int:
    """A sign-in for every active inspector of the bureau who has none, named like jc_insp1.

    A drawn inspector writes their own record (SPEC §7), so every one who
    can be drawn needs an account; they share the demo password's hash.
    """
    shared = db.session.scalar(select(User.password_hash).where(User.username == "jc_insp1"))
    taken = set(db.session.scalars(select(User.username)))
    made = 0
    for inspector in db.session.scalars(
        select(Inspector).where(Inspector.department_id == department_id, Inspector.status == "active",
                                Inspector.user_id.is_(None)).order_by(Inspector.staff_no)
    ):
        _ss, prefix, number = inspector.staff_no.split("-")
        username = f"{prefix.lower()}_insp{int(number)}"
        if username in taken:
            continue
        shared = shared or hash_password(DEMO_PASSWORD)
        user = User(username=username, display_name=inspector.name, password_hash=shared,
                    department_id=inspector.department_id, section_id=inspector.section_id)
        user.set_roles([INSPECTOR])
        db.session.add(user)
        inspector.user = user
        taken.add(username)
        made += 1
    db.session.flush()
    return made


def _approved_plan(cast: _Cast, year: int) -> int:
    """The section's annual plan for `year`, drawn up by staff and approved by the leader (Art 7, 18)."""
    existing = db.session.scalar(
        select(AnnualPlan).where(AnnualPlan.section_id == cast.section.id, AnnualPlan.year == year))
    if existing is not None:
        return 0
    with acting_as(cast.staff):
        plan = plans.create_plan(cast.section.id, year, cast.staff)
        form = PlanForm.from_plan(plan, [])
        for row in form.rows:
            if row.code == UNPLANNED_MATTER:  # a 监察大队 matter
                row.rounds, row.reason = "0", UNPLANNED_REASON
        if not form.validate():
            raise RuntimeError(f"demo plan does not validate: {form.errors} {[r.errors for r in form.rows]}")
        plans.save_plan(plan, form)
        problems = plans.submission_problems(plan)
        if problems:
            raise RuntimeError(f"demo plan cannot be submitted: {problems}")
        plans.submit_plan(plan, cast.staff)
    with acting_as(cast.leader):
        plans.decide_plan(plan, cast.leader, True, "同意。请按计划组织实施，抽查结果按时公开。")
    return 1


def _run_task(cast: _Cast, spec: TaskSpec, start: date, end: date, publish: date, today: date,
              rng: random.Random) -> dict[str, int]:
    counts: dict[str, int] = {}
    task = _create_task(cast, spec, start, end, publish)
    if spec.stage == "planned":
        return counts
    if spec.void_reason:
        _draw(cast, task, rng)
        _redraw(cast, task, spec.void_reason)
    _draw(cast, task, rng)
    if spec.stage == "sealed":
        return counts
    positions = inspections.positions_of(task)
    if spec.recusal:
        _recuse(task, positions[1] if len(positions) > 1 else positions[0])
    if spec.stage == "inspecting":
        _inspect_partly(task, spec, positions, start, end, today, counts)
        return counts
    _inspect_all(task, spec, positions, start, end, today, counts)
    _final_report(cast, task, spec)
    if spec.stage == "reported":
        return counts
    with acting_as(cast.staff):
        publication.request_publication(task, cast.staff, "检查和总结报告均已完成，结果公开日期已到，申请公开抽查结果。")
    if spec.stage == "publishing":
        return counts
    with acting_as(cast.leader):
        publication.approve(task, cast.leader, DEMO_PASSWORD)
    return counts


# Every demo round covers one township, so each stratum draws well under 1 % of the
# county's same-type targets; Art 7 then asks for the reason (SPEC §3), as a bureau would give it.
TOWNSHIP_ROUND_REASON = "本年度按乡镇分片轮流抽查，本次只覆盖一个乡镇；全年各轮合计覆盖全县同类型对象的 1% 以上。"


def _create_task(cast: _Cast, spec: TaskSpec, start: date, end: date, publish: date) -> Task:
    matters = dict(db.session.execute(select(Matter.code, Matter.id).where(Matter.code.in_(spec.matters))).all())
    township = db.session.scalar(select(Township.id).where(Township.name == spec.township))
    section = cast.section
    form = TaskForm(
        name=spec.title.format(year=start.year),
        year=str(start.year),
        matter_ids=[matters[c] for c in spec.matters],
        out_of_plan_reason=spec.out_of_plan_reason,
        township_ids=[township],
        size_filter="all",
        exclusion_days="180",
        team_size="2",
        planned_start=start.isoformat(),
        planned_end=end.isoformat(),
        publish_date=publish.isoformat(),
        strata={
            "special": StratumInput("special", enabled=bool(spec.special_ratio), ratio_percent=spec.special_ratio,
                                    reason=TOWNSHIP_ROUND_REASON),
            "small_micro": StratumInput("small_micro", enabled=False),
            # blank: the plan's ratio
            "general": StratumInput("general", ratio_percent=spec.general_ratio, reason=TOWNSHIP_ROUND_REASON),
        },
    )
    with acting_as(cast.staff):
        choices = plans.task_choices(section, start.year)

        def count_pools(f: TaskForm, kinds):
            return plans.pool_sizes(plans.Scope.of_form(f, section.department_id), kinds)

        def count_county(f: TaskForm, kinds):
            return plans.county_sizes(plans.Scope.of_form(f, section.department_id), kinds)

        if not form.validate(choices, count_pools, count_county):
            raise RuntimeError(f"demo task {spec.title} does not validate: {form.errors}")
        return plans.save_task(form, None, section, choices, cast.staff)


def _dice(rng: random.Random, n: int) -> str:
    return " ".join(str(rng.randint(1, 6)) for _ in range(n))


def _draw(cast: _Cast, task: Task, rng: random.Random) -> None:
    """The ceremony, in its order: freeze, commit, dice from a colleague and the discipline office, run.

    Each witness enters their own digits in their own session, through the
    same service call as the witness page (ceremony.add_witness).
    """
    with acting_as(cast.staff):
        attempt = ceremony.freeze(task, cast.staff)
        ceremony.commit(attempt)
    for who, n in ((cast.head, 10), (cast.witness, 12)):
        form = DigitsForm(digits=_dice(rng, n))
        with acting_as(who):
            if not form.validate(ceremony.digits_entered(attempt)):
                raise RuntimeError(f"demo witness does not validate: {form.errors}")
            ceremony.add_witness(attempt, who, form.clean, entered_by=who, identified_by="session")
    with acting_as(cast.staff):
        ceremony.run(attempt, cast.staff)


def _redraw(cast: _Cast, task: Task, reason: str) -> None:
    """Staff ask to void the sealed attempt with a written reason; the leader approves (Art 9)."""
    attempt = ceremony.sealed_attempt(task)
    with acting_as(cast.staff):
        ceremony.request_redraw(attempt, cast.staff, reason)
    with acting_as(cast.leader):
        ceremony.decide_redraw(attempt, cast.leader, True, "")


def _team(task: Task, position: int) -> list[Assignment]:
    attempt = ceremony.sealed_attempt(task)
    return list(db.session.scalars(
        select(Assignment).join(Inspector, Assignment.inspector_id == Inspector.id)
        .where(Assignment.attempt_id == attempt.id, Assignment.position == position, Assignment.active.is_(True))
        .order_by(Inspector.staff_no)
    ))


def _recuse(task: Task, position: int) -> None:
    """The second member of a team learns the unit's manager is a relative and steps aside (Art 5)."""
    leaving = _team(task, position)[-1]
    user = leaving.inspector.user
    with acting_as(user):
        ceremony.recuse(task, leaving, "该单位负责人系本人配偶的表兄，依照细则第五条申请回避。", user)


def _writer(task: Task, position: int) -> tuple[User, Assignment]:
    """The team member who writes the record: the first of the team with an account."""
    for a in _team(task, position):
        if a.inspector.user is not None:
            return a.inspector.user, a
    raise RuntimeError(f"no team member of task {task.id} position {position} can sign in")


def _visit_days(index: int, count: int, start: date, end: date, today: date) -> tuple[date, date]:
    """The visit to the index-th of `count` units: every other day, the last one on the planned end."""
    last = min(end, today)
    ended = max(last - timedelta(days=2 * (count - 1 - index)), start)
    return max(ended - timedelta(days=1), start), ended


def _onsite_record(facts: dict, team: list[str], day: date) -> str:
    return (
        f"{day:%Y年%m月%d日}，执法检查人员{'、'.join(team)}到{facts.get('name', '该单位')}"
        f"（{facts.get('address', '')}）开展检查，出示执法证件并说明来意。"
        f"单位负责人{facts.get('legal_rep', '')}在场配合，提供了营业执照、劳动合同、职工花名册、考勤和工资支付记录。"
        "检查人员逐项查阅并抽询职工，现场检查情况已向单位负责人宣读，经其确认无误后签字。"
    )


def _record_form(task: Task, method: str, facts: dict, outcome: Optional[Outcome], first: date, last: date,
                 deadline: Optional[date]) -> inspections.RecordForm:
    items = inspections.content_items(task)
    form = inspections.RecordForm(
        method=method, started=first.isoformat(), items=items[: max(2, len(items) - 1)], errors={},
    )
    if outcome is None:  # a draft: the visit has begun, nothing concluded yet
        form.findings = "已到现场，单位正在补充提供考勤记录，待核实后填写。"
        return form
    form.ended = last.isoformat()
    if method == "onsite":
        form.onsite_record = _onsite_record(facts, list(facts.get("team") or []), first)
    form.findings = outcome.findings
    form.evaluation = outcome.evaluation
    form.result = outcome.result
    form.handling = outcome.handling
    form.handling_detail = outcome.detail
    if outcome.handling == "rectify" and deadline is not None:
        form.rectify_deadline = deadline.isoformat()
    if outcome.handling == "penalty":
        form.decision_no = f"商人社监罚决字〔{last.year}〕{task.id * 10 + 3}号"
    return form


def _deadline(outcome: Optional[Outcome], last: date, today: date) -> Optional[date]:
    """A rectification order's deadline: long past if re-checked, just past if overdue, else ahead."""
    if outcome is None or outcome.handling != "rectify":
        return None
    if outcome.followup == "rechecked":
        return max(min(last + timedelta(days=15), today - timedelta(days=3)), last)
    if outcome.followup == "overdue":
        return max(today - timedelta(days=6), last)
    return today + timedelta(days=14)


def _write_record(task: Task, spec: TaskSpec, position: int, visit: tuple[date, date], outcome: Optional[Outcome],
                  today: date, counts: dict[str, int], photo: bool = True) -> None:
    """One team member records the inspection at `position`, with a photo, and its follow-up (Art 8, 10)."""
    user, mine = _writer(task, position)
    first, last = visit
    deadline = _deadline(outcome, last, today)
    with acting_as(user):
        facts = inspections.target_facts(task, mine)  # what the record page shows the writer
        form = _record_form(task, spec.method, facts, outcome, first, last, deadline)
        final = outcome is not None
        if not form.validate(task, final=final):
            raise RuntimeError(f"demo record does not validate: {form.errors}")
        inspections.save(task, mine, form, "submit" if final else "save", loaded_version=None)  # a new record
        # As the record route does: a submitted 责令改正 with its deadline is the tracked order (Art 10).
        tracked = followup.track_from_record(task, position, form.value()) if final else None
        counts["inspection_records"] = counts.get("inspection_records", 0) + 1
        if photo:
            name, note = (f"现场照片-{position:02d}.png", "单位门头及劳动保障公示栏") if spec.method == "onsite" \
                else (f"书面材料扫描件-{position:02d}.png", "单位报送的参保缴费明细（首页）")
            evidence.add(task, position, name, demo_photo(f"ssj-demo|photo|{task.name}|{position}"), note=note)
            counts["evidence_files"] = counts.get("evidence_files", 0) + 1
        if outcome is None or outcome.handling == "none":
            return
        if tracked is not None:
            row = tracked
        else:
            values = {"kind": outcome.handling, "detail": outcome.detail}
            if outcome.handling == "penalty":
                values["decision_no"] = form.decision_no
            row = followup.add(task, position, values)
        counts["followups"] = counts.get("followups", 0) + 1
        if outcome.followup == "rechecked":
            followup.recheck(task, row, {
                "recheck_date": min(deadline + timedelta(days=1), today).isoformat(),
                "recheck_outcome": "经复查，该单位已按期改正，相关凭证已留存备查。",
            })


def _inspect_partly(task: Task, spec: TaskSpec, positions: list[int], start: date, end: date, today: date,
                    counts: dict[str, int]) -> None:
    """Halfway through: two records submitted (one with a finding), one draft, the rest not begun."""
    script = {0: CLEAN, 1: Outcome(
        "发现问题已责令改正", "rectify",
        findings="该单位安排 2 名怀孕 7 个月以上的女职工上夜班，未按规定安排休息时间。",
        evaluation="该单位违反《女职工劳动保护特别规定》第六条。",
        detail="下达《劳动保障监察责令改正指令书》，责令调整孕期女职工的班次。",
    )}
    for i, position in enumerate(positions[:3]):
        visit = _visit_days(i, len(positions), start, end, today)
        _write_record(task, spec, position, visit, script.get(i), today, counts, photo=i < 2)


def _inspect_all(task: Task, spec: TaskSpec, positions: list[int], start: date, end: date, today: date,
                 counts: dict[str, int]) -> None:
    for i, position in enumerate(positions):
        outcome = spec.outcomes[i] if i < len(spec.outcomes) else CLEAN
        visit = _visit_days(i, len(positions), start, end, today)
        _write_record(task, spec, position, visit, outcome, today, counts, photo=i < 3)


def _final_report(cast: _Cast, task: Task, spec: TaskSpec) -> None:
    """Staff draft the section's report from the submitted records; the head approves it (Art 9)."""
    with acting_as(cast.staff):
        values = []
        for row in inspections.records_of(task):
            if row.state == "submitted":
                value = inspections.read_record(row, "final_report_source")
                value["_position"] = row.position
                values.append(value)
        reports.draft(task, values, len(inspections.positions_of(task)), spec.report_text)
    with acting_as(cast.head):
        reports.approve(task, reports.get(task))
