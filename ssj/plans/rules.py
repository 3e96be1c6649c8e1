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
from typing import Optional, Sequence

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
