"""The archive package 归档 of a published task (Art 9 全程留痕; SPEC §7).

One .zip with everything the task left behind: the results notice, the
verification bundle, the draw record, the results table, inspection
records, reports and evidence where the inspection area holds them, and
`manifest.json` listing every other file with its size and SHA-256, so a
copy kept on the archive shelf can be checked years later.

Pure: it takes the files as bytes and returns the zip; the routes gather
the files and log the download.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from io import BytesIO

MANIFEST = "manifest.json"
# A fixed timestamp inside the zip: the same files give the same package.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(files: dict[str, bytes], about: dict) -> dict:
    return {
        **about,
        "files": [{"name": name, "size": len(data), "sha256": sha256_hex(data)} for name, data in sorted(files.items())],
    }


def build(files: dict[str, bytes], about: dict) -> bytes:
    """The zip of `files` plus manifest.json; refuses a file that would overwrite the manifest."""
    if MANIFEST in files:
        raise ValueError("manifest.json is written by the archive itself")
    out = BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            z.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
        body = json.dumps(manifest(files, about), ensure_ascii=False, indent=2).encode("utf-8")
        z.writestr(zipfile.ZipInfo(MANIFEST, _ZIP_TIME), body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def check(zip_bytes: bytes) -> list[str]:
    """Problems found when re-checking a package against its manifest (empty when it is intact)."""
    problems = []
    with zipfile.ZipFile(BytesIO(zip_bytes)) as z:
        listed = json.loads(z.read(MANIFEST))["files"]
        names = set(z.namelist()) - {MANIFEST}
        for f in listed:
            if f["name"] not in names:
                problems.append(f"{f['name']}: missing")
                continue
            data = z.read(f["name"])
            if sha256_hex(data) != f["sha256"] or len(data) != f["size"]:
                problems.append(f"{f['name']}: hash differs")
        for extra in sorted(names - {f["name"] for f in listed}):
            problems.append(f"{extra}: not in manifest")
    return problems
