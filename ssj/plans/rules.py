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
