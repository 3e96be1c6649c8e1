"""The crypto envelope for sealed data (SPEC §4), as pure functions.

Two layers:
- each task has its own 32-byte data key, stored only wrapped by the
  key-encryption key (KEK) that lives outside the database;
- each sealed record is AES-256-GCM under the task's data key, with
  associated data naming the task, the kind of record and its id, so a
  ciphertext copied onto another row or task does not decrypt.

Blobs are self-describing: a version byte (1 = AES-256-GCM, 2 = SM4-GCM of
the 商用密码 suite, see ssj/suites.py), the 12-byte nonce, then the
ciphertext with its tag. Nonces are random (96 bits); a data key seals far
fewer than 2^32 records, well inside GCM's random-nonce limit.
"""
from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag

from .. import suites

VERSION = b"\x01"
VERSIONS = {"intl": b"\x01", "sm": b"\x02"}
SUITE_OF = {v: k for k, v in VERSIONS.items()}
NONCE_BYTES = 12


class SealError(Exception):
    """A ciphertext did not authenticate: tampered, misplaced or the wrong key."""


def kek_id(kek: bytes) -> str:
    """A short public fingerprint of a KEK, stored beside wrapped keys for rotation."""
    return hashlib.sha256(b"ssj/kek-id/v1|" + kek).hexdigest()[:16]


def new_data_key(suite: str = "intl") -> bytes:
    return suites.new_key(suite)


def record_aad(task_id: int, kind: str, record_id: str | int) -> bytes:
    return f"ssj/seal/v1|task:{task_id}|kind:{kind}|record:{record_id}".encode("utf-8")


def wrap_aad(task_id: int) -> bytes:
    return f"ssj/data-key/v1|task:{task_id}".encode("utf-8")


def _seal(key: bytes, plaintext: bytes, aad: bytes, suite: str = "intl") -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return VERSIONS[suite] + nonce + suites.aead(suite, key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    suite = SUITE_OF.get(blob[:1])
    if len(blob) < 1 + NONCE_BYTES + 16 or suite is None:
        raise SealError("密文格式不正确")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return suites.aead(suite, key).decrypt(nonce, body, aad)
    except (InvalidTag, ValueError) as exc:  # ValueError: a key of the other suite's length
        raise SealError("密文校验失败：数据被篡改、被移动到其他记录，或密钥不对") from exc


def suite_of(key: bytes) -> str:
    """Which suite a key belongs to, by its length (AES-256: 32 bytes, SM4: 16)."""
    return "sm" if len(key) == suites.KEY_BYTES["sm"] else "intl"


def wrap_data_key(kek: bytes, task_id: int, data_key: bytes) -> bytes:
    return _seal(kek, data_key, wrap_aad(task_id), suite_of(kek))


def unwrap_data_key(kek: bytes, task_id: int, wrapped: bytes) -> bytes:
    return _open(kek, wrapped, wrap_aad(task_id))


def seal(data_key: bytes, task_id: int, kind: str, record_id: str | int, plaintext: bytes) -> bytes:
    return _seal(data_key, plaintext, record_aad(task_id, kind, record_id), suite_of(data_key))


def open_sealed(data_key: bytes, task_id: int, kind: str, record_id: str | int, blob: bytes) -> bytes:
    return _open(data_key, blob, record_aad(task_id, kind, record_id))


def seal_raw(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """The same envelope for other keys (export file keys, the custody blob)."""
    return _seal(key, plaintext, aad, suite_of(key))


def open_raw(key: bytes, blob: bytes, aad: bytes) -> bytes:
    return _open(key, blob, aad)


def rewrap(old_kek: bytes, new_kek: bytes, task_id: int, wrapped: bytes) -> bytes:
    """Key rotation: the data key stays, only its wrapping changes."""
    return wrap_data_key(new_kek, task_id, unwrap_data_key(old_kek, task_id, wrapped))
