"""The crypto envelope for sealed data (SPEC §4), as pure functions.

Two layers:
- each task has its own 32-byte data key, stored only wrapped by the
  key-encryption key (KEK) that lives outside the database;
- each sealed record is AES-256-GCM under the task's data key, with
  associated data naming the task, the kind of record and its id, so a
  ciphertext copied onto another row or task does not decrypt.

Blobs are self-describing: a version byte, the 12-byte nonce, then the
ciphertext with its tag. Nonces are random (96 bits); a data key seals far
fewer than 2^32 records, well inside GCM's random-nonce limit.
"""
from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"
NONCE_BYTES = 12


class SealError(Exception):
    """A ciphertext did not authenticate: tampered, misplaced or the wrong key."""


def kek_id(kek: bytes) -> str:
    """A short public fingerprint of a KEK, stored beside wrapped keys for rotation."""
    return hashlib.sha256(b"ssj/kek-id/v1|" + kek).hexdigest()[:16]


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def record_aad(task_id: int, kind: str, record_id: str | int) -> bytes:
    return f"ssj/seal/v1|task:{task_id}|kind:{kind}|record:{record_id}".encode("utf-8")


def wrap_aad(task_id: int) -> bytes:
    return f"ssj/data-key/v1|task:{task_id}".encode("utf-8")


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != VERSION:
        raise SealError("密文格式不正确")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag as exc:
        raise SealError("密文校验失败：数据被篡改、被移动到其他记录，或密钥不对") from exc


def wrap_data_key(kek: bytes, task_id: int, data_key: bytes) -> bytes:
    return _seal(kek, data_key, wrap_aad(task_id))


def unwrap_data_key(kek: bytes, task_id: int, wrapped: bytes) -> bytes:
    return _open(kek, wrapped, wrap_aad(task_id))


def seal(data_key: bytes, task_id: int, kind: str, record_id: str | int, plaintext: bytes) -> bytes:
    return _seal(data_key, plaintext, record_aad(task_id, kind, record_id))


def open_sealed(data_key: bytes, task_id: int, kind: str, record_id: str | int, blob: bytes) -> bytes:
    return _open(data_key, blob, record_aad(task_id, kind, record_id))


def rewrap(old_kek: bytes, new_kek: bytes, task_id: int, wrapped: bytes) -> bytes:
    """Key rotation: the data key stays, only its wrapping changes."""
    return wrap_data_key(new_kek, task_id, unwrap_data_key(old_kek, task_id, wrapped))
