"""JSON from an upload, parsed only within a size and a nesting depth (issue #11).

`json.loads` recurses once per level of nesting: 200,000 `[` in the
discipline office's checkpoint upload raised RecursionError, a 500. The
depth is counted first, outside strings, with one regular-expression pass,
so such a file gets a Chinese refusal (422) before the parser sees it.
Pure: no Flask.
"""
from __future__ import annotations

import json
import re
from typing import Any

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class JsonRefused(ValueError):
    """Carries the Chinese sentence to show."""


def depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text` (brackets inside strings do not count)."""
    deepest = level = 0
    for m in _BRACKETS.finditer(_STRING.sub('""', text)):
        level += 1 if m.group() in "[{" else -1
        deepest = max(deepest, level)
    return deepest


def checked_text(raw: bytes, *, max_bytes: int, max_depth: int, what: str = "文件") -> str:
    """The upload as text, once its size, encoding and nesting are within bounds; else JsonRefused."""
    if len(raw) > max_bytes:
        raise JsonRefused(f"{what}有 {len(raw) / 1048576:.1f} MB，超过了 {max_bytes / 1048576:g} MB 的上限，"
                          "不是本系统导出的文件。")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise JsonRefused(f"{what}不是文本格式（应为 UTF-8），不是本系统导出的文件。") from None
    if depth(text) > max_depth:
        raise JsonRefused(f"{what}的嵌套层数超过 {max_depth} 层，不是本系统导出的文件。")
    return text


def load(raw: bytes, *, max_bytes: int, max_depth: int, what: str = "文件") -> Any:
    """The parsed document, or JsonRefused saying what is wrong in Chinese."""
    text = checked_text(raw, max_bytes=max_bytes, max_depth=max_depth, what=what)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise JsonRefused(f"{what}不是有效的 JSON 格式，不是本系统导出的文件。") from None
