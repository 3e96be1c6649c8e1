"""Sealed mode: the KEK exists only while K custodians' shares are combined in memory (SPEC §4).

`split` (behind `flask keys split`) moves an instance into sealed mode:
a fresh 32-byte custody key is shared k-of-n (shares.py); custody.json
holds the KEKs and the log's reference key sealed under it, with the
share commitments; kek.key, kek.key.* and audit.key are removed. From then
on no file on the machine holds the KEK, and a copy of the instance
directory (database, evidence, keys and all) names no drawn enterprise,
not even through the HMACs in the access log.

Unsealing happens in one process (see docs/operations.md, "Sealed mode"):
shares are entered on the unseal page (or the console), kept in that
process's memory until K are in, combined, checked against custody.json's
authenticated blob, and the opened keys are held in memory only
(app.extensions["ssj.unsealed"]).
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from .. import suites
from ..identity import ForeignKeys, key_fit_problem
from ..keys import CUSTODY_FILE, KeyRing, is_sealed_dir
from ..sealing import envelope
from ..sealing.envelope import kek_id
from . import shares as sh

FORMAT = "ssj-custody/v1"


class CustodyError(RuntimeError):
    """Splitting or unsealing cannot go on; the message (Chinese) says what to do."""


def _aad(set_id: str, instance_id: Optional[str]) -> bytes:
    return f"ssj/custody/v1|set:{set_id}|instance:{instance_id}".encode()


def _sealing_key(custody_key: bytes, suite: str) -> bytes:
    # The shares carry 32 bytes; the SM suite seals with a 16-byte SM4 key derived by HMAC-SM3.
    return custody_key if suite == "intl" else suites.mac(suite, custody_key, b"ssj/custody/sm4/v1")[:16]


def seal_secrets(custody_key: bytes, set_id: str, instance_id: Optional[str], opened: dict, suite: str = "intl") -> str:
    body = json.dumps({"kek": opened["kek"].hex(), "other_keks": [k.hex() for k in opened["other_keks"]],
                       "reference": opened["reference"].hex()}).encode()
    blob = envelope.seal_raw(_sealing_key(custody_key, suite), body, _aad(set_id, instance_id))
    return base64.b64encode(blob).decode()


def open_secrets(custody_key: bytes, custody: dict, instance_id: Optional[str], suite: str = "intl") -> dict:
    raw = base64.b64decode(custody["sealed"])
    try:
        body = json.loads(envelope.open_raw(_sealing_key(custody_key, suite), raw, _aad(custody["set_id"], instance_id)))
    except envelope.SealError as exc:
        raise CustodyError("份额组合后解不开封存的密钥：其中至少一份不对。已清除本轮输入的全部份额，请全部重新输入。") from exc
    return {"kek": bytes.fromhex(body["kek"]), "other_keks": [bytes.fromhex(k) for k in body["other_keks"]],
            "reference": bytes.fromhex(body["reference"])}


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _shred(path: Path) -> None:
    """Overwrite, then remove. Best effort only: journals, SSDs and backups may keep old blocks."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as fh:
            fh.write(os.urandom(size))
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        path.unlink(missing_ok=True)


def split(key_dir: Path, keys: KeyRing, threshold: int, count: int, custodians: list[str]) -> tuple[dict, list[sh.Share]]:
    """Put the instance into sealed mode; return custody.json's content and the shares to print."""
    if is_sealed_dir(key_dir) or keys.sealed:
        raise CustodyError("本实例已处于封存模式（已有 custody.json）。如需重新分割，请先恢复为密钥文件模式。")
    if not (2 <= threshold <= count <= sh.MAX_SHARES):
        raise CustodyError(f"份额数和门限不合理：需要 2 ≤ 门限 ≤ 份额数 ≤ {sh.MAX_SHARES}。")
    if custodians and len(custodians) != count:
        raise CustodyError(f"给了 {len(custodians)} 位保管人，而份额数是 {count}：请一一对应，或不写保管人姓名。")
    custody_key = secrets.token_bytes(sh.SECRET_BYTES)
    set_id = secrets.token_hex(4)
    opened = {"kek": keys.kek, "other_keks": list(keys.other_keks), "reference": keys.reference_key}
    parts = sh.split(custody_key, threshold, count, set_id)
    doc = {
        "format": FORMAT,
        "set_id": set_id,
        "threshold": threshold,
        "shares": count,
        "custodians": {str(s.index): (custodians[s.index - 1] if custodians else "") for s in parts},
        "commitments": {str(s.index): sh.commitment(s) for s in parts},
        "kek_id": kek_id(keys.kek),
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sealed": seal_secrets(custody_key, set_id, keys.instance_id, opened, keys.crypto_suite),
    }
    # Prove the round trip before any key file is removed: the first K shares open it.
    if open_secrets(sh.combine(parts[:threshold]), doc, keys.instance_id, keys.crypto_suite)["kek"] != keys.kek:
        raise CustodyError("分割后自检失败，没有改动任何密钥文件。")
    _write_private(key_dir / "audit_mac.key", keys.entry_mac_key)
    tmp = key_dir / (CUSTODY_FILE + ".new")
    _write_private(tmp, (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode())
    os.replace(tmp, key_dir / CUSTODY_FILE)
    for path in [key_dir / "kek.key", *key_dir.glob("kek.key.*"), key_dir / "audit.key"]:
        if path.exists():
            _shred(path)
    return doc, parts


# --- unsealing, in one process ---------------------------------------------------------------


@dataclass
class Pending:
    """Shares entered so far in this process (never written anywhere)."""

    entered: dict[int, tuple[str, sh.Share]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Entry:
    accepted: int
    threshold: int
    unsealed: bool


def pending_of(app) -> Pending:
    return app.extensions.setdefault("ssj.custody_pending", Pending())


def is_unsealed(app) -> bool:
    return app.extensions.get("ssj.unsealed") is not None


def enter_share(app, keys: KeyRing, custodian: str, index: int, text: str) -> Entry:
    """Check one custodian's share; with the K-th, open the keys into this process's memory."""
    custody = keys.custody or {}
    if not custodian.strip():
        raise sh.ShareError("请填写保管人姓名：每一份的输入都以姓名记入访问日志。")
    if not 1 <= index <= int(custody.get("shares", 0)):
        raise sh.ShareError(f"份额编号应为 1 到 {custody.get('shares')} 之间的数字（见份额单右上角）。")
    share = sh.parse(custody["set_id"], index, text)
    if sh.commitment(share) != custody["commitments"].get(str(index)):
        raise sh.ShareError(f"这不是本系统第 {index} 份的份额（各行校验码相符，但与登记的份额不一致）。请核对份额单。")
    pending = pending_of(app)
    with pending.lock:
        if index in pending.entered:
            raise sh.ShareError(f"第 {index} 份已由 {pending.entered[index][0]} 输入过，请由另一位保管人输入另一份。")
        pending.entered[index] = (custodian.strip(), share)
        threshold = int(custody["threshold"])
        if len(pending.entered) < threshold:
            return Entry(len(pending.entered), threshold, False)
        chosen = [s for _, s in pending.entered.values()]
        pending.entered.clear()
        opened = open_secrets(sh.combine(chosen), custody, keys.instance_id, keys.crypto_suite)
        unseal_with(app, keys, opened)
        return Entry(threshold, threshold, True)


def unseal_with(app, keys: KeyRing, opened: dict) -> None:
    """Hold the opened keys in memory after checking that they fit this database."""
    ring = keys.unsealed(opened)
    problem = key_fit_problem(ring, app.config["KEY_DIR"])
    if problem is not None:
        raise ForeignKeys(problem)
    app.extensions["ssj.unsealed"] = opened


def handover(app) -> bytes:
    """The opened keys as bytes, for `flask serve` to hand to the gunicorn it execs (through a pipe)."""
    opened = app.extensions["ssj.unsealed"]
    return json.dumps({"kek": opened["kek"].hex(), "other_keks": [k.hex() for k in opened["other_keks"]],
                       "reference": opened["reference"].hex()}).encode()


def receive(app, keys: KeyRing, data: bytes) -> None:
    body = json.loads(data)
    unseal_with(app, keys, {"kek": bytes.fromhex(body["kek"]),
                            "other_keks": [bytes.fromhex(k) for k in body["other_keks"]],
                            "reference": bytes.fromhex(body["reference"])})
