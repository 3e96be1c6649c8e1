"""Unified social credit codes (统一社会信用代码), GB 32100-2015.

18 characters: registration authority (1), organisation type (1), region
(6 digits), organisation code (9), check character (1). The check character
is computed over the first 17 with weights 3^i mod 31 on the 31-character
alphabet below (no I, O, S, V, Z).
"""
from __future__ import annotations

from typing import Optional

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(code: str) -> str:
    return code.strip().upper()


def problem(code: str) -> Optional[str]:
    """None if the code is valid, else a Chinese sentence saying what is wrong."""
    code = normalise(code)
    if len(code) != 18:
        return f"统一社会信用代码应为18位，此处为{len(code)}位"
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        return f"统一社会信用代码含有不允许的字符：{''.join(bad)}（不使用 I、O、S、V、Z）"
    if not code[2:8].isdigit():
        return "统一社会信用代码第3–8位应为行政区划代码（数字）"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误：最后一位应为 {expected}，而不是 {code[17]}"
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None
