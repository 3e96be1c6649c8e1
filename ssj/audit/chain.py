"""The access log's hash chain, as pure functions (SPEC §5).

entry_hash = SHA-256(prev_hash_bytes || canonical_json(body)), where the
body is a JSON object with sorted keys, no floats, UTF-8, no spaces. The
first entry's prev_hash is 64 zeros. An entry's body includes its own
sequence number, so moving an entry changes its hash.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Iterable, Optional

GENESIS = "0" * 64


def _reject_floats(value):
    if isinstance(value, float):
        raise TypeError("floats are not allowed in log entries")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError("log entry keys must be strings")
            _reject_floats(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _reject_floats(v)


def canonical_json(body: dict) -> str:
    _reject_floats(body)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical.encode("utf-8")).hexdigest()


def entry_mac(mac_key: bytes, hash_hex: str) -> str:
    return hmac.new(mac_key, hash_hex.encode("ascii"), hashlib.sha256).hexdigest()


def checkpoint_statement(seq: int, head_hash: str, signed_at: str) -> str:
    """The exact text an Ed25519 checkpoint signature covers."""
    return canonical_json(
        {"format": "ssj-audit-checkpoint-v1", "seq": seq, "head_hash": head_hash, "signed_at": signed_at}
    )


@dataclass(frozen=True)
class StoredEntry:
    """An entry as read back from storage: nothing here is trusted."""

    row_id: int
    seq: int
    body: str
    prev_hash: str
    entry_hash: str
    entry_mac: Optional[str] = None


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # altered / deleted / inserted / reordered / truncated
    detail: str

    KIND_ZH = {
        "altered": "被篡改",
        "deleted": "被删除",
        "inserted": "被插入",
        "reordered": "顺序被调换",
        "truncated": "被截断",
    }

    def __str__(self) -> str:
        return f"entry {self.seq} {self.kind}: {self.detail}"

    @property
    def zh(self) -> str:
        return f"第 {self.seq} 条记录{self.KIND_ZH[self.kind]}：{self.detail}"


def _body_seq(entry: StoredEntry) -> Optional[int]:
    try:
        value = json.loads(entry.body).get("seq")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def _self_consistent(entry: StoredEntry) -> bool:
    return entry_hash(entry.prev_hash, entry.body) == entry.entry_hash


def verify_entries(
    entries: Iterable[StoredEntry], mac_key: Optional[bytes] = None
) -> tuple[Optional[Problem], int, str]:
    """Walk the entries in stored order (by seq, then row id).

    Returns (first problem or None, entries checked, head hash). The
    classification names what a person changing rows would have done:
    - altered: the stored content no longer hashes to the stored hash;
    - deleted: a sequence number is missing and the next entry points past it;
    - inserted: an entry that the application did not write (bad MAC, or a
      duplicate sequence number, or the chain continues as if it were absent);
    - reordered: an entry sits at another position than it was written at.
    """
    entries = list(entries)
    by_hash = {e.entry_hash: e for e in entries}
    prev = GENESIS
    expected = 1
    for index, e in enumerate(entries):
        consistent = _self_consistent(e)
        body_seq = _body_seq(e)
        if consistent and body_seq != e.seq:
            # The hashed body says it was written at another position.
            return Problem(e.seq, "reordered", f"记录写入时序号为 {body_seq}，现位于序号 {e.seq}"), index, prev
        if e.seq < expected:
            return Problem(e.seq, "inserted", f"序号 {e.seq} 重复出现"), index, prev
        if e.seq > expected and e.prev_hash != prev:
            original = by_hash.get(e.prev_hash)
            if original is None or original.seq < expected - 1 or original is e:
                return Problem(expected, "deleted", f"缺少序号 {expected}–{e.seq - 1}"), index, prev
        if not consistent:
            return Problem(e.seq, "altered", "内容与其哈希不符"), index, prev
        if mac_key is not None and e.entry_mac is not None:
            if not hmac.compare_digest(entry_mac(mac_key, e.entry_hash), e.entry_mac):
                return Problem(e.seq, "inserted", "该记录不是由本系统写入（校验码不符）"), index, prev
        if e.prev_hash != prev:
            target = by_hash.get(e.prev_hash)
            if target is not None and target.seq > e.seq:
                return Problem(e.seq, "reordered", f"该记录应位于序号 {target.seq} 之后"), index, prev
            if index >= 1 and entries[index - 1].prev_hash == e.prev_hash:
                return Problem(entries[index - 1].seq, "inserted", "链中多出一条记录"), index, prev
            if target is not None and target.seq < e.seq - 1:
                return Problem(target.seq + 1, "deleted", f"缺少序号 {target.seq + 1} 之后的记录"), index, prev
            return Problem(e.seq, "altered", "前序哈希与上一条记录不符"), index, prev
        if e.seq != expected:
            return Problem(expected, "deleted", f"缺少序号 {expected}–{e.seq - 1}"), index, prev
        prev = e.entry_hash
        expected += 1
    return None, len(entries), prev
