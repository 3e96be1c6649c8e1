"""Files encrypted at rest while they wait to be downloaded (SPEC §4, §9; Art 12 "严格保密").

Exports and archive packages name inspected units; they are written to
disk only through `EncryptingWriter`, never as plaintext, not even in a
temporary file. Pure: no Flask, no database.

Format (streaming AES-256-GCM in fixed chunks, after the STREAM construction
of Hoang, Reyhanitabar, Rogaway and Vizár), so a 100,000-row export is
encrypted and decrypted in constant memory:

    MAGIC (6 bytes) | nonce prefix (7 bytes) | chunk 0 | chunk 1 | ...

Each chunk is CHUNK plaintext bytes (the last one may be shorter, even
empty) sealed with nonce = prefix | 4-byte chunk counter | last-chunk flag,
and associated data binding the file to its job. Reordering, dropping or
truncating chunks fails authentication; so does moving a file to another
job. The data key is the caller's (wrapped by the KEK in the job row).
"""
from __future__ import annotations

import hashlib
import io
import os
from typing import BinaryIO, Iterator

from cryptography.exceptions import InvalidTag

from .. import suites

MAGIC = b"SSJX\x01\x00"
PREFIX_BYTES = 7
CHUNK = 1 << 16
TAG = 16


class FileCryptError(Exception):
    """The file did not authenticate: altered, truncated, moved, or the wrong key."""


def new_key(suite: str = "intl") -> bytes:
    return suites.new_key(suite)


def _aead(key: bytes):
    # The key says the cipher: 32 bytes AES-256-GCM, 16 bytes SM4-GCM (商用密码 suite).
    return suites.aead("sm" if len(key) == suites.KEY_BYTES["sm"] else "intl", key)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class EncryptingWriter(io.RawIOBase):
    """A write-only, non-seekable file object that encrypts everything written to `sink`.

    It also hashes the plaintext and counts it, so the caller learns the
    SHA-256 of what will later be downloaded without ever storing it.
    zipfile writes to it in streaming mode (data descriptors) because
    `seekable()` is False.
    """

    def __init__(self, sink: BinaryIO, key: bytes, aad: bytes):
        super().__init__()
        self._sink = sink
        self._aead = _aead(key)
        self._aad = aad
        self._prefix = os.urandom(PREFIX_BYTES)
        self._buffer = bytearray()
        self._index = 0
        self._written = 0
        self._digest = hashlib.sha256()
        sink.write(MAGIC + self._prefix)

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._written

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        self._buffer += view
        self._digest.update(view)
        self._written += len(view)
        # Keep at least one byte back: the last chunk must be sealed as last.
        while len(self._buffer) > CHUNK:
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(view)

    def _emit(self, plain: bytes, last: bool) -> None:
        nonce = _nonce(self._prefix, self._index, last)
        self._sink.write(self._aead.encrypt(nonce, plain, self._aad))
        self._index += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._sink.flush()
        super().close()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    @property
    def size(self) -> int:
        return self._written


def decrypt_chunks(source: BinaryIO, key: bytes, aad: bytes) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk; raise FileCryptError on anything amiss."""
    head = source.read(len(MAGIC) + PREFIX_BYTES)
    if len(head) != len(MAGIC) + PREFIX_BYTES or not head.startswith(MAGIC):
        raise FileCryptError("not an ssj encrypted file")
    prefix = head[len(MAGIC):]
    aead = _aead(key)
    index = 0
    block = source.read(CHUNK + TAG)
    while True:
        if len(block) < TAG:
            raise FileCryptError("truncated")
        following = source.read(CHUNK + TAG)
        last = not following
        try:
            yield aead.decrypt(_nonce(prefix, index, last), block, aad)
        except InvalidTag as exc:
            raise FileCryptError("chunk did not authenticate") from exc
        if last:
            return
        block, index = following, index + 1


def plaintext_sha256(source: BinaryIO, key: bytes, aad: bytes) -> str:
    digest = hashlib.sha256()
    for chunk in decrypt_chunks(source, key, aad):
        digest.update(chunk)
    return digest.hexdigest()
