"""Form parsing and validation for annual plans and tasks (Art 5, 7, 11, 16, 18).

As in the directories, a form keeps exactly what the person typed, so a
rejected form comes back with every value in place and a Chinese message
beside each field to fix (bad input loses nothing). Values reach the
models only through `values()` after `validate()` has passed. The choices a
form may take (the section's matters, townships, partner departments, the
approved plan) are handed in by the service, so validation needs no Flask.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Callable, Optional

from .. import clock
from ..deadlines import report_due_date
from ..directories.forms import parse_ratio
from ..draws.algorithm import SampleSizeError, sample_size
from ..models import AnnualPlan, Department, Matter, Task, Township
from ..models.draws import STRATUM_KINDS
from . import rules

def earliest_publish_date(planned_end: date) -> date:
    """The planned end plus the report's 5 working days (Art 9), in the bureau's calendar: no list goes public sooner."""
    return report_due_date(planned_end).due

YEAR_MIN, YEAR_MAX = 2000, 2099
MAX_EXCLUSION_DAYS = 3650
MAX_TEAM_SIZE = 10
SIZE_FILTERS = {"all": "全部规模", "small_micro": "仅小微企业", "not_small": "不含小微企业"}
REASON_LIMIT = 1000


def _text(form, name: str) -> str:
    return form.get(name, "").strip()


def _ids(form, name: str) -> list[int]:
    return [int(v) for v in form.getlist(name) if v.strip().isdigit()]


def _percent(share: Fraction) -> str:
    """A share shown as a percent with two decimals, computed without floats."""
    value = Decimal(share.numerator) * 100 / Decimal(share.denominator)
    return format(value.quantize(Decimal("0.01")), "f")


def parse_day(raw: str) -> Optional[date]:
    return clock.parse_date(raw)


# --- annual plans -------------------------------------------------------------


@dataclass
class ItemRow:
    """One matter's line in the annual plan: rounds, ratio, months and, if short of Art 7, why."""

    matter_id: int
    code: str
    name: str
    matter_active: bool
    rounds: str = ""
    ratio_percent: str = ""
    months: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_matter(cls, matter: Matter, **values) -> "ItemRow":
        return cls(matter.id, matter.code, matter.name, matter.status == "active", **values)

    def key(self, name: str) -> str:
        return f"{name}-{self.matter_id}"

    @property
    def shortfalls(self) -> list[str]:
        if not self.rounds.isdigit() or rules.ratio_value(self.ratio_percent) is None:
            return []
        return rules.art7_shortfalls(int(self.rounds), self.ratio_percent)

    def validate(self) -> bool:
        e = self.errors
        if not self.rounds.isdigit() or int(self.rounds) > rules.MAX_ROUNDS:
            e["rounds"] = f"每年轮次应为 0–{rules.MAX_ROUNDS} 的整数；细则第七条要求每年不少于 3 次。"
        ratio, problem = parse_ratio(self.ratio_percent)
        if problem:
            e["ratio_percent"] = problem
        else:
            self.ratio_percent = ratio
        months, problem = rules.parse_months(self.months)
        if problem:
            e["months"] = problem
        elif months and "rounds" not in e and len(months) != int(self.rounds):
            e["months"] = f"计划月份填写了 {len(months)} 个，与每年 {self.rounds} 次不一致：请每轮填写一个月份，或留空。"
        elif months is not None:
            self.months = ",".join(str(m) for m in months)
        if len(self.reason) > REASON_LIMIT:
            e["reason"] = f"说明最多 {REASON_LIMIT} 个字。"
        return not e

    def values(self) -> dict:
        return {
            "rounds": int(self.rounds),
            "ratio_percent": self.ratio_percent,
            "months": self.months,
            "reason": self.reason,
        }


@dataclass
class PlanForm:
    """年度抽查计划 (Art 7): one row per matter of the section, plus an overall reason."""

    rows: list[ItemRow]
    shortfall_reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_plan(cls, plan: AnnualPlan, new_matters: list[Matter]) -> "PlanForm":
        rows = [
            ItemRow.for_matter(
                item.matter,
                rounds=str(item.rounds),
                ratio_percent=item.ratio_percent,
                months=item.months,
                reason=item.reason,
            )
            for item in sorted(plan.items, key=lambda i: i.matter.code)
        ]
        # A matter added to the section's list after the plan was drawn up
        # joins it with the matter list's own frequency and ratio.
        rows += [
            ItemRow.for_matter(m, rounds=str(min(m.frequency, rules.MAX_ROUNDS)), ratio_percent=m.ratio_percent)
            for m in new_matters
        ]
        return cls(rows=rows, shortfall_reason=plan.shortfall_reason)

    @classmethod
    def from_request(cls, form, plan: AnnualPlan, new_matters: list[Matter]) -> "PlanForm":
        shown = cls.from_plan(plan, new_matters)
        for row in shown.rows:
            row.rounds = _text(form, row.key("rounds"))
            row.ratio_percent = _text(form, row.key("ratio_percent"))
            row.months = _text(form, row.key("months"))
            row.reason = _text(form, row.key("reason"))
        shown.shortfall_reason = _text(form, "shortfall_reason")
        return shown

    ROW_LABELS = (("rounds", "每年轮次"), ("ratio_percent", "每次比例（%）"), ("months", "计划月份"), ("reason", "说明"))

    def shown(self) -> tuple[dict[str, str], dict[str, str]]:
        """({field: label}, {field: value}) as the form shows them, for "what changed" after a stale save."""
        labels, values = {}, {}
        for row in self.rows:
            for name, label in self.ROW_LABELS:
                labels[row.key(name)] = f"{row.code} {row.name}：{label}"
                values[row.key(name)] = getattr(row, name)
        labels["shortfall_reason"], values["shortfall_reason"] = "总体说明", self.shortfall_reason
        return labels, values

    @property
    def error_count(self) -> int:
        return len(self.errors) + sum(len(r.errors) for r in self.rows)

    def validate(self) -> bool:
        valid = all([row.validate() for row in self.rows])  # a list: every row gets its messages
        if len(self.shortfall_reason) > 2000:
            self.errors["shortfall_reason"] = "总体说明最多 2000 个字。"
        return valid and not self.errors


@dataclass
class NewPlanForm:
    year: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def validate(self, taken_years: set[int]) -> bool:
        if not self.year.isdigit() or not YEAR_MIN <= int(self.year) <= YEAR_MAX:
            self.errors["year"] = "请选择计划年度，例如 2026。"
        elif int(self.year) in taken_years:
            self.errors["year"] = f"本科室 {self.year} 年的年度抽查计划已经存在，请在计划列表中打开它修改，不要重复新建。"
        return not self.errors


# --- tasks --------------------------------------------------------------------


@dataclass
class StratumInput:
    kind: str
    enabled: bool = True
    ratio_percent: str = ""
    fixed_count: str = ""
    reason: str = ""

    @property
    def label(self) -> str:
        return STRATUM_KINDS[self.kind]


@dataclass
class TaskChoices:
    """What a task of this section may refer to, loaded by the service."""

    matters: dict[int, Matter]  # the section's active matters
    townships: dict[int, Township]
    partners: dict[int, Department]  # every other department
    industries: list[str]  # the industries present in the department's target directory
    plan: Optional[AnnualPlan]  # the section's approved plan of the task's year, if any

    def plan_ratio(self, matter_ids: list[int]) -> Optional[str]:
        """The highest ratio the approved plan sets for these matters: the general stratum's default."""
        if self.plan is None:
            return None
        ratios = [i.ratio_percent for i in self.plan.items if i.matter_id in matter_ids]
        return max(ratios, key=rules.ratio_value) if ratios else None

    def uncovered(self, matter_ids: list[int]) -> list[Matter]:
        """The chosen matters that no approved plan of the year covers (Art 18)."""
        planned = {i.matter_id for i in self.plan.items if i.rounds > 0} if self.plan else set()
        return [self.matters[m] for m in matter_ids if m in self.matters and m not in planned]


# (stratum kinds enabled) -> {kind: pool size} under the form's scope; used only
# when a fixed count must be compared with a ratio.
PoolCounter = Callable[["TaskForm", list[str]], dict[str, int]]


@dataclass
class TaskForm:
    """抽查任务: one round of one or more matters, its scope, strata, team and dates."""

    name: str = ""
    year: str = ""
    matter_ids: list[int] = field(default_factory=list)
    out_of_plan_reason: str = ""
    industries: list[str] = field(default_factory=list)
    township_ids: list[int] = field(default_factory=list)
    size_filter: str = "all"
    exclusion_days: str = "180"
    team_size: str = "2"
    cap_per_inspector: str = ""
    partner_ids: list[int] = field(default_factory=list)
    planned_start: str = ""
    planned_end: str = ""
    publish_date: str = ""
    strata: dict[str, StratumInput] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # Set by validate(): matters outside the approved plan, shown beside the reason field.
    uncovered: list[Matter] = field(default_factory=list)

    @classmethod
    def blank(cls, year: int, general_ratio: str) -> "TaskForm":
        special = min(rules.ratio_value(general_ratio) * 2, Decimal(100))
        return cls(
            year=str(year),
            strata={
                "special": StratumInput("special", ratio_percent=format(special.normalize(), "f")),
                "small_micro": StratumInput("small_micro", ratio_percent=general_ratio),
                "general": StratumInput("general", ratio_percent=general_ratio),
            },
        )

    @classmethod
    def from_task(cls, task: Task) -> "TaskForm":
        strata = {kind: StratumInput(kind, enabled=False) for kind in rules.STRATUM_ORDER}
        for s in task.strata:
            strata[s.kind] = StratumInput(
                s.kind,
                ratio_percent=s.ratio_percent or "",
                fixed_count="" if s.fixed_count is None else str(s.fixed_count),
                reason=s.reason,
            )
        return cls(
            name=task.name,
            year=str(task.year),
            matter_ids=[tm.matter_id for tm in task.matters],
            out_of_plan_reason=task.out_of_plan_reason,
            industries=task.industry_list,
            township_ids=task.township_id_list,
            size_filter=task.size_filter,
            exclusion_days=str(task.exclusion_days),
            team_size=str(task.team_size),
            cap_per_inspector="" if task.cap_per_inspector is None else str(task.cap_per_inspector),
            partner_ids=[p.department_id for p in task.partners],
            planned_start=task.planned_start.isoformat() if task.planned_start else "",
            planned_end=task.planned_end.isoformat() if task.planned_end else "",
            publish_date=task.publish_date.isoformat() if task.publish_date else "",
            strata=strata,
        )

    @classmethod
    def from_request(cls, form) -> "TaskForm":
        strata = {}
        for kind in rules.STRATUM_ORDER:
            strata[kind] = StratumInput(
                kind,
                # The general stratum catches every target no other stratum takes.
                enabled=kind == "general" or form.get(f"{kind}_enabled") == "on",
                ratio_percent=_text(form, f"{kind}_ratio"),
                fixed_count=_text(form, f"{kind}_count"),
                reason=_text(form, f"{kind}_reason"),
            )
        return cls(
            name=_text(form, "name"),
            year=_text(form, "year"),
            matter_ids=_ids(form, "matter_ids"),
            out_of_plan_reason=_text(form, "out_of_plan_reason"),
            industries=[v.strip() for v in form.getlist("industries") if v.strip()],
            township_ids=_ids(form, "township_ids"),
            size_filter=form.get("size_filter", ""),
            exclusion_days=_text(form, "exclusion_days"),
            team_size=_text(form, "team_size"),
            cap_per_inspector=_text(form, "cap_per_inspector"),
            partner_ids=_ids(form, "partner_ids"),
            planned_start=_text(form, "planned_start"),
            planned_end=_text(form, "planned_end"),
            publish_date=_text(form, "publish_date"),
            strata=strata,
        )

    LABELS = {"name": "任务名称", "year": "任务年度", "matter_ids": "抽查事项", "out_of_plan_reason": "计划外原因",
              "industries": "行业类型", "township_ids": "乡镇（街道）", "size_filter": "企业规模",
              "exclusion_days": "避免重复检查（天）", "team_size": "每组执法人员人数",
              "cap_per_inspector": "每人最多检查户数", "partner_ids": "联合抽查部门", "planned_start": "计划开始日期",
              "planned_end": "计划结束日期", "publish_date": "结果公开日期"}
    STRATUM_LABELS = (("enabled", "单独设置"), ("ratio_percent", "抽查比例（%）"), ("fixed_count", "固定户数"),
                      ("reason", "理由"))

    def shown(self, names: dict[str, dict]) -> tuple[dict[str, str], dict]:
        """({field: label}, {field: value}) as the form shows them, for "what changed" after a stale save.
        `names`: how ids and codes read ({"matter_ids": {id: name}, ...})."""
        labels, values = dict(self.LABELS), {}
        for name in self.LABELS:
            value = getattr(self, name)
            named = names.get(name, {})
            if isinstance(value, list):
                values[name] = [str(named.get(v, v)) for v in value]
            else:
                values[name] = str(named.get(value, value))
        for kind in rules.STRATUM_ORDER:
            s = self.strata.get(kind) or StratumInput(kind, enabled=False)
            for name, label in self.STRATUM_LABELS:
                key = f"{kind}_{name}"
                labels[key] = f"{STRATUM_KINDS[kind]}：{label}"
                value = getattr(s, name)
                values[key] = ("是" if value else "否") if name == "enabled" else value
        return labels, values

    @property
    def enabled_kinds(self) -> list[str]:
        return [k for k in rules.STRATUM_ORDER if self.strata[k].enabled]

    # -- validation ------------------------------------------------------------

    def validate(self, choices: TaskChoices, count_pools: PoolCounter, count_county: Optional[PoolCounter] = None) -> bool:
        e = self.errors
        if not self.name:
            e["name"] = "请填写任务名称，例如“2026 年第二季度工资支付情况专项抽查”。"
        elif len(self.name) > 200:
            e["name"] = "任务名称最多 200 个字。"
        if not self.year.isdigit() or not YEAR_MIN <= int(self.year) <= YEAR_MAX:
            e["year"] = "请填写任务所属年度，例如 2026。"
        self._validate_matters(choices)
        if len(self.industries) > 200 or any(len(i) > 64 for i in self.industries):
            e["industries"] = "行业选择有误，请从列表中重新选择。"
        if any(t not in choices.townships for t in self.township_ids):
            e["township_ids"] = "请从列表中选择乡镇（街道）。"
        if self.size_filter not in SIZE_FILTERS:
            e["size_filter"] = "请选择企业规模范围。"
        if not self.exclusion_days.isdigit() or int(self.exclusion_days) > MAX_EXCLUSION_DAYS:
            e["exclusion_days"] = f"请填写 0–{MAX_EXCLUSION_DAYS} 之间的天数；0 表示不排除近期被检查过的对象。"
        if not self.team_size.isdigit() or int(self.team_size) < rules.MIN_TEAM_SIZE:
            e["team_size"] = "每个检查组至少 2 名执法检查人员（细则第五条“随机抽取2名以上执法检查人员”）。"
        elif int(self.team_size) > MAX_TEAM_SIZE:
            e["team_size"] = f"每组人数不能超过 {MAX_TEAM_SIZE} 人。"
        if self.cap_per_inspector and (
            not self.cap_per_inspector.isdigit() or int(self.cap_per_inspector) < 1
        ):
            e["cap_per_inspector"] = "每人最多检查户数应为正整数；不限制请留空。"
        if any(p not in choices.partners for p in self.partner_ids):
            e["partner_ids"] = "请从列表中选择联合抽查的部门。"
        self._validate_dates()
        self._validate_strata(choices, count_pools, count_county)
        return not e

    def _validate_matters(self, choices: TaskChoices) -> None:
        e = self.errors
        self.matter_ids = list(dict.fromkeys(self.matter_ids))
        if not self.matter_ids:
            e["matter_ids"] = "请至少选择一个本科室的抽查事项。"
            return
        if any(m not in choices.matters for m in self.matter_ids):
            e["matter_ids"] = "只能选择本科室状态为“有效”的抽查事项；已暂停或废止的事项不能用于新的抽查。"
            return
        if "year" in e:
            return
        self.uncovered = choices.uncovered(self.matter_ids)
        if self.uncovered and not self.out_of_plan_reason:
            names = "、".join(m.name for m in self.uncovered)
            e["out_of_plan_reason"] = (
                f"“{names}”不在本科室 {self.year} 年已批准的年度抽查计划中，本任务属于计划外检查（细则第十八条）。"
                "请写明开展的依据和理由，例如上级交办或投诉举报集中；或先把事项列入年度计划并报批。"
            )
        elif len(self.out_of_plan_reason) > REASON_LIMIT:
            e["out_of_plan_reason"] = f"计划外原因最多 {REASON_LIMIT} 个字。"

    def _validate_dates(self) -> None:
        e = self.errors
        days = {}
        labels = {"planned_start": "计划开始日期", "planned_end": "计划结束日期", "publish_date": "结果公开日期"}
        for name, label in labels.items():
            day = parse_day(getattr(self, name))
            if day is None:
                e[name] = f"请按 年-月-日 填写{label}，例如 2026-05-20。"
            else:
                days[name] = day
                setattr(self, name, day.isoformat())
        start, end, publish = days.get("planned_start"), days.get("planned_end"), days.get("publish_date")
        if start and self.year.isdigit() and start.year != int(self.year):
            e["planned_start"] = f"计划开始日期应在任务年度 {self.year} 年内。"
        if start and end and end < start:
            e["planned_end"] = "计划结束日期不能早于开始日期。"
        if end and publish:
            earliest = earliest_publish_date(end)
            if publish < earliest:
                e["publish_date"] = (
                    f"结果公开日期不能早于 {earliest.isoformat()}：计划结束日期 {end.isoformat()} 之后，"
                    f"检查报告还有 5 个工作日的期限（细则第九条），报告完成后才能公开（细则第十三条、SPEC §3）。"
                    f"请把公开日期改为 {earliest.isoformat()} 或更晚。"
                )

    def _validate_strata(self, choices: TaskChoices, count_pools: PoolCounter,
                         count_county: Optional[PoolCounter] = None) -> None:
        e = self.errors
        if self.size_filter == "not_small" and self.strata["small_micro"].enabled:
            e["small_micro"] = "抽查范围已设为“不含小微企业”，请取消“小微企业”分层，或把企业规模改为“全部规模”。"
        general = self.strata["general"]
        if not general.ratio_percent and not general.fixed_count and "matter_ids" not in e:
            # Blank means the plan's ratio (Art 7 "每次抽查对象不低于……"), or the matter list's.
            general.ratio_percent = choices.plan_ratio(self.matter_ids) or max(
                (choices.matters[m].ratio_percent for m in self.matter_ids), key=rules.ratio_value
            )
        rules_ok = {}
        for kind in self.enabled_kinds:
            rules_ok[kind] = self._validate_stratum_rule(self.strata[kind])
        if rules_ok.get("general"):
            self._general_floor(choices)
        if rules_ok.get("small_micro"):
            s = self.strata["small_micro"]
            if s.ratio_percent and rules.below_art7_ratio(s.ratio_percent) and not s.reason:
                e["small_micro"] = (
                    f"小微企业抽查比例 {s.ratio_percent}% 低于 1%。细则第七条允许小微企业“根据实际适当减少”，"
                    "但须在“理由”中写明依据，例如本行业小微企业数量多、风险低。"
                )
        if rules_ok.get("special") and rules_ok.get("general"):
            self._special_not_lower(count_pools)
        if count_county is not None:
            self._art7_against_county([k for k, ok in rules_ok.items() if ok], count_pools, count_county)

    def _art7_against_county(self, kinds: list[str], count_pools: PoolCounter, count_county: PoolCounter) -> None:
        """Art 7 per stratum: what this round draws, as a share of the county's same-type targets.

        A ratio of 5 % of one township's pool may be 0.22 % of the county, and a
        fixed count of 1 of 3,000 is 0.03 %: below 1 % either needs the stratum's
        written reason, as a ratio below 1 % does (only small/micro enterprises
        are expected to go lower, and they too say why).
        """
        if any(name in self.errors for name in ("size_filter", "industries", "township_ids")):
            return
        kinds = [k for k in kinds if k not in self.errors and not self.strata[k].reason]
        if not kinds:
            return
        sizes, county = count_pools(self, self.enabled_kinds), count_county(self, self.enabled_kinds)
        for kind in kinds:
            s, n, base = self.strata[kind], sizes.get(kind, 0), county.get(kind, 0)
            try:
                k = sample_size(n, s.ratio_percent or None, int(s.fixed_count) if s.fixed_count else None)
            except SampleSizeError:
                continue
            if n == 0 or not rules.below_art7_share(k, base):
                continue
            rule = f"抽查比例 {s.ratio_percent}%" if s.ratio_percent else f"固定抽查 {s.fixed_count} 户"
            scope = f"本次范围内 {n} 户中抽取 {k} 户" if n != base else f"抽取 {k} 户"
            self.errors[kind] = (
                f"{s.label}：{rule}，按当前名录{scope}，只占全县同类型检查对象 {base} 户的 "
                f"{rules.percent_text(rules.art7_share(k, base))}，低于细则第七条规定的 1%"
                "（按全县同类型对象计算，不按本次筛选的范围计算）。请提高比例或户数，或在“理由”中写明原因。"
            )

    def _validate_stratum_rule(self, s: StratumInput) -> bool:
        e = self.errors
        if len(s.reason) > REASON_LIMIT:
            e[s.kind] = f"{s.label}的理由最多 {REASON_LIMIT} 个字。"
            return False
        if s.ratio_percent and s.fixed_count:
            e[s.kind] = f"{s.label}：抽查比例和固定户数只能填一项，请删去其中一项。"
            return False
        if not s.ratio_percent and not s.fixed_count:
            e[s.kind] = f"{s.label}：请填写抽查比例（%）或固定抽查户数。"
            return False
        if s.ratio_percent:
            ratio, problem = parse_ratio(s.ratio_percent)
            if problem:
                e[s.kind] = f"{s.label}：{problem}"
                return False
            s.ratio_percent = ratio
        elif not s.fixed_count.isdigit() or int(s.fixed_count) < 1:
            e[s.kind] = f"{s.label}：固定抽查户数应为正整数。"
            return False
        return True

    def _general_floor(self, choices: TaskChoices) -> None:
        s = self.strata["general"]
        if not s.ratio_percent or s.reason:
            return
        if rules.below_art7_ratio(s.ratio_percent):
            self.errors["general"] = (
                f"一般对象抽查比例 {s.ratio_percent}% 低于细则第七条规定的 1%。请改为 1 或更高，"
                "或在“理由”中写明为何本次需要降低比例。"
            )
            return
        planned = None if "matter_ids" in self.errors else choices.plan_ratio(self.matter_ids)
        if planned and rules.ratio_value(s.ratio_percent) < rules.ratio_value(planned):
            self.errors["general"] = (
                f"一般对象抽查比例 {s.ratio_percent}% 低于已批准年度计划中的 {planned}%。"
                "请按计划比例填写，或在“理由”中写明本次降低比例的原因。"
            )

    def _special_not_lower(self, count_pools: PoolCounter) -> None:
        """Art 7 "加大随机抽查力度": the special stratum is drawn at least as heavily as the general one."""
        special, general = self.strata["special"], self.strata["general"]
        if special.ratio_percent and general.ratio_percent:
            if rules.ratio_value(special.ratio_percent) < rules.ratio_value(general.ratio_percent):
                self.errors["special"] = (
                    f"重点监管对象的抽查比例 {special.ratio_percent}% 低于一般对象的 {general.ratio_percent}%。"
                    "细则第七条要求对特殊监管对象加大抽查力度，请填写不低于一般对象的比例。"
                )
            return
        # A fixed count has no ratio of its own: compare the shares of today's pools.
        if any(name in self.errors for name in ("size_filter", "industries", "township_ids")):
            return
        sizes = count_pools(self, self.enabled_kinds)

        def share(s: StratumInput, n: int) -> Optional[Fraction]:
            if s.ratio_percent:
                return Fraction(s.ratio_percent) / 100
            return Fraction(min(int(s.fixed_count), n), n) if n else None

        mine, theirs = share(special, sizes.get("special", 0)), share(general, sizes.get("general", 0))
        if mine is not None and theirs is not None and mine < theirs:
            self.errors["special"] = (
                f"按当前名录，重点监管对象将抽取约 {_percent(mine)}%，低于一般对象的约 {_percent(theirs)}%。"
                "细则第七条要求对特殊监管对象加大抽查力度，请提高重点监管对象的比例或户数。"
            )

    # -- values ----------------------------------------------------------------

    def values(self) -> dict:
        return {
            "name": self.name,
            "year": int(self.year),
            "industries": "\n".join(dict.fromkeys(self.industries)),
            "township_ids": ",".join(str(t) for t in sorted(set(self.township_ids))),
            "size_filter": self.size_filter,
            "exclusion_days": int(self.exclusion_days),
            "team_size": int(self.team_size),
            "cap_per_inspector": int(self.cap_per_inspector) if self.cap_per_inspector else None,
            "planned_start": date.fromisoformat(self.planned_start),
            "planned_end": date.fromisoformat(self.planned_end),
            "publish_date": date.fromisoformat(self.publish_date),
            "out_of_plan": bool(self.uncovered),
            "out_of_plan_reason": self.out_of_plan_reason if self.uncovered else "",
        }

    def strata_values(self) -> list[dict]:
        out = []
        for position, kind in enumerate(self.enabled_kinds, start=1):
            s = self.strata[kind]
            out.append(
                {
                    "position": position,
                    "kind": kind,
                    "name": STRATUM_KINDS[kind],
                    "ratio_percent": s.ratio_percent or None,
                    "fixed_count": int(s.fixed_count) if s.fixed_count else None,
                    "reason": s.reason,
                }
            )
        return out
