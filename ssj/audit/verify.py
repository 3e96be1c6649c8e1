"""Verifying the access log and its signed checkpoints (SPEC §5; Art 14, 17, 18: 责任可追溯).

Used by `flask --app app audit verify | export-checkpoints` and, later, by
the discipline office's console. The checks on checkpoints and exported
files are pure functions of their inputs; `verify_log` and
`export_checkpoints` are the two that read the database and the keys.

What anchors the chain, weakest first: the head row (catches a cut-off
tail), the entry MACs (catch entries written without the audit key), the
signed checkpoints in the database (catch a chain recomputed with the MAC
key), and the checkpoints the discipline office exported and keeps outside
the system (catch a rewrite by someone who holds every key).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from .. import clock
from . import chain

EXPORT_FORMAT = "ssj-audit-checkpoints-v1"


@dataclass(frozen=True)
class SignedCheckpoint:
    seq: int
    head_hash: str
    signed_at: str  # as in the signed statement
    statement: str
    signature: str  # hex
    key_id: str

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "head_hash": self.head_hash,
            "signed_at": self.signed_at,
            "statement": self.statement,
            "signature": self.signature,
            "key_id": self.key_id,
        }


@dataclass(frozen=True)
class ExportedCheckpoints:
    """A checkpoint file the discipline office kept, already checked against its own key."""

    public_key: Ed25519PublicKey
    key_id: str
    exported_at: str
    checkpoints: tuple[SignedCheckpoint, ...]


class ExportFileError(ValueError):
    """An exported checkpoint file that cannot be used; says why in English and Chinese."""

    def __init__(self, message: str, message_zh: str):
        super().__init__(message)
        self.message_zh = message_zh


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_key: Ed25519PublicKey) -> str:
    # Same derivation as keys.KeyRing.signing_key_id, so ids compare across both.
    return hashlib.sha256(raw_public_key(public_key)).hexdigest()[:16]


def checkpoint_fault(cp: SignedCheckpoint, public_key: Ed25519PublicKey) -> Optional[tuple[str, str]]:
    """Why this checkpoint cannot be trusted (English, Chinese), or None if it verifies."""
    try:
        seq, head, at = chain.parse_checkpoint_statement(cp.statement)
    except ValueError:
        return "its signed statement is damaged", "其签名内容已损坏"
    if (seq, head, at) != (cp.seq, cp.head_hash, cp.signed_at):
        return (
            "its sequence number or head hash differs from the statement that was signed",
            "其序号或链头哈希与签名内容不一致",
        )
    expected_id = key_id_of(public_key)
    if cp.key_id != expected_id:
        return (
            f"it names signing key {cp.key_id}, but the key in use is {expected_id}",
            f"其签名密钥编号为 {cp.key_id}，而当前密钥编号为 {expected_id}",
        )
    try:
        public_key.verify(bytes.fromhex(cp.signature), cp.statement.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return "its Ed25519 signature does not verify", "其 Ed25519 签名验证不通过"
    return None


def checkpoint_problems(
    checkpoints: Iterable[SignedCheckpoint], public_key: Ed25519PublicKey
) -> tuple[list[SignedCheckpoint], list[chain.Problem]]:
    """Split checkpoints into those whose signature holds and a problem for each other one."""
    valid, problems = [], []
    for cp in checkpoints:
        fault = checkpoint_fault(cp, public_key)
        if fault is None:
            valid.append(cp)
        else:
            problems.append(chain.Problem(cp.seq, "checkpoint", fault[0], fault[1]))
    return valid, problems


def anchors(checkpoints: Iterable[SignedCheckpoint], *, exported: bool = False) -> list[chain.Anchor]:
    where, where_zh = ("the exported checkpoint", "导出保存的检查点") if exported else ("the signed checkpoint", "签名检查点")
    return [
        chain.Anchor(cp.seq, cp.head_hash, f"{where} of {cp.signed_at}", f"{cp.signed_at} 的{where_zh}")
        for cp in checkpoints
    ]


def head_anchor(head: tuple[int, str]) -> chain.Anchor:
    return chain.Anchor(head[0], head[1], "the head row (access_log_head)", "链头记录（access_log_head）")


def head_after_problem(walk: chain.WalkResult, head: Optional[tuple[int, str]]) -> Optional[chain.Problem]:
    """Compare the head row read after the entries with the end of the chain.

    Read after, because entries appended while we read are fine: their head
    update commits with them, so the head can only be at or past our end.
    """
    if head is None:
        return chain.Problem(walk.last_seq, "head", "the row is missing; the application cannot append",
                             "该记录缺失，系统无法继续写入日志")
    seq, digest = head
    if seq < walk.last_seq:
        extra = f"{seq + 1}" if seq + 1 == walk.last_seq else f"{seq + 1}–{walk.last_seq}"
        return chain.Problem(
            seq + 1,
            "inserted",
            f"entries {extra} lie beyond the head row, which records {seq} entries: the application did not append them",
            f"第 {extra} 条位于链头之后（链头记载共 {seq} 条）：不是由本系统追加的",
        )
    if seq == walk.last_seq and digest != walk.head_hash:
        return chain.Problem(
            seq, "head",
            f"it records hash {digest[:16]}… for entry {seq}, but the log has {walk.head_hash[:16]}…",
            f"其记载第 {seq} 条的哈希为 {digest[:16]}…，而日志中为 {walk.head_hash[:16]}…",
        )
    return None


def missing_exported(
    exported: Iterable[SignedCheckpoint], stored: Iterable[SignedCheckpoint]
) -> list[chain.Problem]:
    """Exported checkpoints no longer in the database: the app never deletes one."""
    have = {(cp.seq, cp.head_hash) for cp in stored}
    return [
        chain.Problem(
            cp.seq, "checkpoint",
            f"the checkpoint of {cp.signed_at} in the exported file is no longer stored in the database (deleted)",
            f"导出文件中 {cp.signed_at} 的检查点在数据库中已不存在（被删除）",
        )
        for cp in exported
        if (cp.seq, cp.head_hash) not in have
    ]


def first_problem(*groups: Iterable[Optional[chain.Problem]]) -> Optional[chain.Problem]:
    """The problem earliest in the log; on a tie, the one from the earlier group."""
    found = [(p.seq, g, i, p) for g, group in enumerate(groups) for i, p in enumerate(group) if p is not None]
    return min(found, key=lambda t: t[:3])[3] if found else None


@dataclass
class Report:
    ok: bool
    problem: Optional[chain.Problem]
    checked: int
    head: str
    last_checkpoint: Optional[int]
    exported_matched: Optional[int] = None  # None when no exported file was given
    exported_last: Optional[int] = None
    notes: list[tuple[str, str]] = field(default_factory=list)

    def text(self) -> str:
        """English for the command line, with the Chinese sentence beneath a problem."""
        if not self.ok:
            return f"BROKEN: {self.problem}\n访问日志校验失败：{self.problem.zh}"
        cp = f"last signed checkpoint seq {self.last_checkpoint}" if self.last_checkpoint is not None \
            else "no signed checkpoint yet"
        line = f"OK: {self.checked} entries, head {self.head}, {cp}"
        if self.exported_matched is not None:
            line += f"; matches {self.exported_matched} exported checkpoints up to seq {self.exported_last}"
        return line

    @property
    def zh(self) -> str:
        if not self.ok:
            return f"访问日志校验失败：{self.problem.zh}"
        cp = f"最近的签名检查点为第 {self.last_checkpoint} 条" if self.last_checkpoint is not None else "尚无签名检查点"
        line = f"访问日志完整：共 {self.checked} 条，链头哈希 {self.head}，{cp}"
        if self.exported_matched is not None:
            line += f"；与导出文件中的 {self.exported_matched} 个检查点（至第 {self.exported_last} 条）一致"
        return line + "。"


def parse_export(text: str) -> ExportedCheckpoints:
    """Read an exported checkpoint file; every checkpoint in it must verify under its own key."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise ExportFileError("the file is not JSON", "该文件不是 JSON 格式，请选择由 export-checkpoints 导出的文件")
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise ExportFileError(
            f"the file is not an ssj checkpoint export (format {EXPORT_FORMAT})",
            "该文件不是本系统导出的检查点文件，请选择由 export-checkpoints 导出的文件",
        )
    try:
        public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(doc["public_key"]))
        items = doc["checkpoints"]
        checkpoints = tuple(
            SignedCheckpoint(
                int(c["seq"]), str(c["head_hash"]), str(c["signed_at"]), str(c["statement"]),
                str(c["signature"]), str(c["key_id"]),
            )
            for c in items
        )
    except (KeyError, TypeError, ValueError):
        raise ExportFileError(
            "the file lacks the public key or a checkpoint field",
            "该文件缺少公钥或检查点字段，可能已损坏；请使用纪检监察室留存的原始文件",
        )
    for cp in checkpoints:
        fault = checkpoint_fault(cp, public_key)
        if fault is not None:
            raise ExportFileError(
                f"checkpoint seq {cp.seq} in the file does not verify: {fault[0]}",
                f"文件中第 {cp.seq} 条处的检查点验证不通过（{fault[1]}）；文件可能已被改动，请使用留存的原始文件",
            )
    return ExportedCheckpoints(public_key, key_id_of(public_key), str(doc.get("exported_at", "")), checkpoints)


def export_document(
    checkpoints: Iterable[SignedCheckpoint],
    public_key: Ed25519PublicKey,
    exported_at: str,
    head: Optional[tuple[int, str]] = None,
) -> dict[str, Any]:
    """The JSON document the discipline office keeps outside the system."""
    doc: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": exported_at,
        "algorithm": "Ed25519",
        "public_key": raw_public_key(public_key).hex(),
        "key_id": key_id_of(public_key),
        "checkpoints": [cp.as_json() for cp in sorted(checkpoints, key=lambda c: (c.seq, c.signed_at))],
    }
    if head is not None:
        # Unsigned, for the reader: how long the log was when this was written.
        doc["log_entries_at_export"] = head[0]
    return doc


# --- the parts that read the database -------------------------------------------------


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stored_checkpoints() -> list[SignedCheckpoint]:
    from ..extensions import db
    from ..models import AuditCheckpoint

    rows = db.session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.seq, AuditCheckpoint.id)).scalars()
    out = []
    for r in rows:
        try:
            signed_at = chain.parse_checkpoint_statement(r.statement)[2]
        except ValueError:
            signed_at = _iso(r.signed_at)  # damaged; checkpoint_fault will say so
        out.append(SignedCheckpoint(r.seq, r.head_hash, signed_at, r.statement, r.signature, r.key_id))
    return out


def verify_log(against: Optional[ExportedCheckpoints] = None, *, fast: bool = True) -> Report:
    """Check the live log: entries, MACs, head row, signed checkpoints, and optionally an exported file.

    `fast` walks the driver's raw rows with chain.verify_rows; False walks
    StoredEntry objects with chain.verify_entries. Both give the same report
    (tests/audit/test_fast_walk.py); the plain one is kept as the reference.
    """
    from .service import head_row, keyring, stored_entries, walk_log

    keys = keyring()
    head_before = head_row()
    stored = stored_checkpoints()
    valid, cp_problems = checkpoint_problems(stored, keys.verify_key)
    marks = anchors(valid)
    if head_before is not None:
        marks.append(head_anchor(head_before))
    if against is not None:
        marks.extend(anchors(against.checkpoints, exported=True))
    if fast:
        walk = walk_log(keys.entry_mac_key, marks, keys.crypto_suite)
    else:
        walk = chain.verify_entries(stored_entries(), keys.entry_mac_key, marks, suite=keys.crypto_suite)
    after = [head_after_problem(walk, head_row())] if walk.problem is None else []
    gone = missing_exported(against.checkpoints, stored) if against is not None else []
    problem = first_problem([walk.problem], after, cp_problems, gone)

    notes = []
    if against is not None and against.key_id != keys.signing_key_id:
        notes.append((
            f"note: the exported file was signed with key {against.key_id}; the server now uses {keys.signing_key_id}",
            f"注意：导出文件的签名密钥编号为 {against.key_id}，服务器现用密钥编号为 {keys.signing_key_id}",
        ))
    return Report(
        ok=problem is None,
        problem=problem,
        checked=walk.checked,
        head=walk.head_hash,
        last_checkpoint=max((cp.seq for cp in valid), default=None),
        exported_matched=None if against is None else len(against.checkpoints),
        exported_last=None if against is None else max((cp.seq for cp in against.checkpoints), default=0),
        notes=notes,
    )


def export_checkpoints(head: Optional[tuple[int, str]] = None) -> tuple[dict[str, Any], list[chain.Problem]]:
    """The export document of every stored checkpoint that verifies, and a problem for each left out."""
    from .service import head_row, keyring

    keys = keyring()
    valid, problems = checkpoint_problems(stored_checkpoints(), keys.verify_key)
    doc = export_document(valid, keys.verify_key, _iso(clock.now()), head or head_row())
    return doc, problems
