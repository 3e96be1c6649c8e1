"""File names that came from a person, made safe to show, store and put in a package (issue #11).

An upload's name is the uploader's to choose: `z.html\\x00.jpg` (a NUL
that zip and some tools cut at, leaving `z.html`), `"a"\\r\\nb.pdf` (a quote
and a line break inside a Content-Disposition or a zip entry),
`../../x.jpg`. Such a name is only ever shown or stored after `clean_name`,
and the extension is the one the file's content was detected as, never the
one typed. Packages and downloads use generated names. Pure: no Flask.
"""
from __future__ import annotations

import re
import unicodedata

# Separators, quotes and characters Windows refuses in a name; control
# characters (Cc: NUL, CR, LF, tab...) and format characters (Cf: e.g. the
# right-to-left override that makes "gpj.exe" read as "exe.jpg") go too.
_UNSAFE = re.compile(r"[\\/:*?\"'<>|`;]")
MAX_NAME = 100


def clean_name(name: str, ext: str | None = None, *, fallback: str = "文件") -> str:
    """`name` with nothing that could act as a path, a quote or a control code; with `ext`
    (the detected type, without the dot) the name ends in exactly that extension."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    if ext:
        stem = text
        if "." in stem and stem.rsplit(".", 1)[1].lower() in _SAME.get(ext, (ext,)):
            stem = stem.rsplit(".", 1)[0]
        stem = stem.strip(" .")[: MAX_NAME - len(ext) - 1] or fallback
        return f"{stem}.{ext}"
    return text[:MAX_NAME] or fallback


# Extensions that name the same detected type (a photo called .jpeg is a jpg).
_SAME = {"jpg": ("jpg", "jpeg"), "mp4": ("mp4", "mov"), "mov": ("mov", "mp4")}
