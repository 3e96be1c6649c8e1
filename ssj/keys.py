"""Keys kept outside the database (SPEC §4, §5).

instance/keys/ (or SSJ_KEY_DIR) holds, each with mode 0600:
  secret_key        Flask session signing key
  kek.key           key-encryption key that wraps per-task data keys
  audit.key         root of the access-log HMAC keys (sealed references, entry MACs)
  audit_signing.pem Ed25519 key that signs access-log checkpoints
  instance.json     the instance id and crypto suite the keys belong to
                    (the database holds the same id: ssj.identity refuses
                    the keys of another instance before anything is written)

They are created once by `flask --app app init`. They are never created
silently while data exist: a missing key then is an error that names the
file, because a new key would make sealed data and the log unverifiable.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILES = ("secret_key", "kek.key", "audit.key", "audit_signing.pem")
# Not in KEY_FILES: a key directory from before instance ids lacks it and is
# adopted by `flask init` once the keys are shown to fit the data.
INSTANCE_FILE = "instance.json"
SUITES = ("intl", "sm")


class KeyError_(RuntimeError):
    """A key is missing or unreadable; the message says which and what to do."""


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def write_instance_file(key_dir: Path, suite: str = "intl") -> str:
    """A new instance id for this key directory; return it."""
    if suite not in SUITES:
        raise ValueError(suite)
    instance_id = f"ssj-{uuid.uuid4()}"
    doc = {"instance_id": instance_id, "crypto_suite": suite}
    _write_private(key_dir / INSTANCE_FILE, (json.dumps(doc, sort_keys=True) + "\n").encode())
    return instance_id


def read_instance_file(key_dir: Path) -> tuple[str | None, str]:
    path = key_dir / INSTANCE_FILE
    if not path.is_file():
        return None, "intl"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return str(doc["instance_id"]), str(doc.get("crypto_suite", "intl"))
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyError_(f"{path} 内容不正确（{exc}）。请从 keys export 的副本恢复这个文件。") from exc


def create_keys(key_dir: Path, suite: str = "intl") -> list[str]:
    """Create whichever key files are absent; return the names created.

    A directory made from nothing also gets its instance id; an existing one
    without it is left to `flask init`'s adoption (ssj.identity).
    """
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    made = []
    if not any((key_dir / name).exists() for name in (*KEY_FILES, INSTANCE_FILE)):
        write_instance_file(key_dir, suite)
        made.append(INSTANCE_FILE)
    for name in KEY_FILES:
        path = key_dir / name
        if path.exists():
            continue
        if name == "audit_signing.pem":
            data = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        else:
            data = secrets.token_bytes(32)
        _write_private(path, data)
        made.append(name)
    return made


def missing_keys(key_dir: Path) -> list[str]:
    return [name for name in KEY_FILES if not (key_dir / name).is_file()]


@dataclass(frozen=True)
class KeyRing:
    secret_key: bytes
    kek: bytes
    audit_root: bytes
    signing_key: Ed25519PrivateKey
    # Earlier or pending KEKs (kek.key.* files), kept through a rotation.
    other_keks: tuple[bytes, ...] = ()
    instance_id: str | None = None
    crypto_suite: str = "intl"

    def kek_by_id(self, wanted: str) -> bytes | None:
        from .sealing.envelope import kek_id

        for candidate in (self.kek, *self.other_keks):
            if kek_id(candidate) == wanted:
                return candidate
        return None

    @classmethod
    def load(cls, key_dir: Path) -> "KeyRing":
        absent = missing_keys(key_dir)
        if absent:
            raise KeyError_(
                f"密钥文件缺失：{', '.join(absent)}（目录 {key_dir}）。"
                "如系首次安装，请运行 `flask --app app init`；"
                "如已有数据，请从备份恢复密钥，切勿重新生成。"
            )
        read = lambda name: (key_dir / name).read_bytes()  # noqa: E731
        signing = serialization.load_pem_private_key(read("audit_signing.pem"), password=None)
        if not isinstance(signing, Ed25519PrivateKey):
            raise KeyError_("audit_signing.pem 不是 Ed25519 私钥。")
        others = tuple(p.read_bytes() for p in sorted(key_dir.glob("kek.key.*")))
        instance_id, suite = read_instance_file(key_dir)
        return cls(read("secret_key"), read("kek.key"), read("audit.key"), signing, others, instance_id, suite)

    def _derive(self, label: str) -> bytes:
        return hmac.new(self.audit_root, label.encode(), hashlib.sha256).digest()

    @property
    def reference_key(self) -> bytes:
        """HMAC key for sealed references in the log (SPEC §5)."""
        return self._derive("ssj/audit/reference/v1")

    @property
    def entry_mac_key(self) -> bytes:
        return self._derive("ssj/audit/entry-mac/v1")

    @property
    def verify_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    @property
    def signing_key_id(self) -> str:
        raw = self.verify_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]
