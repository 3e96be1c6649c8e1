"""Reading one spreadsheet cell into a typed value, or saying in Chinese what is wrong.

Pure functions, no Flask and no database: they serve every directory import
of SPEC §2 (Art 4, 5, 6) and are tested on their own. Each takes the raw
value openpyxl gives (str, int, float, bool, datetime or None) and the
column's short label, and returns the value to store or raises CellError
with a sentence a clerk can act on.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, Optional

from .. import creditcode


class CellError(ValueError):
    """A cell that cannot be imported; the message says what to write instead."""


QUOTE_CHARS = 50


def quoted(value: Any) -> str:
    """A cell's content as an error message quotes it: at most QUOTE_CHARS characters.

    A row error is stored for every bad row; quoting whole cells let a 247 KB
    file write 80 MB of error text (issue #11).
    """
    s = value if isinstance(value, str) else str(value)
    head = "".join(ch if ch.isprintable() else " " for ch in s[:QUOTE_CHARS])
    return head if len(s) <= QUOTE_CHARS else head[: QUOTE_CHARS - 1] + "…"


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number_text(value: Any) -> str:
    """A number as a person typed it: 1001, not 1001.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def text(value: Any, label: str, *, max_len: int, required: bool = False) -> str:
    if is_blank(value):
        if required:
            raise CellError(f"{label}未填写（必填）")
        return ""
    if isinstance(value, bool):
        raise CellError(f"{label}应为文字，而不是逻辑值")
    if isinstance(value, (datetime, date)):
        raise CellError(f"{label}应为文字，而不是日期")
    s = _number_text(value).strip() if isinstance(value, (int, float)) else str(value).strip()
    if len(s) > max_len:
        raise CellError(f"{label}不能超过 {max_len} 个字（现为 {len(s)} 个字）")
    return s


def code_text(value: Any, label: str, *, max_len: int, required: bool = True) -> str:
    """An identifier such as a staff number: no spaces inside, case kept."""
    s = text(value, label, max_len=max_len, required=required)
    if re.search(r"\s", s):
        raise CellError(f"{label}“{quoted(s)}”中不能有空格")
    return s


def multiline(value: Any, label: str, *, required: bool = False) -> str:
    """Items separated by line breaks or Chinese/English semicolons, stored one per line."""
    s = text(value, label, max_len=10000, required=required)
    items = [part.strip() for part in re.split(r"[\r\n；;]+", s) if part.strip()]
    if required and not items:
        raise CellError(f"{label}未填写（必填）")
    return "\n".join(items)


def credit_code(value: Any, label: str = "统一社会信用代码") -> str:
    if is_blank(value):
        raise CellError(f"{label}未填写（必填）")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # An all-digit code typed into a General cell becomes a float and
        # silently loses its last digits: the only cure is to re-enter it as text.
        raise CellError(
            f"{label}被 Excel 存成了数字，末几位可能已经丢失；请把该列设为“文本”格式后重新填写"
        )
    code = creditcode.normalise(str(value))
    problem = creditcode.problem(code)
    if problem:
        raise CellError(problem)
    return code


YES_NO = {"是": True, "否": False}


def yes_no(value: Any, label: str) -> bool:
    if is_blank(value):
        return False
    if isinstance(value, bool):
        return value
    s = str(value).strip()
    if s in YES_NO:
        return YES_NO[s]
    raise CellError(f"{label}应填“是”或“否”，而不是“{quoted(s)}”")


def choice(value: Any, label: str, options: Mapping[str, str], *, default: Optional[str] = None) -> str:
    """One of the Chinese labels in `options` (label -> stored code)."""
    if is_blank(value):
        if default is None:
            raise CellError(f"{label}未填写（必填），可选：{'、'.join(_visible(options))}")
        return default
    s = str(value).strip()
    if s in options:
        return options[s]
    allowed = "、".join(f"“{o}”" for o in _visible(options))
    raise CellError(f"{label}应为{allowed}之一，而不是“{quoted(s)}”")


def _visible(options: Mapping[str, str]) -> list[str]:
    # Aliases map to the same code as a main label; list each code once.
    seen, out = set(), []
    for label_, code in options.items():
        if code not in seen:
            seen.add(code)
            out.append(label_)
    return out


def integer(value: Any, label: str, *, minimum: int, maximum: int, default: Optional[int] = None) -> int:
    if is_blank(value):
        if default is None:
            raise CellError(f"{label}未填写（必填）")
        return default
    if isinstance(value, bool):
        raise CellError(f"{label}应为整数")
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(f"{label}应为整数，而不是 {quoted(value)}")
        n = int(value)
    elif isinstance(value, int):
        n = value
    else:
        s = str(value).strip()
        if not re.fullmatch(r"[+-]?\d+", s):
            raise CellError(f"{label}应为整数，而不是“{quoted(s)}”")
        n = int(s)
    if not minimum <= n <= maximum:
        raise CellError(f"{label}应在 {minimum} 到 {maximum} 之间，而不是 {n}")
    return n


def decimal_text(d: Decimal) -> str:
    """1, 1.5, 12.25 — the plain form, never an exponent."""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def percent(value: Any, label: str, *, minimum: Decimal, maximum: Decimal, places: int = 2) -> str:
    """A percentage kept as decimal text (no floats in stored ratios)."""
    if is_blank(value):
        raise CellError(f"{label}未填写（必填）")
    if isinstance(value, bool):
        raise CellError(f"{label}应为数字")
    raw = _number_text(value) if isinstance(value, (int, float)) else str(value).strip().rstrip("%％").strip()
    try:
        d = Decimal(raw)
    except InvalidOperation:
        raise CellError(f"{label}应为数字（如 1 或 2.5），而不是“{quoted(value)}”") from None
    if not d.is_finite():
        raise CellError(f"{label}应为数字（如 1 或 2.5），而不是“{quoted(value)}”")
    if d != d.quantize(Decimal(1).scaleb(-places)):
        raise CellError(f"{label}最多保留 {places} 位小数，而不是 {quoted(raw)}")
    if not minimum <= d <= maximum:
        raise CellError(f"{label}应在 {decimal_text(minimum)} 到 {decimal_text(maximum)} 之间，而不是 {decimal_text(d)}")
    return decimal_text(d)


_DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+00:00(?::00)?)?")


def day(value: Any, label: str, *, required: bool = True) -> Optional[date]:
    if is_blank(value):
        if required:
            raise CellError(f"{label}未填写（必填），请填写日期，如 2027-06-30")
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise CellError(f"{label}应为日期（如 2027-06-30），而不是数字 {_number_text(value)}；请把单元格设为日期格式")
    s = str(value).strip()
    m = _DATE_TEXT.fullmatch(s)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    raise CellError(f"{label}“{quoted(s)}”不是有效日期，请填写日期单元格或 YYYY-MM-DD 格式的文字，如 2027-06-30")
