"""The two crypto suites an instance can be initialised with (SPEC §4), as pure functions.

  intl  AES-256-GCM for sealing; SHA-256 and HMAC-SHA256 for the access-log
        chain, its MACs and the sealed references (the default)
  sm    商用密码: SM4-GCM (GB/T 32907, 128-bit key) for sealing; SM3 and
        HMAC-SM3 (GB/T 32905) for the log chain, its MACs and references

The suite is fixed at `flask init --crypto sm` and recorded in the key
directory's instance.json and the database (ssj.identity refuses a mix).
What the public verifies stays SHA-256 whatever the suite: the draw
algorithm, commitments and the published bundle (docs/verify.md), and
checkpoint signatures stay Ed25519 (SM2 is not in `cryptography`).

Sealed blobs say which cipher made them (envelope's version byte), so
reading never depends on the suite, only writing does. No Flask here.
"""
from __future__ import annotations

import hashlib
import hmac as std_hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as c_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SUITES = ("intl", "sm")
KEY_BYTES = {"intl": 32, "sm": 16}
TAG_BYTES = 16


class SM4GCM:
    """SM4 in GCM mode with AESGCM's interface (cryptography has SM4-GCM only as a Cipher mode)."""

    def __init__(self, key: bytes):
        if len(key) != 16:
            raise ValueError("SM4 keys are 16 bytes")
        self._key = key

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        enc = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        if associated_data:
            enc.authenticate_additional_data(associated_data)
        return enc.update(data) + enc.finalize() + enc.tag

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        if len(data) < TAG_BYTES:
            raise InvalidTag()
        dec = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, data[-TAG_BYTES:])).decryptor()
        if associated_data:
            dec.authenticate_additional_data(associated_data)
        return dec.update(data[:-TAG_BYTES]) + dec.finalize()


def aead(suite: str, key: bytes) -> "SM4GCM | AESGCM":
    return SM4GCM(key) if suite == "sm" else AESGCM(key)


def new_key(suite: str) -> bytes:
    import os

    return os.urandom(KEY_BYTES[suite])


def digest_hex(suite: str, data: bytes) -> str:
    if suite == "sm":
        h = hashes.Hash(hashes.SM3())
        h.update(data)
        return h.finalize().hex()
    return hashlib.sha256(data).hexdigest()


def mac(suite: str, key: bytes, data: bytes) -> bytes:
    if suite == "sm":
        m = c_hmac.HMAC(key, hashes.SM3())
        m.update(data)
        return m.finalize()
    return std_hmac.new(key, data, hashlib.sha256).digest()


def mac_hex(suite: str, key: bytes, data: bytes) -> str:
    return mac(suite, key, data).hex()
