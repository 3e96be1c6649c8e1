"""Evidence files of an inspection record, encrypted at rest (SPEC §4, §7; Art 8, 9 全程留痕).

A file is kept only as ciphertext under the task's data key (kind
"evidence", record id = the file's random id) in instance/evidence/ under
another random name. Its original name, type, size and SHA-256 are in a
sealed metadata blob, so neither the file store nor the database says
which enterprise a photo shows. The type is decided by the file's first
bytes, not its name: a renamed executable is not evidence, and the stored
extension is the detected one (`z.html\x00.jpg` with JPEG bytes is kept as
`z.html.jpg`; the name is cleaned by `filenames.clean_name` before it is
stored or shown).
"""
from __future__ import annotations

import hashlib
import io
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from flask import current_app
from flask_login import current_user
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..filenames import clean_name
from ..models import EvidenceFile, Task
from ..sealing import envelope
from ..sealing.service import data_key, open_json, read_sealed, seal_json
from .service import RecordError

ALLOWED = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "heic": "image/heic",
    "mp4": "video/mp4", "mov": "video/quicktime", "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword", "xls": "application/vnd.ms-excel",
}
# Shown in the browser on request (查看): images and video the browser plays
# itself. Office files and PDFs are always downloaded.
VIEWABLE = {"image/jpeg", "image/png", "video/mp4"}
ALLOWED_TEXT = "照片（jpg、png、heic）、视频（mp4、mov）、PDF、Office 文档（docx、xlsx、doc、xls）"
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def sniff(head: bytes, body: bytes) -> Optional[str]:
    """The file's real kind by its magic bytes: jpg/png/heic/mp4/mov/pdf/docx/xlsx/ole, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"  # .doc and .xls share the compound-file container
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return "heic"
        return "mov" if brand == b"qt  " else "mp4"
    if len(head) >= 8 and head[4:8] in _QT_ATOMS:
        return "mov"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        except zipfile.BadZipFile:
            return None
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
    return None


def _matches(ext: str, kind: Optional[str]) -> bool:
    if kind is None:
        return False
    if kind == "ole":
        return ext in ("doc", "xls")
    if kind == "jpg":
        return ext in ("jpg", "jpeg")
    if kind in ("mp4", "mov"):
        return ext in ("mp4", "mov")  # both are ISO media files; phones name them either way
    return ext == kind


def store_dir() -> Path:
    d = Path(current_app.instance_path) / "evidence"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    return d


def check_upload(filename: str, body: bytes) -> str:
    """The extension the file is stored under (its detected type), or a RecordError saying what to fix."""
    name = clean_name(filename) if (filename or "").strip() else ""
    if not name or not body:
        raise RecordError("请选择要上传的证据文件（文件不能为空）。")
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    if len(body) > limit:
        raise RecordError(f"文件“{name}”有 {len(body) / 1048576:.1f} MB，超过了单个文件 {limit // 1048576} MB 的上限。"
                          "请压缩视频或分段后再上传。", 413)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED:
        raise RecordError(f"不支持“{name}”这种文件类型。可以上传：{ALLOWED_TEXT}。")
    kind = sniff(body[:16], body)
    if not _matches(ext, kind):
        raise RecordError(f"文件“{name}”的内容与扩展名 .{ext} 不符（可能已损坏或被改名）。"
                          f"请上传原始文件；可以上传：{ALLOWED_TEXT}。")
    # .doc and .xls share one container: there the typed extension decides.
    return ext if kind == "ole" else kind


_EXT_OF_MIME = {mime: ext for ext, mime in reversed(ALLOWED.items())}


def ext_of(meta: dict) -> str:
    """The extension of a stored file, from its detected type (never from the name typed)."""
    return meta.get("ext") or _EXT_OF_MIME.get(meta.get("mime", ""), "bin")


def shown_name(meta: dict) -> str:
    """The original name as it may be shown or put in a package (files stored before names were cleaned too)."""
    return clean_name(meta.get("filename") or "", ext_of(meta), fallback="证据")


def add(task: Task, position: int, filename: str, body: bytes, note: str = "") -> EvidenceFile:
    ext = check_upload(filename, body)
    evidence_id = secrets.token_hex(16)
    stored_name = secrets.token_hex(20)
    meta = {
        "filename": clean_name(os.path.basename(filename.replace("\\", "/")), ext, fallback="证据"),
        "ext": ext,
        "mime": ALLOWED[ext],
        "size": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "note": note[:500],
        "position": position,
        "uploaded_by": current_user.display_name,
    }
    blob = envelope.seal(data_key(task.id, create=True), task.id, "evidence", evidence_id, body)
    path = store_dir() / stored_name
    # Written before the row: a failed write leaves no row pointing nowhere;
    # a failed commit leaves an unreadable orphan, which the row's absence
    # makes harmless (and ciphertext).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(blob)
    row = EvidenceFile(id=evidence_id, task_id=task.id, position=position, stored_name=stored_name,
                       meta_sealed=seal_json(task.id, "evidence_meta", evidence_id, meta),
                       uploaded_by_id=current_user.id)
    db.session.add(row)
    db.session.flush()
    audit.record("evidence_upload", task_id=task.id,
                 objects={"position": position, "evidence": evidence_id, "size": len(body)})
    return row


@dataclass
class Listed:
    id: str
    uploaded_at: object
    meta: dict


def files_of(task: Task, position: int) -> list[EvidenceFile]:
    return list(db.session.execute(
        select(EvidenceFile).where(EvidenceFile.task_id == task.id, EvidenceFile.position == position)
        .order_by(EvidenceFile.uploaded_at)
    ).scalars())


def listing(task: Task, position: int, code: Optional[str]) -> list[Listed]:
    """Names and hashes of the position's evidence, each metadata read logged."""
    listed = []
    for row in files_of(task, position):
        meta = read_sealed(task.id, "evidence_meta", row.id, row.meta_sealed, purpose="evidence_list",
                           credit_codes=[code] if code else [], positions=[position])
        listed.append(Listed(row.id, row.uploaded_at, {**meta, "filename": shown_name(meta)}))
    return listed


def get(task: Task, position: int, evidence_id: str) -> Optional[EvidenceFile]:
    row = db.session.get(EvidenceFile, evidence_id)
    if row is None or row.task_id != task.id or row.position != position:
        return None
    return row


def read_file(row: EvidenceFile, code: Optional[str]) -> tuple[dict, bytes]:
    """(metadata, plaintext) for a download, logged before anything is returned."""
    meta = read_sealed(row.task_id, "evidence_meta", row.id, row.meta_sealed, purpose="evidence_download",
                       credit_codes=[code] if code else [], positions=[row.position])
    blob = (store_dir() / row.stored_name).read_bytes()
    body = envelope.open_sealed(data_key(row.task_id), row.task_id, "evidence", row.id, blob)
    return meta, body


def meta_of(row: EvidenceFile) -> dict:
    """Server-side only (e.g. the archive manifest): not for showing to a person."""
    return open_json(row.task_id, "evidence_meta", row.id, row.meta_sealed)
