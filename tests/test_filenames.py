"""Names a person typed, cleaned before they are shown, stored or packaged (issue #11)."""
from __future__ import annotations

import pytest

from ssj.filenames import clean_name


@pytest.mark.parametrize("typed, ext, expected", [
    ("z.html\x00.jpg", "jpg", "z.html.jpg"),
    ('"a"\r\nb.pdf', "pdf", "_a_ b.pdf"),
    ("../../etc/passwd.png", "png", "_.._etc_passwd.png"),
    ("photo.JPEG", "jpg", "photo.jpg"),
    ("evil.exe", "png", "evil.exe.png"),
    ("\u202egpj.exe", "jpg", "gpj.exe.jpg"),  # right-to-left override removed
    ("   ", "pdf", "文件.pdf"),
    ("C:\\temp\\a.xlsx", None, "C__temp_a.xlsx"),
])
def test_clean_name(typed, ext, expected):
    assert clean_name(typed, ext) == expected


def test_nothing_unsafe_survives():
    hostile = "".join(chr(c) for c in range(0, 0x30)) + "<>|?*:;`'\"\\/\u2028\u2029\ufeff"
    cleaned = clean_name("x" + hostile + ".jpg", "jpg")
    assert cleaned.endswith(".jpg")
    assert not any(ch in cleaned for ch in "\x00\r\n\t\"'/\\<>|;\u2028\u202e\ufeff")
    assert len(clean_name("长" * 500, "pdf")) <= 100
