"""The oversight dashboard 监管看板: a year's figures for the bureau's leadership (SPEC §8; Art 7, 9, 10, 15, 17, 18, 19).

Art 17 asks the bureau to supervise how the random inspections are done;
this module computes what a leader reads for that, per year:

- per matter, rounds planned and done and the share of the pool drawn,
  against Art 7 (≥3 rounds a year, each ≥1 %), with the plan's reason;
- inspection reports on time or late (Art 9: 5 working days);
- results by category, of published tasks only (Art 13);
- rectification orders open and overdue (Art 10);
- tasks outside an approved plan (Art 18);
- training sessions held (Art 15);
- the target directory's coverage of the county's townships (Art 19).

Everything is read from what is stored in the clear: the draw's public pool
and sample sizes, record states and dates, follow-up deadlines, published
results. Nothing sealed is decrypted here, so the dashboard may be shown
to people without need-to-know of any task (SPEC §4); what that leaves out
is written on the page and in docs/oversight-dashboard.md.

Each function returns plain dataclasses; the queries are portable SQL
(SQLite and PostgreSQL), a fixed number per dashboard, not one per task.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Optional

from sqlalchemy import and_, false, func, or_, select

from .. import clock
from ..auth.roles import DISCIPLINE, SECTION_HEAD, STAFF, SUPERVISOR
from ..calendar_admin.service import current_calendar
from ..extensions import db
from ..inspections.reports import report_due_date
from ..inspections.followup import overdue as overdue_followups
from ..inspections.service import RESULT_CATEGORIES
from ..models import (
    AnnualPlan,
    Assignment,
    DrawAttempt,
    FollowUp,
    InspectionRecord,
    Matter,
    PlanItem,
    PublishedResult,
    PublishedTask,
    Section,
    Stratum,
    Target,
    Task,
    TaskMatter,
    Township,
)
from ..plans import rules
from ..plans import service as plan_service
from ..training.service import art15_indicator, training_summary

# A task has been drawn (a "round done") from the sealed draw on.
DRAWN_STATUSES = ("sealed", "inspecting", "reported", "publishing", "published")
DEPARTMENT_WIDE = (SUPERVISOR, DISCIPLINE)
SECTION_ONLY = (SECTION_HEAD, STAFF)
MIN_YEAR, MAX_YEAR = 2000, 2100



def percent_text(value: Optional[Fraction], places: int = 2) -> str:
    """A ratio as "1.25%", rounded half up from the exact value."""
    if value is None:
        return "—"
    d = (Decimal(value.numerator) / Decimal(value.denominator) * 100).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )
    return f"{d}%"


# --- who sees what ------------------------------------------------------------------------


class ScopeRefused(Exception):
    """The user asked for figures they may not see; `reason` goes to the access log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Scope:
    """Whose figures: the whole department, or one section of it."""

    department_id: int
    department_name: str
    sections: tuple[Section, ...]  # the sections whose plans and tasks count
    section_id: Optional[int]  # None: department-wide
    choices: tuple[Section, ...] = ()  # sections the user may switch to (department-wide users only)

    @property
    def section_ids(self) -> list[int]:
        return [s.id for s in self.sections]

    @property
    def label(self) -> str:
        if self.section_id is None:
            return f"{self.department_name}（全局）"
        return f"{self.department_name}·{self.sections[0].name}"


def scope_for(user, section_id: Optional[int]) -> Scope:
    """Supervisors and the discipline office see their department, and may narrow it to one
    section; section heads and staff see their own section only (their plans, their tasks)."""
    dept = user.department
    all_sections = tuple(db.session.scalars(
        select(Section).where(Section.department_id == dept.id).order_by(Section.code)
    ))
    if user.has_role(*DEPARTMENT_WIDE):
        if section_id is None:
            return Scope(dept.id, dept.name, all_sections, None, all_sections)
        chosen = [s for s in all_sections if s.id == section_id]
        if not chosen:
            raise ScopeRefused("other_department")
        return Scope(dept.id, dept.name, tuple(chosen), section_id, all_sections)
    if user.has_role(*SECTION_ONLY) and user.section_id is not None:
        if section_id is not None and section_id != user.section_id:
            raise ScopeRefused("other_section")
        own = tuple(s for s in all_sections if s.id == user.section_id)
        return Scope(dept.id, dept.name, own, user.section_id)
    raise ScopeRefused("no_section")


def parse_year(raw: Optional[str], today: date) -> tuple[int, Optional[str]]:
    """(year, error): the current year when none is given, a Chinese message for nonsense."""
    if raw is None or not raw.strip():
        return today.year, None
    text = raw.strip()
    if not text.isdigit() or not MIN_YEAR <= int(text) <= MAX_YEAR:
        return today.year, f"年度“{text[:10]}”无法识别：请从列表中选择年度，或填写 {MIN_YEAR}–{MAX_YEAR} 之间的四位年份，例如 {today.year}。"
    return int(text), None


def year_choices(scope: Scope, today: date) -> list[int]:
    """Years with a plan or a task in scope, the current one and the last (whose figures are final), newest first."""
    ids = scope.section_ids
    years = set(db.session.scalars(select(Task.year).where(Task.section_id.in_(ids)).distinct()))
    years |= set(db.session.scalars(select(AnnualPlan.year).where(AnnualPlan.section_id.in_(ids)).distinct()))
    years |= {today.year, today.year - 1}
    return sorted(years, reverse=True)


# --- 1. per matter: rounds and ratios against Art 7 ------------------------------------------


@dataclass
class StratumRound:
    """One stratum of one drawn round, measured against the county's same-type targets (Art 7)."""

    name: str
    kind: str
    drawn: int
    pool: int  # the task's frozen pool of this stratum (its filters applied)
    county: int  # the county's same-type targets of this stratum (no area filter)
    reason: str = ""  # the task's written reason for drawing below 1 %

    @property
    def share(self) -> Optional[Fraction]:
        return rules.art7_share(self.drawn, self.county)


@dataclass
class Round:
    task_id: int
    task_name: str
    strata: list[StratumRound] = field(default_factory=list)

    @property
    def drawn(self) -> int:
        return sum(s.drawn for s in self.strata)

    @property
    def pool(self) -> int:
        return sum(s.county for s in self.strata)

    @property
    def ratio(self) -> Optional[Fraction]:
        """The lowest stratum's share of the county: strata are never averaged (Art 7)."""
        shares = [s.share for s in self.strata if s.share is not None]
        return min(shares) if shares else None


@dataclass
class MatterRow:
    matter_id: int
    code: str
    name: str
    section: str
    planned_rounds: Optional[int]  # None: not in an approved plan of the year
    planned_ratio: Optional[str]
    required_ratio: str  # the plan's ratio, or the matter's own when unplanned
    rounds: list[Round] = field(default_factory=list)
    running: int = 0  # tasks of the year not drawn yet
    shortfalls: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def rounds_done(self) -> int:
        return len(self.rounds)

    @property
    def drawn(self) -> int:
        return sum(r.drawn for r in self.rounds)

    @property
    def pool(self) -> int:
        return sum(r.pool for r in self.rounds)

    @property
    def lowest_ratio(self) -> Optional[Fraction]:
        ratios = [r.ratio for r in self.rounds if r.ratio is not None]
        return min(ratios) if ratios else None

    @property
    def below(self) -> bool:
        return bool(self.shortfalls)

    @property
    def lowest_text(self) -> str:
        return percent_text(self.lowest_ratio)


@dataclass
class DrawnTask:
    """A task of the year as the dashboard knows it: only plaintext columns and public draw figures."""

    task: Task
    attempt_id: Optional[int]
    drawn: int
    pool: int
    positions: int
    strata: list[StratumRound] = field(default_factory=list)


def _drawn_strata(attempt: DrawAttempt) -> list[tuple[str, str, int, int]]:
    """(name, kind, drawn, pool size at freeze) per stratum, from the attempt's public summaries."""
    pools = json.loads(attempt.pool_summary_json).get("strata", [])
    drawn = {s["name"]: int(s["sample_size"]) for s in pools}
    if attempt.sample_summary_json:
        drawn.update({s["name"]: int(s["sample_size"]) for s in json.loads(attempt.sample_summary_json)})
    return [(s["name"], s.get("kind", "general"), drawn[s["name"]], int(s["size"])) for s in pools]


def tasks_of(scope: Scope, year: int) -> list[DrawnTask]:
    tasks = list(db.session.scalars(
        select(Task).where(Task.section_id.in_(scope.section_ids), Task.year == year).order_by(Task.id)
    ))
    ids = [t.id for t in tasks]
    attempts = {
        a.task_id: a
        for a in db.session.scalars(
            select(DrawAttempt).where(DrawAttempt.task_id.in_(ids), DrawAttempt.state == "sealed")
        )
    } if ids else {}
    positions = dict(db.session.execute(
        select(Assignment.task_id, func.count(func.distinct(Assignment.position)))
        .join(DrawAttempt, Assignment.attempt_id == DrawAttempt.id)
        .where(Assignment.task_id.in_(ids), DrawAttempt.state == "sealed")
        .group_by(Assignment.task_id)
    ).all()) if ids else {}
    reasons = {(s.task_id, s.name): s.reason for s in db.session.scalars(select(Stratum).where(Stratum.task_id.in_(ids)))} \
        if ids else {}
    counts = plan_service.same_type_counts(scope.department_id) if attempts else {}
    out = []
    for t in tasks:
        a = attempts.get(t.id)
        strata = []
        if a is not None:
            found = _drawn_strata(a)
            county = rules.county_base(counts, t.industry_list, t.size_filter, [kind for _, kind, _, _ in found])
            strata = [StratumRound(name, kind, k, n, county.get(kind, 0), reasons.get((t.id, name), ""))
                      for name, kind, k, n in found]
        out.append(DrawnTask(t, a.id if a is not None else None, sum(s.drawn for s in strata),
                             sum(s.pool for s in strata), positions.get(t.id, 0), strata))
    return out


def approved_plans(scope: Scope, year: int) -> dict[int, AnnualPlan]:
    """Section id -> its approved plan of the year."""
    return {
        p.section_id: p
        for p in db.session.scalars(
            select(AnnualPlan).where(
                AnnualPlan.section_id.in_(scope.section_ids), AnnualPlan.year == year, AnnualPlan.status == "approved"
            )
        )
    }


def matter_rows(scope: Scope, year: int, tasks: list[DrawnTask], plans: dict[int, AnnualPlan], today: date) -> list[MatterRow]:
    items: dict[int, PlanItem] = {}
    for plan in plans.values():
        for item in plan.items:
            items[item.matter_id] = item
    task_matters: dict[int, list[int]] = defaultdict(list)
    task_ids = [d.task.id for d in tasks]
    if task_ids:
        for task_id, matter_id in db.session.execute(
            select(TaskMatter.task_id, TaskMatter.matter_id).where(TaskMatter.task_id.in_(task_ids))
        ):
            task_matters[matter_id].append(task_id)
    wanted = set(items) | set(task_matters)
    matters = list(db.session.scalars(
        select(Matter).where(
            or_(
                Matter.id.in_(wanted) if wanted else false(),
                and_(Matter.section_id.in_(scope.section_ids), Matter.status == "active"),
            )
        ).order_by(Matter.code)
    ))
    section_names = {s.id: s.name for s in scope.sections}
    by_id = {d.task.id: d for d in tasks}
    year_over = year < today.year
    rows = []
    for m in matters:
        item = items.get(m.id)
        plan = plans.get(m.section_id) if item is not None else None
        row = MatterRow(
            matter_id=m.id,
            code=m.code,
            name=m.name,
            section=section_names.get(m.section_id, ""),
            planned_rounds=item.rounds if item else None,
            planned_ratio=item.ratio_percent if item else None,
            required_ratio=item.ratio_percent if item else m.ratio_percent,
        )
        for task_id in task_matters.get(m.id, []):
            d = by_id[task_id]
            if d.task.status in DRAWN_STATUSES and d.attempt_id is not None:
                row.rounds.append(Round(d.task.id, d.task.name, d.strata))
            else:
                row.running += 1
        row.shortfalls = _shortfalls(row, year_over)
        if row.shortfalls and item is not None:
            row.reason = item.reason or (plan.shortfall_reason if plan else "")
        rows.append(row)
    return rows


def _shortfalls(row: MatterRow, year_over: bool) -> list[str]:
    """Why a matter falls short of Art 7 this year, one Chinese sentence each; empty if it does not."""
    notes: list[str] = []
    if row.planned_rounds is None:
        notes.append("未列入本年度已批准的抽查计划（细则第七条、第十八条）。")
    else:
        notes.extend(rules.art7_shortfalls(row.planned_rounds, row.planned_ratio or ""))
    required = rules.ratio_value(row.required_ratio)
    for r in row.rounds:
        # Each stratum on its own, against the county's same-type targets (Art 7).
        for s in r.strata:
            share = s.share
            if share is None:
                continue
            drew = f"“{r.task_name}”{s.name}实际抽取 {s.drawn}/{s.county} 户（{percent_text(share)}，按全县同类型对象计）"
            why = f"；任务写明的理由：{s.reason}" if s.reason else ""
            if share < rules.ART7_MIN_SHARE:
                notes.append(f"{drew}，低于细则第七条规定的 1%{why}。")
            elif s.kind == "general" and required is not None and share * 100 < Fraction(required):
                notes.append(f"{drew}，低于计划的 {row.required_ratio}%{why}。")
    if year_over and row.rounds_done < rules.ART7_MIN_ROUNDS:
        notes.append(f"全年实际抽查 {row.rounds_done} 次，少于细则第七条规定的每年不少于 {rules.ART7_MIN_ROUNDS} 次。")
    return notes


# --- 2. reports on time (Art 9) --------------------------------------------------------------


@dataclass
class LateReport:
    task_id: int
    task_name: str
    position: int
    ended: date
    due: date
    submitted: Optional[date]  # None: still not submitted


@dataclass
class Reports:
    on_time: int = 0
    late: int = 0  # submitted after the due date
    overdue: int = 0  # not submitted and past the due date
    pending: int = 0  # not submitted, not yet due
    undated: int = 0  # no end date anywhere yet (no record, no planned end)
    from_plan: int = 0  # positions whose end date was taken from the task's planned end
    late_rows: list[LateReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.overdue + self.pending + self.undated

    @property
    def late_total(self) -> int:
        return self.late + self.overdue


def reports(tasks: list[DrawnTask], today: date) -> Reports:
    """Each drawn position's report against its Art 9 deadline, from plaintext dates only.

    The deadline counts from the day the inspection ended as the team saved
    it (InspectionRecord.ended_on); before the team has entered that day, from
    the task's planned end — the latest the inspection was meant to end.
    """
    out = Reports()
    drawn = [d for d in tasks if d.attempt_id is not None]
    if not drawn:
        return out
    positions = db.session.execute(
        select(Assignment.task_id, Assignment.position)
        .where(Assignment.attempt_id.in_([d.attempt_id for d in drawn]))
        .distinct()
    ).all()
    records = {
        (r.task_id, r.position): r
        for r in db.session.execute(
            select(InspectionRecord.task_id, InspectionRecord.position, InspectionRecord.state,
                   InspectionRecord.submitted_at, InspectionRecord.ended_on)
            .where(InspectionRecord.task_id.in_([d.task.id for d in drawn]))
        )
    }
    by_id = {d.task.id: d.task for d in drawn}
    cal = current_calendar()
    zone = clock.zone()
    dues: dict[date, date] = {}
    warnings: list[str] = []

    def due_of(ended: date) -> date:
        if ended not in dues:
            d = report_due_date(ended, cal)
            dues[ended] = d.due
            warnings.extend(d.warnings)
        return dues[ended]

    for task_id, position in sorted(positions):
        task = by_id[task_id]
        rec = records.get((task_id, position))
        ended = rec.ended_on if rec is not None and rec.ended_on else None
        if ended is None and task.planned_end is not None:
            ended = task.planned_end
            out.from_plan += 1
        if ended is None:
            out.undated += 1
            continue
        due = due_of(ended)
        if rec is not None and rec.state == "submitted" and rec.submitted_at is not None:
            sent = rec.submitted_at.astimezone(zone).date()
            if sent <= due:
                out.on_time += 1
            else:
                out.late += 1
                out.late_rows.append(LateReport(task_id, task.name, position, ended, due, sent))
        elif today > due:
            out.overdue += 1
            out.late_rows.append(LateReport(task_id, task.name, position, ended, due, None))
        else:
            out.pending += 1
    out.warnings = list(dict.fromkeys(warnings))
    return out


# --- 3. results by category (published tasks only) ------------------------------------------


@dataclass
class Results:
    by_category: list[tuple[str, int]]
    published_tasks: int
    published_units: int
    unpublished_tasks: int  # drawn but not published: their results stay sealed
    unpublished_units: int


def results(scope: Scope, year: int, tasks: list[DrawnTask]) -> Results:
    rows = db.session.execute(
        select(PublishedResult.result, func.count())
        .join(PublishedTask, PublishedResult.task_id == PublishedTask.task_id)
        .join(Task, Task.id == PublishedTask.task_id)
        .where(Task.section_id.in_(scope.section_ids), Task.year == year)
        .group_by(PublishedResult.result)
    ).all()
    counts = Counter({r: n for r, n in rows})
    by_category = [(c, counts.pop(c, 0)) for c in RESULT_CATEGORIES]
    missing = sum(counts.pop(k, 0) for k in ("未录入", ""))
    if missing:
        by_category.append(("未录入检查结果", missing))
    other = sum(counts.values())
    if other:
        by_category.append(("其他（未按规定类别填写）", other))
    published = [d for d in tasks if d.task.status == "published"]
    unpublished = [d for d in tasks if d.attempt_id is not None and d.task.status != "published"]
    return Results(
        by_category=by_category,
        published_tasks=len(published),
        published_units=sum(n for _, n in by_category),
        unpublished_tasks=len(unpublished),
        unpublished_units=sum(d.positions for d in unpublished),
    )


# --- 4. rectifications (Art 10) --------------------------------------------------------------


@dataclass
class OverdueRectification:
    task_id: int
    task_name: str
    position: int
    deadline: date
    days: int  # calendar days past the deadline


@dataclass
class Rectifications:
    total: int
    open: int
    closed: int
    overdue: list[OverdueRectification]


def rectifications(tasks: list[DrawnTask], today: date) -> Rectifications:
    ids = [d.task.id for d in tasks]
    names = {d.task.id: d.task.name for d in tasks}
    if not ids:
        return Rectifications(0, 0, 0, [])
    counts = dict(db.session.execute(
        select(FollowUp.closed, func.count())
        .where(FollowUp.task_id.in_(ids), FollowUp.deadline.is_not(None))
        .group_by(FollowUp.closed)
    ).all())
    late = [
        OverdueRectification(f.task_id, names[f.task_id], f.position, f.deadline, (today - f.deadline).days)
        for f in overdue_followups(ids, today)
    ]
    open_, closed = counts.get(False, 0), counts.get(True, 0)
    return Rectifications(open_ + closed, open_, closed, late)


# --- 5. outside an approved plan (Art 18) -----------------------------------------------------


@dataclass
class OutOfPlan:
    task_id: int
    name: str
    section: str
    status: str
    uncovered: list[str]  # matters the approved plan does not cover
    no_plan: bool  # the section has no approved plan for the year at all
    reason: str
    departures: list[str] = field(default_factory=list)  # rounds beyond the plan's number or months (Art 18)


def out_of_plan(scope: Scope, tasks: list[DrawnTask], plans: dict[int, AnnualPlan], year: int) -> list[OutOfPlan]:
    """Tasks marked 计划外 when saved, not covered by the approved plan as it stands now
    (the same rule as plans.service.live_plan_coverage, for all tasks in two queries), or
    rounds beyond the plan's number of rounds or outside its months (Art 18)."""
    departures = plan_service.plan_departures(scope.section_ids, year)
    planned = {
        (plan.section_id, i.matter_id) for plan in plans.values() for i in plan.items if i.rounds > 0
    }
    ids = [d.task.id for d in tasks]
    matters: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if ids:
        for task_id, matter_id, name in db.session.execute(
            select(TaskMatter.task_id, Matter.id, Matter.name)
            .join(Matter, TaskMatter.matter_id == Matter.id)
            .where(TaskMatter.task_id.in_(ids))
            .order_by(Matter.code)
        ):
            matters[task_id].append((matter_id, name))
    section_names = {s.id: s.name for s in scope.sections}
    out = []
    for d in tasks:
        t = d.task
        uncovered = [name for mid, name in matters[t.id] if (t.section_id, mid) not in planned]
        departs = [text for _, text in departures.get(t.id, [])]
        if t.out_of_plan or uncovered or departs:
            out.append(OutOfPlan(
                t.id, t.name, section_names.get(t.section_id, ""), t.status_label, uncovered,
                t.section_id not in plans, t.out_of_plan_reason.strip(), departs,
            ))
    return out


# --- 6. training (Art 15) --------------------------------------------------------------------


@dataclass
class Training:
    count: int
    attendees: int
    attendances: int
    hours: str
    met: bool
    sentence: str
    sessions: list[dict]


def training(scope: Scope, year: int, today: date) -> Training:
    s = training_summary(scope.department_id, year)
    met, sentence = art15_indicator(s, today.year)
    return Training(s["count"], s["attendees"], s["attendances"], s["hours"], met, sentence, s["sessions"])


# --- 7. coverage of the county (Art 19) --------------------------------------------------------


@dataclass
class TownshipRow:
    township_id: Optional[int]
    name: str
    targets: int
    drawn: int  # units of published tasks of the year in this township

    @property
    def zero(self) -> bool:
        return self.targets == 0


@dataclass
class Coverage:
    townships: list[TownshipRow]
    unplaced: int  # operating targets with no township entered
    total: int

    @property
    def zero_count(self) -> int:
        return sum(1 for t in self.townships if t.zero)


def coverage(scope: Scope, year: int) -> Coverage:
    """Operating targets of the department's directory per township, and published drawn units there."""
    counts = dict(db.session.execute(
        select(Target.township_id, func.count())
        .where(Target.department_id == scope.department_id, Target.status == "operating")
        .group_by(Target.township_id)
    ).all())
    drawn = dict(db.session.execute(
        select(Target.township_id, func.count())
        .select_from(PublishedResult)
        .join(Task, Task.id == PublishedResult.task_id)
        .join(Target, and_(Target.credit_code == PublishedResult.credit_code,
                           Target.department_id == scope.department_id))
        .where(Task.section_id.in_(scope.section_ids), Task.year == year)
        .group_by(Target.township_id)
    ).all())
    rows = [
        TownshipRow(tid, name, counts.get(tid, 0), drawn.get(tid, 0))
        for tid, name in db.session.execute(select(Township.id, Township.name).order_by(Township.code))
    ]
    return Coverage(rows, counts.get(None, 0), sum(counts.values()))


# --- all of it -------------------------------------------------------------------------------


@dataclass
class Dashboard:
    year: int
    today: date
    scope: Scope
    matters: list[MatterRow]
    reports: Reports
    results: Results
    rectifications: Rectifications
    out_of_plan: list[OutOfPlan]
    training: Training
    coverage: Coverage
    tasks: int
    drawn_tasks: int
    plans_missing: list[str]  # sections in scope with tasks or matters but no approved plan

    @property
    def matters_below(self) -> int:
        return sum(1 for m in self.matters if m.below)


def build(scope: Scope, year: int, today: Optional[date] = None) -> Dashboard:
    today = today or clock.today()
    tasks = tasks_of(scope, year)
    plans = approved_plans(scope, year)
    matters = matter_rows(scope, year, tasks, plans, today)
    busy = {m.section for m in matters} | {s.name for s in scope.sections if any(d.task.section_id == s.id for d in tasks)}
    missing = [s.name for s in scope.sections if s.id not in plans and s.name in busy]
    return Dashboard(
        year=year,
        today=today,
        scope=scope,
        matters=matters,
        reports=reports(tasks, today),
        results=results(scope, year, tasks),
        rectifications=rectifications(tasks, today),
        out_of_plan=out_of_plan(scope, tasks, plans, year),
        training=training(scope, year, today),
        coverage=coverage(scope, year),
        tasks=len(tasks),
        drawn_tasks=sum(1 for d in tasks if d.attempt_id is not None),
        plans_missing=missing,
    )


def logged(d: Dashboard) -> dict:
    """What the access-log entry of a dashboard view records: the question and the headline counts."""
    return {
        "year": d.year,
        "section": d.scope.section_id,
        "tasks": d.tasks,
        "matters_below_art7": d.matters_below,
        "reports_late": d.reports.late_total,
        "rectifications_overdue": len(d.rectifications.overdue),
        "out_of_plan": len(d.out_of_plan),
    }
