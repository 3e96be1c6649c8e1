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

from .sealing.envelope import kek_id
from .suites import mac, new_key

KEY_FILES = ("secret_key", "kek.key", "audit.key", "audit_signing.pem")
# Not in KEY_FILES: a key directory from before instance ids lacks it and is
# adopted by `flask init` once the keys are shown to fit the data.
INSTANCE_FILE = "instance.json"
SUITES = ("intl", "sm")
# Sealed mode (k-of-n custody, `flask keys split`): kek.key and audit.key are
# gone; the KEK and the reference key live sealed in custody.json under a
# custody key that exists only as custodians' shares, and the log's entry
# MAC key (needed to log even the unsealing) is kept as audit_mac.key.
CUSTODY_FILE = "custody.json"
SEALED_KEY_FILES = ("secret_key", "audit_mac.key", "audit_signing.pem", CUSTODY_FILE)


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


def is_sealed_dir(key_dir: Path) -> bool:
    return (key_dir / CUSTODY_FILE).exists()


def create_keys(key_dir: Path, suite: str = "intl") -> list[str]:
    """Create whichever key files are absent; return the names created.

    A directory made from nothing also gets its instance id; an existing one
    without it is left to `flask init`'s adoption (ssj.identity). A sealed
    directory gets nothing: a new kek.key there would be a second, wrong KEK.
    """
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    made = []
    if is_sealed_dir(key_dir):
        return made
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
        elif name == "kek.key":
            data = new_key(read_instance_file(key_dir)[1])  # SM4 keys are 16 bytes, AES-256 keys 32
        else:
            data = secrets.token_bytes(32)
        _write_private(path, data)
        made.append(name)
    return made


def missing_keys(key_dir: Path) -> list[str]:
    wanted = SEALED_KEY_FILES if is_sealed_dir(key_dir) else KEY_FILES
    return [name for name in wanted if not (key_dir / name).is_file()]


class Sealed(RuntimeError):
    """The instance is sealed: the KEK and the reference key exist only once custodians enter their shares."""


@dataclass(frozen=True)
class KeyRing:
    secret_key: bytes
    kek: bytes | None  # None while sealed
    audit_root: bytes | None  # None in sealed mode (only the two keys derived from it are kept)
    signing_key: Ed25519PrivateKey
    # Earlier or pending KEKs (kek.key.* files), kept through a rotation.
    other_keks: tuple[bytes, ...] = ()
    instance_id: str | None = None
    crypto_suite: str = "intl"
    # Sealed mode: the entry MAC key from audit_mac.key; the reference key once unsealed.
    mac_key: bytes | None = None
    reference: bytes | None = None
    custody: dict | None = None

    @property
    def sealed(self) -> bool:
        return self.kek is None

    def kek_by_id(self, wanted: str) -> bytes | None:
        for candidate in (self.kek, *self.other_keks):
            if candidate is not None and kek_id(candidate) == wanted:
                return candidate
        return None

    def unsealed(self, secrets_: dict) -> "KeyRing":
        """This ring with the KEKs and reference key opened from custody (held in memory only)."""
        from dataclasses import replace

        return replace(self, kek=secrets_["kek"], other_keks=tuple(secrets_["other_keks"]),
                       reference=secrets_["reference"])

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
        instance_id, suite = read_instance_file(key_dir)
        if is_sealed_dir(key_dir):
            try:
                custody = json.loads(read(CUSTODY_FILE))
            except ValueError as exc:
                raise KeyError_(f"{key_dir / CUSTODY_FILE} 内容不正确（{exc}）。请从 keys export 的副本恢复。") from exc
            return cls(read("secret_key"), None, None, signing, (), instance_id, suite,
                       mac_key=read("audit_mac.key"), custody=custody)
        others = tuple(p.read_bytes() for p in sorted(key_dir.glob("kek.key.*")))
        return cls(read("secret_key"), read("kek.key"), read("audit.key"), signing, others, instance_id, suite)

    def _derive(self, label: str) -> bytes:
        if self.audit_root is None:
            raise Sealed("audit root is not on this machine (sealed mode)")
        if self.crypto_suite == "sm":  # HMAC-SM3 (ssj/suites.py)
            return mac("sm", self.audit_root, label.encode())
        return hmac.new(self.audit_root, label.encode(), hashlib.sha256).digest()

    @property
    def reference_key(self) -> bytes:
        """HMAC key for sealed references in the log (SPEC §5)."""
        if self.reference is not None:
            return self.reference
        if self.audit_root is None:
            raise Sealed("系统已封存：访问日志的引用密钥须由保管人输入份额后才可用。")
        return self._derive("ssj/audit/reference/v1")

    @property
    def entry_mac_key(self) -> bytes:
        return self.mac_key if self.mac_key is not None else self._derive("ssj/audit/entry-mac/v1")

    @property
    def verify_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    @property
    def signing_key_id(self) -> str:
        raw = self.verify_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]
