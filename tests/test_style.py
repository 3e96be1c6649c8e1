"""The stylesheet's promises a person relies on (SPEC §9): a visible focus ring and Chinese text
that renders on any desk."""
from __future__ import annotations

import re
from pathlib import Path

CSS = (Path(__file__).resolve().parents[1] / "static" / "css" / "ssj.css").read_text(encoding="utf-8")


def _var(name: str) -> str:
    return re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", CSS).group(1)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_focus_ring_stands_out_at_least_3_to_1_on_every_background():
    rule = re.search(r"a:focus, button:focus[^{]*\{([^}]*)\}", CSS).group(1)
    rings = [_var(v) for v in re.findall(r"var\(--(focus[a-z-]*)\)", rule)]
    assert len(rings) == 2, rule
    # Page, cards and fields, table heads, the red top bar, blue primary buttons.
    for ground in ("#ffffff", _var("bg"), "#eef1f5", _var("brand"), _var("accent")):
        assert max(contrast(r, ground) for r in rings) >= 3, ground


def test_the_font_stack_names_a_chinese_font_for_windows_macos_and_linux():
    stack = re.search(r"body \{[^}]*font-family:([^;]*);", CSS, re.S).group(1)
    for font in ("PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei"):
        assert f'"{font}"' in stack, font
    assert stack.strip().endswith("sans-serif")
