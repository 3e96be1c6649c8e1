"""Changing plans and tasks, and computing the pools a draw would use (SPEC §3; Art 5, 6, 7, 11, 16, 18).

Views call these after a form has validated. Changes join the request's
unit of work; approvals, returns and reopenings write their own access-log
entry with the decision (the after_request hook commits both together).

`eligible_pools` is the one definition of "who could be drawn for this
task right now". The preview on the task page counts the same query, and
the draw ceremony calls it to freeze the pools: the whole scope, since the
Art 16 skips happen inside the sealed draw (ssj-draw-v2, SPEC §3) and a
pool must follow from the directory alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Optional

from sqlalchemy import Select, case, func, literal, select
from sqlalchemy.orm import joinedload, selectinload

from .. import clock
from .. import audit
from ..auth.roles import SUPERVISOR
from ..draws.algorithm import SampleSizeError, sample_size
from ..extensions import db
from ..models import (
    AnnualPlan,
    Department,
    Inspector,
    Matter,
    PlanItem,
    Section,
    Stratum,
    Target,
    Task,
    TaskMatter,
    TaskPartner,
    Township,
    User,
)
from ..models.draws import TASK_STATUSES
from . import rules
from .forms import PlanForm, TaskChoices, TaskForm
from .policy import PLANNERS, leads_draws



def _now() -> datetime:
    return clock.now()


def _plan_ref(plan: AnnualPlan) -> dict[str, Any]:
    return {"plan": plan.id, "section": plan.section.code, "year": plan.year}


# --- annual plans -------------------------------------------------------------


def visible_plans(user) -> list[AnnualPlan]:
    """A supervisor's whole department; staff and heads their own section."""
    stmt = select(AnnualPlan).join(Section, AnnualPlan.section_id == Section.id)
    if user.has_role(SUPERVISOR):
        stmt = stmt.where(Section.department_id == user.department_id)
    elif user.section_id is not None:
        stmt = stmt.where(AnnualPlan.section_id == user.section_id)
    else:
        return []
    stmt = stmt.order_by(AnnualPlan.year.desc(), Section.code).options(
        selectinload(AnnualPlan.items), joinedload(AnnualPlan.section)
    )
    return list(db.session.execute(stmt).scalars())


def taken_years(section_id: int) -> set[int]:
    return set(db.session.execute(select(AnnualPlan.year).where(AnnualPlan.section_id == section_id)).scalars())


def active_matters(section_id: int) -> list[Matter]:
    return list(
        db.session.execute(
            select(Matter).where(Matter.section_id == section_id, Matter.status == "active").order_by(Matter.code)
        ).scalars()
    )


def create_plan(section_id: int, year: int, user: User) -> AnnualPlan:
    """A draft plan with one line per active matter, starting from the matter list's frequency and ratio."""
    plan = AnnualPlan(section_id=section_id, year=year, status="draft", shortfall_reason="", decision_note="")
    for m in active_matters(section_id):
        plan.items.append(
            PlanItem(matter=m, rounds=min(m.frequency, rules.MAX_ROUNDS), ratio_percent=m.ratio_percent, months="")
        )
    db.session.add(plan)
    db.session.flush()
    audit.record("plan_created", objects={**_plan_ref(plan), "items": len(plan.items)})
    return plan


def matters_missing_from(plan: AnnualPlan) -> list[Matter]:
    """Active matters of the section that the plan has no line for (added to the list since)."""
    planned = {i.matter_id for i in plan.items}
    return [m for m in active_matters(plan.section_id) if m.id not in planned]


def save_plan(plan: AnnualPlan, form: PlanForm) -> int:
    """Write the form into the plan; returns how many lines changed."""
    items = {i.matter_id: i for i in plan.items}
    changed = 0
    for row in form.rows:
        values = row.values()
        item = items.get(row.matter_id)
        if item is None:
            plan.items.append(PlanItem(matter_id=row.matter_id, **values))
            changed += 1
            continue
        if any(getattr(item, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(item, k, v)
            changed += 1
    if plan.shortfall_reason != form.shortfall_reason:
        plan.shortfall_reason = form.shortfall_reason
        changed += 1
    return changed


def item_shortfalls(plan: AnnualPlan) -> dict[int, list[str]]:
    """Art 7 shortfalls per plan line (by matter id); lines that meet Art 7 are absent."""
    out = {}
    for item in plan.items:
        notes = rules.art7_shortfalls(item.rounds, item.ratio_percent)
        if notes:
            out[item.matter_id] = notes
    return out


def submission_problems(plan: AnnualPlan) -> list[str]:
    """Everything that stops a plan from going to a supervisor, in words for the page."""
    problems = []
    if not plan.items:
        problems.append("计划中还没有任何抽查事项。请先在事项清单中录入本科室的事项，再修改本计划。")
    missing = matters_missing_from(plan)
    if missing:
        names = "、".join(m.name for m in missing)
        problems.append(f"事项清单中新增的“{names}”还没有列入本计划：请点击“修改计划”，核对后保存。")
    if not plan.shortfall_reason.strip():
        unexplained = [
            i.matter.name for i in sorted(plan.items, key=lambda i: i.matter.code)
            if i.matter_id in item_shortfalls(plan) and not i.reason.strip()
        ]
        if unexplained:
            problems.append(
                f"“{'、'.join(unexplained)}”未达到细则第七条的要求（每年不少于 3 次、每次不低于 1%），"
                "需要书面说明理由：请在该事项的“说明”中或在“总体说明”中写明，再提交。"
            )
    return problems


def submit_plan(plan: AnnualPlan, user: User) -> None:
    plan.status = "submitted"
    plan.submitted_by_id = user.id
    plan.submitted_at = _now()
    audit.record(
        "plan_submitted",
        objects={**_plan_ref(plan), "shortfalls": len(item_shortfalls(plan))},
    )


def decide_plan(plan: AnnualPlan, user: User, approve: bool, note: str) -> None:
    """A supervisor's approval or return, with the decision in the access log (Art 18)."""
    plan.status = "approved" if approve else "returned"
    plan.decided_by_id = user.id
    plan.decided_at = _now()
    plan.decision_note = note
    audit.record(
        "plan_approved" if approve else "plan_returned",
        reason=note or None,
        objects={**_plan_ref(plan), "decision": plan.status, "submitted_by": plan.submitted_by.username},
    )


def reopen_plan(plan: AnnualPlan, user: User, note: str) -> None:
    """An approved plan goes back to its section for a new version; the approval stays in the log."""
    previous = plan.decided_by.username if plan.decided_by else None
    plan.status = "returned"
    plan.decided_by_id = user.id
    plan.decided_at = _now()
    plan.decision_note = note
    audit.record(
        "plan_reopened",
        reason=note,
        objects={**_plan_ref(plan), "decision": "reopened", "approved_by": previous},
    )


def approved_plan_for(section_id: int, year: int) -> Optional[AnnualPlan]:
    return db.session.execute(
        select(AnnualPlan).where(
            AnnualPlan.section_id == section_id, AnnualPlan.year == year, AnnualPlan.status == "approved"
        )
    ).scalar_one_or_none()


# What the public sees of an approved plan (SPEC §6): no people, no internal notes.
PUBLIC_PLAN_FIELDS = ("department", "section", "year", "approved_on", "items")
PUBLIC_ITEM_FIELDS = ("code", "name", "rounds", "ratio_percent", "months")


def approved_plans(year: Optional[int] = None) -> list[dict[str, Any]]:
    """Approved annual plans of every department as plain dicts of public fields, newest year first."""
    stmt = (
        select(AnnualPlan)
        .join(Section, AnnualPlan.section_id == Section.id)
        .join(Department, Section.department_id == Department.id)
        .where(AnnualPlan.status == "approved")
        .order_by(AnnualPlan.year.desc(), Department.code, Section.code)
        .options(
            selectinload(AnnualPlan.items).joinedload(PlanItem.matter),
            joinedload(AnnualPlan.section).joinedload(Section.department),
        )
    )
    if year is not None:
        stmt = stmt.where(AnnualPlan.year == year)
    zone = clock.zone()
    out = []
    for plan in db.session.execute(stmt).scalars():
        items = [
            {
                "code": i.matter.code,
                "name": i.matter.name,
                "rounds": i.rounds,
                "ratio_percent": i.ratio_percent,
                "months": i.month_list,
            }
            for i in sorted(plan.items, key=lambda i: i.matter.code)
        ]
        out.append(
            {
                "department": plan.section.department.name,
                "section": plan.section.name,
                "year": plan.year,
                "approved_on": plan.decided_at.astimezone(zone).date() if plan.decided_at else None,
                "items": items,
            }
        )
    return out


# --- tasks: choices, list, save -------------------------------------------------


def department_industries(department_id: int) -> list[str]:
    return list(
        db.session.execute(
            select(Target.industry)
            .where(Target.department_id == department_id, Target.industry != "")
            .distinct()
            .order_by(Target.industry)
        ).scalars()
    )


def task_choices(section: Section, year: Optional[int], task: Optional[Task] = None) -> TaskChoices:
    partners = db.session.execute(
        select(Department).where(Department.id != section.department_id).order_by(Department.code)
    ).scalars()
    industries = department_industries(section.department_id)
    if task is not None:
        # An industry no target has any longer stays choosable, so saving never drops it silently.
        industries = sorted(set(industries) | set(task.industry_list))
    return TaskChoices(
        matters={m.id: m for m in active_matters(section.id)},
        townships={t.id: t for t in db.session.execute(select(Township).order_by(Township.code)).scalars()},
        partners={d.id: d for d in partners},
        industries=industries,
        plan=approved_plan_for(section.id, year) if year else None,
    )


def township_names(ids: list[int]) -> list[str]:
    if not ids:
        return []
    return list(db.session.execute(select(Township.name).where(Township.id.in_(ids)).order_by(Township.code)).scalars())


def default_general_ratio(section_id: int, year: int) -> str:
    """The ratio a new task starts from: the approved plan's highest, else the matter list's, else 1%."""
    plan = approved_plan_for(section_id, year)
    ratios = [i.ratio_percent for i in plan.items] if plan else [m.ratio_percent for m in active_matters(section_id)]
    return max(ratios, key=rules.ratio_value) if ratios else "1"


@dataclass
class TaskFilters:
    year: Optional[int] = None
    status: str = ""

    @classmethod
    def from_args(cls, args) -> "TaskFilters":
        year = args.get("year", "").strip()
        status = args.get("status", "").strip()
        return cls(year=int(year) if year.isdigit() else None, status=status if status in TASK_STATUSES else "")

    @property
    def filtered(self) -> bool:
        return self.year is not None or bool(self.status)


def tasks_query(user, filters: TaskFilters) -> tuple[Select, Select]:
    """(page query, count query) of the tasks the user may see: a supervisor's or the 大队's department, else their section."""
    if user.has_role(SUPERVISOR) or leads_draws(user):
        # The 大队 organises the draw of every section's task (Art 5), so it lists them all.
        scope = [Task.section_id.in_(select(Section.id).where(Section.department_id == user.department_id))]
    elif user.has_role(*PLANNERS) and user.section_id is not None:
        scope = [Task.section_id == user.section_id]
    else:
        scope = [Task.id.is_(None)]  # nobody's tasks
    if filters.year is not None:
        scope.append(Task.year == filters.year)
    if filters.status:
        scope.append(Task.status == filters.status)
    stmt = (
        select(Task)
        .where(*scope)
        .order_by(Task.year.desc(), Task.planned_start.desc(), Task.id.desc())
        .options(joinedload(Task.section), selectinload(Task.matters).joinedload(TaskMatter.matter))
    )
    return stmt, select(func.count(Task.id)).where(*scope)


def task_years(user) -> list[int]:
    stmt, _ = tasks_query(user, TaskFilters())
    ids = stmt.with_only_columns(Task.year).distinct().order_by(None).order_by(Task.year.desc())
    return list(db.session.execute(ids).scalars())


def save_task(form: TaskForm, task: Optional[Task], section: Section, choices: TaskChoices, user: User) -> Task:
    values = form.values()
    created = task is None
    if created:
        task = Task(section_id=section.id, organizer_id=user.id, status="planned")
        db.session.add(task)
    changed = sorted(k for k, v in values.items() if getattr(task, k) != v)
    for k, v in values.items():
        setattr(task, k, v)
    task.plan_id = choices.plan.id if choices.plan is not None else None

    have = {tm.matter_id: tm for tm in task.matters}
    if set(have) != set(form.matter_ids):
        changed.append("matters")
    task.matters = [have.get(m) or TaskMatter(matter_id=m) for m in form.matter_ids]
    have_p = {p.department_id: p for p in task.partners}
    if set(have_p) != set(form.partner_ids):
        changed.append("partners")
    task.partners = [have_p.get(d) or TaskPartner(department_id=d) for d in sorted(set(form.partner_ids))]
    # Existing strata are updated in place: replacing them would insert the new
    # row before deleting the old one and trip the (task, name) unique constraint.
    have_s = {s.kind: s for s in task.strata}
    strata = []
    for values_s in form.strata_values():
        s = have_s.get(values_s["kind"]) or Stratum(kind=values_s["kind"])
        if any(getattr(s, k, None) != v for k, v in values_s.items()):
            changed.append(f"stratum:{values_s['kind']}")
        for k, v in values_s.items():
            setattr(s, k, v)
        strata.append(s)
    if set(have_s) - {s.kind for s in strata}:
        changed.append("strata_removed")
    task.strata = strata
    db.session.flush()
    # Art 18: a round beyond the plan's number or outside its months goes on the record,
    # where the discipline office's flags find it (oversight.flags "outside_plan").
    departures = sorted({code for code, _ in plan_departures([section.id], task.year).get(task.id, [])})
    audit.record(
        "task_created" if created else "task_updated",
        task_id=task.id,
        objects={"task": task.id, "section": section.code, "out_of_plan": task.out_of_plan, "fields": changed,
                 **({"art18": departures} if departures else {})},
    )
    return task


def plan_departures(section_ids: Iterable[int], year: int) -> dict[int, list[tuple[str, str]]]:
    """Art 18 for the sections' tasks of a year: rounds beyond the approved plan's number, or
    outside its months (rules.plan_departures), by task id. A fixed number of queries."""
    section_ids = list(section_ids)
    tasks = db.session.execute(
        select(Task.id, Task.section_id, Task.planned_start, Task.planned_end)
        .where(Task.section_id.in_(section_ids), Task.year == year)
    ).all()
    if not tasks:
        return {}
    matters: dict[int, list[int]] = {}
    for task_id, matter_id in db.session.execute(
        select(TaskMatter.task_id, TaskMatter.matter_id).where(TaskMatter.task_id.in_([t.id for t in tasks]))
    ):
        matters.setdefault(task_id, []).append(matter_id)
    items: dict[int, dict[int, tuple[int, list[int]]]] = {}
    for section_id, item in db.session.execute(
        select(AnnualPlan.section_id, PlanItem).join(PlanItem, PlanItem.plan_id == AnnualPlan.id)
        .where(AnnualPlan.section_id.in_(section_ids), AnnualPlan.year == year, AnnualPlan.status == "approved",
               PlanItem.rounds > 0)
    ).all():
        items.setdefault(section_id, {})[item.matter_id] = (item.rounds, item.month_list)
    names = dict(db.session.execute(select(Matter.id, Matter.name).where(
        Matter.id.in_({m for ms in matters.values() for m in ms}))).all())
    out: dict[int, list[tuple[str, str]]] = {}
    for section_id in section_ids:
        rounds = [(t.id, t.planned_start, t.planned_end, matters.get(t.id, [])) for t in tasks if t.section_id == section_id]
        out.update(rules.plan_departures(rounds, items.get(section_id, {}), names))
    return out


def live_plan_coverage(task: Task) -> tuple[Optional[AnnualPlan], list[Matter]]:
    """The approved plan of the task's year now, and the task's matters it does not cover."""
    plan = approved_plan_for(task.section_id, task.year)
    planned = {i.matter_id for i in plan.items if i.rounds > 0} if plan else set()
    return plan, [tm.matter for tm in task.matters if tm.matter_id not in planned]


# --- pools ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which of the department's targets a task covers: operating, and inside its filters."""

    department_id: int
    industries: tuple[str, ...] = ()
    township_ids: tuple[int, ...] = ()
    size_filter: str = "all"

    @classmethod
    def of_task(cls, task: Task) -> "Scope":
        return cls(
            task.section.department_id, tuple(task.industry_list), tuple(task.township_id_list), task.size_filter
        )

    @classmethod
    def of_form(cls, form: TaskForm, department_id: int) -> "Scope":
        return cls(department_id, tuple(form.industries), tuple(form.township_ids), form.size_filter)

    def conditions(self) -> list:
        # 存续 only: a cancelled, revoked or moved unit cannot be inspected (SPEC §2).
        where = [Target.department_id == self.department_id, Target.status == "operating"]
        if self.industries:
            where.append(Target.industry.in_(self.industries))
        if self.township_ids:
            where.append(Target.township_id.in_(self.township_ids))
        if self.size_filter == "small_micro":
            where.append(Target.is_small_micro.is_(True))
        elif self.size_filter == "not_small":
            where.append(Target.is_small_micro.is_(False))
        return where


def stratum_case(enabled: Iterable[str]):
    """`rules.stratum_kind` as a SQL expression: the kind of stratum each target falls in.

    Computed by the database so that a pool of 100,000 targets comes back as
    plain (code, kind) pairs without per-row Python decisions or type processing.
    """
    conditions = {"special": Target.special_clause(), "small_micro": Target.is_small_micro.is_(True)}
    whens = [(conditions[kind], literal(kind)) for kind in rules.STRATUM_ORDER if kind in enabled and kind in conditions]
    return case(*whens, else_=literal("general")) if whens else literal("general")


def pool_sizes(scope: Scope, enabled: Iterable[str]) -> dict[str, int]:
    """How many targets each enabled stratum holds, by one grouped count (the frozen pool sizes)."""
    enabled = list(enabled)
    kinds = select(stratum_case(enabled).label("kind")).where(*scope.conditions()).subquery()
    # Grouping a subquery's column rather than the CASE itself: PostgreSQL does
    # not match a repeated expression whose bound parameters are numbered anew.
    rows = db.session.execute(select(kinds.c.kind, func.count()).group_by(kinds.c.kind))
    sizes = dict.fromkeys(enabled, 0)
    for kind, n in rows:
        sizes[kind] += n
    return sizes


def _type_counts(department_id: int, township_ids: Iterable[int] = ()) -> tuple[dict, dict]:
    """The department's operating targets by (industry, small/micro, special): the whole county, and
    those in `township_ids` (all of them when empty).

    One grouped count over the directory answers both the county base of Art 7 and, restricted to
    the task's townships, its pool: the task page's preview made two passes for them.
    """
    townships = list(township_ids)
    in_area = case((Target.township_id.in_(townships), True), else_=False) if townships else literal(True)
    special = case((Target.special_clause(), literal(True)), else_=literal(False)).label("special")
    rows = select(Target.industry.label("industry"), Target.is_small_micro.label("small"), special,
                  in_area.label("in_area")).where(
        Target.department_id == department_id, Target.status == "operating").subquery()
    county: dict[tuple[str, bool, bool], int] = {}
    area: dict[tuple[str, bool, bool], int] = {}
    # Grouping the subquery's columns: PostgreSQL does not match a repeated expression whose
    # bound parameters are numbered anew.
    for industry, small, is_special, here, n in db.session.execute(
        select(rows.c.industry, rows.c.small, rows.c.special, rows.c.in_area, func.count())
        .group_by(rows.c.industry, rows.c.small, rows.c.special, rows.c.in_area)
    ):
        key = (industry or "", bool(small), bool(is_special))
        county[key] = county.get(key, 0) + n
        if here:
            area[key] = area.get(key, 0) + n
    return county, area


def same_type_counts(department_id: int) -> dict[tuple[str, bool, bool], int]:
    """The department's operating targets by (industry, small/micro, special): the county base of Art 7.

    One grouped count over the whole directory, from which every stratum of every
    task is measured (rules.county_base). The directory is not secret, and these
    counts do not depend on any draw (SPEC §4).
    """
    return _type_counts(department_id)[0]


def county_sizes(scope: Scope, enabled: Iterable[str]) -> dict[str, int]:
    """Per stratum, the county's same-type targets for a task of this scope (Art 7's base)."""
    return rules.county_base(same_type_counts(scope.department_id), scope.industries, scope.size_filter, list(enabled))


def eligible_inspectors_stmt(department_ids: Iterable[int], on_date: date) -> Select:
    """Inspectors who may be drawn on a day: the SQL form of Inspector.eligible_on (SPEC §2)."""
    return select(Inspector.staff_no).where(
        Inspector.department_id.in_(list(department_ids)),
        Inspector.status == "active",
        Inspector.cert_expiry >= on_date,
    )


def certificate_needed_through(task: Task, on_date: date) -> date:
    """The last day an inspector's certificate must cover to be drawn for `task` (SPEC §3).

    The task's planned end, not only the draw day: an inspector whose
    certificate lapses mid-inspection could not lawfully inspect (Art 5).
    A task without a planned end, or one ending before the draw, needs the
    draw day at least.
    """
    return max(on_date, task.planned_end) if task.planned_end else on_date


def task_departments(task: Task) -> list[int]:
    """The organising department plus, for a joint task, its partners (Art 11)."""
    return [task.section.department_id, *(p.department_id for p in task.partners)]


def eligible_pools(
    task: Task, on_date: date
) -> tuple[list[tuple[Stratum, list[str]]], list[str]]:
    """The pools a draw of `task` would use on `on_date`.

    Returns ([(stratum, credit codes), ...] in the task's stratum order,
    inspector staff numbers). Targets: the organising department's operating
    targets inside the task's scope filters, each in exactly one stratum by
    `rules.stratum_kind`. Inspectors: active, with a certificate valid
    through the task's planned end (`certificate_needed_through`), in the
    organising and partner departments.

    Nothing is removed for a recent inspection (Art 16): that is the sealed
    draw's business, so these pools reveal nothing about other tasks' lists.

    One query for the targets, each row a plain (code, stratum kind) pair
    computed by the database (no ORM objects); see bench/plan_pools.py for
    the figures over 100,000 targets. Every list is in code-point order, the
    order of the canonical pool text (SPEC §3).
    """
    strata = list(task.strata)
    enabled = [s.kind for s in strata]
    pools: dict[str, list[str]] = {kind: [] for kind in enabled}
    stmt = select(Target.credit_code, stratum_case(enabled)).where(*Scope.of_task(task).conditions())
    # A Core execution on the session's connection (same transaction, no ORM row
    # loading), fetched in one call: iterating the cursor fetches row by row.
    for code, kind in db.session.connection().execute(stmt).all():
        pools[kind].append(code)
    inspectors = sorted(db.session.execute(
        eligible_inspectors_stmt(task_departments(task), certificate_needed_through(task, on_date))
    ).scalars())
    return [(s, sorted(pools[s.kind])) for s in strata], inspectors


# --- the task page's preview ------------------------------------------------------


@dataclass
class StratumPreview:
    name: str
    kind: str
    rule: str
    reason: str
    pool_size: int
    sample_size: Optional[int]
    county: int = 0  # the county's same-type targets (Art 7's base)

    @property
    def share_text(self) -> str:
        share = rules.art7_share(self.sample_size or 0, self.county)
        return rules.percent_text(share) if share is not None and self.sample_size is not None else "—"

    @property
    def below_art7(self) -> bool:
        return self.sample_size is not None and rules.below_art7_share(self.sample_size, self.county)


@dataclass
class Preview:
    on_date: date
    strata: list[StratumPreview]
    inspectors: int
    team_size: int
    cap: Optional[int]
    exclusion_days: int
    warnings: list[str] = field(default_factory=list)

    @property
    def pool_total(self) -> int:
        return sum(s.pool_size for s in self.strata)

    @property
    def sample_total(self) -> int:
        return sum(s.sample_size or 0 for s in self.strata)


def preview(task: Task, on_date: date) -> Preview:
    """Pool sizes and sample sizes k = ceil(N × ratio / 100) if the draw were held on `on_date`."""
    scope, kinds = Scope.of_task(task), [s.kind for s in task.strata]
    # The pool (the task's townships) and the county base (Art 7) from one pass over the directory:
    # the pool is the county base restricted to the task's townships, by the same rules.
    county_counts, area_counts = _type_counts(scope.department_id, scope.township_ids)
    sizes = rules.county_base(area_counts, scope.industries, scope.size_filter, kinds)
    county = rules.county_base(county_counts, scope.industries, scope.size_filter, kinds)
    shown = []
    warnings = []
    for s in task.strata:
        n = sizes.get(s.kind, 0)
        try:
            k: Optional[int] = sample_size(n, s.ratio_percent, s.fixed_count)
        except SampleSizeError as exc:
            k = None
            warnings.append(f"{s.name}：{exc}")
        shown.append(StratumPreview(s.name, s.kind, s.rule_label, s.reason, n, k, county.get(s.kind, 0)))
        if k is not None and n and rules.below_art7_share(k, county.get(s.kind, 0)):
            warnings.append(
                f"{s.name}：将抽取 {k} 户，占全县同类型检查对象 {county.get(s.kind, 0)} 户的 "
                f"{rules.percent_text(rules.art7_share(k, county.get(s.kind, 0)))}，低于细则第七条的 1%"
                + (f"；任务中写明的理由：{s.reason}" if s.reason else "，且任务中没有写明理由") + "。"
            )
        if s.fixed_count is not None and s.fixed_count > n:
            warnings.append(f"{s.name}：固定抽查 {s.fixed_count} 户，但当前只有 {n} 户可抽取，将全部抽取。")
    inspectors = db.session.scalar(
        select(func.count()).select_from(
            eligible_inspectors_stmt(task_departments(task), certificate_needed_through(task, on_date)).subquery()
        )
    ) or 0
    result = Preview(on_date, shown, inspectors, task.team_size, task.cap_per_inspector, task.exclusion_days, warnings)
    if result.pool_total == 0:
        warnings.append("当前抽查范围内没有可抽取的检查对象：请检查行业、乡镇和规模筛选，或先在检查对象名录库中录入对象。")
    if inspectors < task.team_size:
        warnings.append(
            f"目前只有 {inspectors} 名执法检查人员可以参加抽取，少于每组 {task.team_size} 人（细则第五条）。"
            "请核对执法人员名录中的在岗状态和执法证有效期。"
        )
    elif task.cap_per_inspector is not None and result.sample_total * task.team_size > inspectors * task.cap_per_inspector:
        warnings.append(
            f"本次约需 {result.sample_total * task.team_size} 人次检查，而 {inspectors} 名人员每人最多 "
            f"{task.cap_per_inspector} 户，最多只能承担 {inspectors * task.cap_per_inspector} 人次。"
            "请提高每人上限、减小每组人数，或联合其他部门（细则第十一条）。"
        )
    return result
