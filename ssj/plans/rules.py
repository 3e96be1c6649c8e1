"""The rules of plans and tasks as pure functions (Art 5, 7, 18), with no Flask or database.

Art 7: "原则上每年开展随机抽查不少于3次，每次抽查对象不低于同类型、同专业统计调查对象的1%
(小微企业可根据实际适当减少)……特殊监管对象，要加大随机抽查力度". Ratios are decimal
text compared as Decimal, never as floats, so "0.999" is below 1 and "1.0" is not.

Strata are disjoint. A target belongs to the first enabled stratum it
qualifies for, in STRATUM_ORDER: special-supervision targets first (they are
drawn at the higher ratio even when small), then small/micro enterprises,
then everyone else. A disabled stratum's targets fall through to the next.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Mapping, Optional, Sequence

ART7_MIN_ROUNDS = 3
ART7_MIN_RATIO = Decimal(1)
MAX_ROUNDS = 12  # one round a month at most: each round is a draw, an inspection and a report
MIN_TEAM_SIZE = 2  # Art 5: "随机抽取2名以上执法检查人员"

STRATUM_ORDER = ("special", "small_micro", "general")
STRATUM_RULE_TEXT = (
    "各分层互不重叠：每个检查对象只归入它符合条件的第一个分层，顺序为"
    "①重点监管对象（被投诉举报 3 次以上、有严重违法违规记录或信用等级为 C/D 级）、"
    "②小微企业、③一般对象（其余全部）。不单独设置的分层，其对象并入后面的分层。"
)


def ratio_value(text: str) -> Optional[Decimal]:
    try:
        return Decimal(text)
    except (InvalidOperation, TypeError):
        return None


def below_art7_ratio(ratio: str) -> bool:
    value = ratio_value(ratio)
    return value is not None and value < ART7_MIN_RATIO


def art7_shortfalls(rounds: int, ratio: str) -> list[str]:
    """Why a planned matter falls short of Art 7, one Chinese sentence per reason; empty if it meets it."""
    notes = []
    if rounds < ART7_MIN_ROUNDS:
        notes.append(f"每年计划 {rounds} 次，少于细则第七条规定的每年不少于 {ART7_MIN_ROUNDS} 次。")
    if below_art7_ratio(ratio):
        notes.append(f"每次抽查比例 {ratio}%，低于细则第七条规定的不低于 1%（仅小微企业可根据实际适当减少）。")
    return notes


def parse_months(raw: str) -> tuple[Optional[list[int]], Optional[str]]:
    """Planned months like "3,6,9" or "3、6、9月" → ([3, 6, 9], None), or (None, Chinese reason)."""
    text = raw.replace("月", " ").replace("，", ",").replace("、", ",").replace(" ", ",")
    parts = [p for p in text.split(",") if p.strip()]
    months = []
    for part in parts:
        part = part.strip()
        if not part.isdigit() or not 1 <= int(part) <= 12:
            return None, f"“{part}”不是 1–12 之间的月份。请用逗号分隔，例如 3,6,9。"
        if int(part) in months:
            return None, f"{int(part)} 月重复填写了。每轮填写一个不同的月份。"
        months.append(int(part))
    return sorted(months), None


def stratum_kind(special: bool, small_micro: bool, enabled: Sequence[str]) -> str:
    """The stratum a target falls in, given which strata the task has (general always)."""
    if special and "special" in enabled:
        return "special"
    if small_micro and "small_micro" in enabled:
        return "small_micro"
    return "general"


# --- Art 7 measured against the county ------------------------------------------------------
#
# "每次抽查对象不低于同类型、同专业统计调查对象的1%": the base is the county's targets of the
# same type — the department's whole directory, operating, of the task's industries and size,
# falling in the same stratum — never the task's own filtered pool. A round scoped to one
# township draws from its pool but is measured against the county, so "5 % of one township"
# cannot pass as meeting Art 7. Each stratum is measured on its own (never averaged: 1 of
# 2,559 general targets plus 28 of 226 special ones is not "1.04 %"), and a fixed count is
# measured like a ratio (1 of 3,000 is 0.03 %).

ART7_MIN_SHARE = Fraction(1, 100)

# (industry, small/micro, special supervision) -> operating targets of the department.
SameTypeCounts = Mapping[tuple[str, bool, bool], int]


def county_base(counts: SameTypeCounts, industries: Sequence[str], size_filter: str,
                enabled: Sequence[str]) -> dict[str, int]:
    """Per enabled stratum, the county's same-type targets: the task's type filters, no area filter."""
    base = dict.fromkeys(enabled, 0)
    wanted = set(industries)
    for (industry, small, special), n in counts.items():
        if wanted and industry not in wanted:
            continue
        if (size_filter == "small_micro" and not small) or (size_filter == "not_small" and small):
            continue
        kind = stratum_kind(special, small, enabled)
        if kind in base:
            base[kind] += n
    return base


def art7_share(drawn: int, county: int) -> Optional[Fraction]:
    """The share of the county's same-type targets a stratum draws; None when the county has none."""
    return Fraction(drawn, county) if county else None


def below_art7_share(drawn: int, county: int) -> bool:
    share = art7_share(drawn, county)
    return share is not None and share < ART7_MIN_SHARE


def percent_text(share: Fraction, places: int = 2) -> str:
    """An exact share as "0.22%", rounded half up (never through a float)."""
    scaled = share * 100 * 10**places
    rounded = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)
    whole, frac = divmod(rounded, 10**places)
    return f"{whole}.{frac:0{places}d}%" if places else f"{whole}%"


# --- Art 18: rounds outside the plan ---------------------------------------------------------
#
# "严禁未经批准擅自开展计划外检查": besides a matter the plan does not cover, a round beyond
# the plan's number of rounds for a matter, or a round in none of the plan's months, is an
# inspection the approved plan did not foresee, and is flagged (SPEC §3).

# (task id, planned start, planned end, matter ids) for one section's tasks of one year.
TaskRounds = Sequence[tuple[int, Optional[date], Optional[date], Sequence[int]]]


def task_months(start: Optional[date], end: Optional[date]) -> set[int]:
    """The calendar months a task's planned dates touch (within its year)."""
    if start is None:
        return set()
    end = end if end is not None and end >= start else start
    if end.year > start.year:
        return set(range(start.month, 13))
    return set(range(start.month, end.month + 1))


def plan_departures(tasks: TaskRounds, items: Mapping[int, tuple[int, Sequence[int]]],
                    names: Mapping[int, str]) -> dict[int, list[tuple[str, str]]]:
    """Per task, how it departs from the approved plan: [(code, Chinese sentence)], codes
    "beyond_rounds" or "outside_months". `items` maps each planned matter to (rounds, months).

    Rounds are counted in the order of their planned start (then id): the fourth task of a
    matter planned for three rounds is the one flagged, whichever was saved last.
    """
    out: dict[int, list[tuple[str, str]]] = {}
    seen: dict[int, int] = {}
    for task_id, start, end, matter_ids in sorted(tasks, key=lambda t: (t[1] or date.max, t[0])):
        for m in matter_ids:
            if m not in items:
                continue  # not in the plan at all: flagged as such elsewhere
            rounds, months = items[m]
            seen[m] = seen.get(m, 0) + 1
            if seen[m] > rounds:
                out.setdefault(task_id, []).append((
                    "beyond_rounds",
                    f"“{names.get(m, m)}”的第 {seen[m]} 轮，超出年度计划的 {rounds} 轮（细则第十八条）。"))
            touched = task_months(start, end)
            if months and touched and not touched & set(months):
                planned = "、".join(str(x) for x in sorted(months))
                when = "、".join(str(x) for x in sorted(touched))
                out.setdefault(task_id, []).append((
                    "outside_months",
                    f"“{names.get(m, m)}”计划在 {planned} 月抽查，本轮安排在 {when} 月（细则第十八条）。"))
    return out
