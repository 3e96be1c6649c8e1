"""Backups that restore everything (SPEC §4; Art 9 全程留痕: the file of an inspection must survive).

A backup is a directory (mode 0700, files 0600) holding
  database.sqlite3 | database.pgdump   a consistent copy: SQLite's backup API, or pg_dump
  evidence/<stored name>               every evidence file (ciphertext, as on disk)
  exports/<token>.enc                  export files still within their download day
  manifest.json                        SHA-256 and size of every file above, and which
                                       key-encryption keys the sealed data needs
and never a key: keys go to offline media with `flask keys export`, so a stolen
backup is ciphertext without its key.

Consistency: an evidence file is written before its row commits
(inspections.evidence.add), so every row in the database copy already has
its file when the files are copied afterwards; files newer than the copy are
harmless orphans.

`verify` restores a backup into a temporary instance with the real keys and
proves it usable: the log chain verifies, one sealed item of every task
opens, every evidence file decrypts to the hash sealed beside it.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from sqlalchemy.engine import make_url

from .audit.verify import verify_log
from .exports.jobs import KEEP, file_path
from .extensions import db
from .identity import stored_identity
from .inspections.evidence import store_dir
from .keys import KeyError_, missing_keys
from .models import DrawAttempt, EvidenceFile, ExportJob, TaskKey
from .sealing import envelope
from .sealing.service import data_key, open_json

FORMAT = "ssj-backup/v1"
KEYS_FORMAT = "ssj-keys/v1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"


class BackupError(RuntimeError):
    """The backup, restore or check cannot go on; the message says why and what to do (Chinese)."""


# --- files -------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # mkdir's mode is cut by the umask; the backup must not be


def copy_private(src: Path, dst: Path) -> None:
    """Copy a file to a new 0600 file (never over an existing one)."""
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
        shutil.copyfileobj(inp, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())


def write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def fresh_dir(path: Path, what: str) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{what}目录 {path} 已存在且不为空。请指定一个新的目录，以免覆盖已有的{what}。")
    private_dir(path)


@dataclass
class Manifest:
    doc: dict

    @property
    def files(self) -> dict[str, dict]:
        return self.doc["files"]

    @classmethod
    def read(cls, root: Path, fmt: str = FORMAT) -> "Manifest":
        path = root / MANIFEST
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BackupError(f"无法读取 {path}（{exc}）。这不是一个完整的备份目录，请检查路径。") from exc
        if not isinstance(doc, dict) or doc.get("format") != fmt or not isinstance(doc.get("files"), dict):
            raise BackupError(f"{path} 不是本系统的{'备份' if fmt == FORMAT else '密钥导出'}清单（应为 {fmt}）。")
        return cls(doc)

    def write(self, root: Path) -> str:
        data = (json.dumps(self.doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
        write_private(root / MANIFEST, data)
        return hashlib.sha256(data).hexdigest()


def file_problems(root: Path, manifest: Manifest) -> list[str]:
    """Every file listed with its hash and size, and nothing else (the manifest aside)."""
    problems = []
    listed = set(manifest.files)
    for rel, want in sorted(manifest.files.items()):
        path = root / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            problems.append(f"清单中的路径不合法：{rel}")
        elif not path.is_file():
            problems.append(f"缺少文件：{rel}")
        elif sha256_file(path) != want.get("sha256"):
            problems.append(f"文件内容与清单中的 SHA-256 不符（被改动或损坏）：{rel}")
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel != MANIFEST and rel not in listed:
            problems.append(f"清单中没有的文件：{rel}")
    return problems


def _listing(root: Path, rels: list[str]) -> dict[str, dict]:
    return {rel: {"sha256": sha256_file(root / rel), "size": (root / rel).stat().st_size} for rel in sorted(rels)}


# --- databases ---------------------------------------------------------------------------


def database_kind(uri: str) -> str:
    backend = make_url(uri).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持备份这种数据库：{backend}。")
    return backend


def sqlite_path(uri: str) -> Path:
    return Path(make_url(uri).database or "")


def _pg_args(uri: str) -> tuple[list[str], dict]:
    url = make_url(uri)
    args = ["-d", url.database or ""]
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(cmd: list[str], env: dict) -> None:
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BackupError(f"找不到 {cmd[0]}。请安装 PostgreSQL 客户端（Debian：apt-get install postgresql-client）。") from exc
    if done.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} 失败：{done.stderr.strip()[:500]}")


def copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy of a live WAL database into a new single 0600 file."""
    write_private(dst, b"")
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        target.close()
        source.close()


def dump_postgres(uri: str, dst: Path) -> None:
    args, env = _pg_args(uri)
    write_private(dst, b"")
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(dst), *args], env)


def restore_postgres(src: Path, uri: str) -> None:
    args, env = _pg_args(uri)
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", *args, str(src)], env)


def database_is_empty(uri: str) -> bool:
    from sqlalchemy import create_engine, inspect

    if database_kind(uri) == "sqlite" and not sqlite_path(uri).exists():
        return True
    engine = create_engine(uri)
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


# --- making a backup ---------------------------------------------------------------------


def make_backup(dest: Path) -> tuple[Manifest, str]:
    """Write a backup of the current app's instance to the new directory `dest`; return it and the manifest's SHA-256."""
    from flask import current_app
    from sqlalchemy import select


    key_dir = Path(current_app.config["KEY_DIR"]).resolve()
    dest = dest.resolve()
    if dest == key_dir or key_dir in dest.parents or dest in key_dir.parents:
        raise BackupError(f"备份目录 {dest} 与密钥目录 {key_dir} 重叠。密钥绝不能进入备份，请换一个目录。")
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    kind = database_kind(uri)
    fresh_dir(dest, "备份")
    # The database first: every evidence row in it already has its file (written before the row).
    if kind == "sqlite":
        copy_sqlite(sqlite_path(uri), dest / SQLITE_FILE)
        db_file = SQLITE_FILE
    else:
        dump_postgres(uri, dest / PG_FILE)
        db_file = PG_FILE
    rels = [db_file]

    evidence = store_dir()
    names = db.session.execute(select(EvidenceFile.stored_name)).scalars().all()
    missing = [n for n in names if not (evidence / n).is_file()]
    if missing:
        shutil.rmtree(dest)
        raise BackupError(
            f"有 {len(missing)} 个证据文件在 {evidence} 中找不到（例如 {missing[0]}）。"
            "备份没有写出；请先从上一次备份中找回这些文件。"
        )
    private_dir(dest / "evidence")
    for name in sorted(evidence.iterdir()):
        if name.is_file():
            copy_private(name, dest / "evidence" / name.name)
            rels.append(f"evidence/{name.name}")

    private_dir(dest / "exports")
    now = datetime.now(timezone.utc)
    jobs = db.session.execute(
        select(ExportJob).where(ExportJob.state == "done", ExportJob.file_token.is_not(None),
                                ExportJob.created_at >= now - KEEP)
    ).scalars()
    for job in jobs:
        path = file_path(job)
        if path is not None and path.is_file():
            copy_private(path, dest / "exports" / path.name)
            rels.append(f"exports/{path.name}")

    kek_ids = sorted(set(db.session.execute(select(TaskKey.kek_id)).scalars()) |
                     set(db.session.execute(select(ExportJob.kek_id).where(ExportJob.kek_id.is_not(None))).scalars()))
    manifest = Manifest({
        "format": FORMAT,
        "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "database": {"kind": kind, "file": db_file},
        "kek_ids": kek_ids,
        "files": _listing(dest, rels),
        **identity_fields(),
    })
    return manifest, manifest.write(dest)


def identity_fields() -> dict:
    """Which instance the backup is of, so a restore with another instance's keys stops at once."""
    identity = stored_identity()
    return {"instance_id": identity[0], "crypto_suite": identity[1]} if identity else {}


# --- keys for offline media --------------------------------------------------------------


def export_keys(key_dir: Path, dest: Path) -> Manifest:
    """Copy every key file to the new directory `dest` (0700/0600) with a manifest of their hashes."""
    absent = missing_keys(key_dir)
    if absent:
        raise BackupError(f"密钥目录 {key_dir} 缺少 {', '.join(absent)}，无法导出完整的密钥。")
    fresh_dir(dest, "密钥导出")
    rels = []
    for path in sorted(key_dir.iterdir()):
        if path.is_file():
            copy_private(path, dest / path.name)
            rels.append(path.name)
    manifest = Manifest({
        "format": KEYS_FORMAT,
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": _listing(dest, rels),
    })
    manifest.write(dest)
    return manifest


def install_keys(src: Path, key_dir: Path) -> list[str]:
    """Copy an export made by `export_keys` into an empty key directory; return the names copied."""
    manifest = Manifest.read(src, KEYS_FORMAT)
    problems = file_problems(src, manifest)
    if problems:
        raise BackupError("密钥导出不完整或被改动：" + "；".join(problems))
    if key_dir.exists() and any(p.is_file() for p in key_dir.iterdir()):
        raise BackupError(f"密钥目录 {key_dir} 中已有密钥文件。为免覆盖，请先确认并移走它们，或不要同时给出 --keys。")
    private_dir(key_dir)
    for rel in manifest.files:
        copy_private(src / rel, key_dir / rel)
    return sorted(manifest.files)


# --- restoring ---------------------------------------------------------------------------


def check_backup_files(src: Path) -> Manifest:
    manifest = Manifest.read(src)
    problems = file_problems(src, manifest)
    if problems:
        raise BackupError("备份不完整或被改动，未恢复任何内容：" + "；".join(problems[:10]))
    return manifest


def restore_files(src: Path, manifest: Manifest, instance_path: Path, uri: str) -> dict[str, int]:
    """Put the database and files of a checked backup into an empty instance."""
    kind = manifest.doc["database"]["kind"]
    if database_kind(uri) != kind:
        raise BackupError(f"备份中的数据库是 {kind}，而本实例配置的是 {database_kind(uri)}。请改用同类数据库再恢复。")
    if not database_is_empty(uri):
        raise BackupError("目标数据库中已有数据，恢复会覆盖它们，因此没有进行。请恢复到新的空数据库（或新的实例目录）。")
    for sub in ("evidence", "exports"):
        d = instance_path / sub
        if d.exists() and any(d.iterdir()):
            raise BackupError(f"目录 {d} 不为空，恢复会与其中的文件混在一起，因此没有进行。请恢复到新的实例目录。")
    db_file = src / manifest.doc["database"]["file"]
    if kind == "sqlite":
        target = sqlite_path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            stale.unlink(missing_ok=True)  # an empty database only (checked above)
        copy_sqlite(db_file, target)
    else:
        restore_postgres(db_file, uri)
    counts = {"evidence": 0, "exports": 0}
    for sub in counts:
        private_dir(instance_path / sub)
    for rel in manifest.files:
        top = rel.split("/", 1)[0]
        if top in counts:
            copy_private(src / rel, instance_path / rel)
            counts[top] += 1
    return counts


# --- checking a backup by restoring it ---------------------------------------------------


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _temporary_database(uri: str, kind: str, tmp: Path) -> tuple[str, Optional[str]]:
    """A URI for an empty database to restore into, and the PostgreSQL database to drop after."""
    if kind == "sqlite":
        return "sqlite:///" + str(tmp / "ssj.sqlite3"), None
    import secrets

    from sqlalchemy import create_engine, text

    url = make_url(uri)
    if url.get_backend_name() != "postgresql":
        raise BackupError("这个备份是 PostgreSQL 的，核验需要一个 PostgreSQL 服务器：请在配置了 PostgreSQL 的实例上运行。")
    name = f"ssj_verify_{secrets.token_hex(6)}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def _drop_database(uri: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(make_url(uri).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def verify_backup(src: Path, key_dir: Path, live_uri: str, opened: Optional[dict] = None) -> VerifyReport:
    """Restore `src` into a temporary instance with the keys in `key_dir` and check that it is whole."""
    report = VerifyReport()
    try:
        manifest = Manifest.read(src)
    except BackupError as exc:
        report.problems.append(str(exc))
        return report
    report.problems += file_problems(src, manifest)
    report.facts.append(f"清单列出 {len(manifest.files)} 个文件，已逐一核对 SHA-256")
    kind = manifest.doc["database"]["kind"]
    tmp = Path(tempfile.mkdtemp(prefix="ssj-backup-verify-"))
    os.chmod(tmp, 0o700)
    dropped: Optional[str] = None
    try:
        uri, dropped = _temporary_database(live_uri, kind, tmp)
        restore_files(src, manifest, tmp, uri)
        _check_restored(tmp, uri, key_dir, report, opened)
    except BackupError as exc:
        report.problems.append(str(exc))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if dropped:
            _drop_database(live_uri, dropped)
    return report


def _check_restored(instance: Path, uri: str, key_dir: Path, report: VerifyReport, opened: Optional[dict]) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from . import create_app

    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "KEY_DIR": str(key_dir)}, instance_path=str(instance))
    except KeyError_ as exc:
        report.problems.append(str(exc))
        return
    if opened is not None:  # sealed mode: the keys the custodians opened on the console, memory only
        app.extensions["ssj.unsealed"] = opened
    try:
        with app.app_context():
            upgrade()  # a backup from an older version must migrate, as a real restore would
            log = verify_log()
            if log.ok:
                report.facts.append(f"访问日志链完整：{log.checked} 条")
            else:
                report.problems.append(log.zh)
            tasks = db.session.execute(select(TaskKey.task_id).order_by(TaskKey.task_id)).scalars().all()
            opened = 0
            for task_id in tasks:
                try:
                    data_key(task_id)  # the KEK in hand unwraps it
                    attempt = db.session.execute(
                        select(DrawAttempt).where(DrawAttempt.task_id == task_id).order_by(DrawAttempt.id.desc())
                    ).scalars().first()
                    if attempt is not None:
                        open_json(task_id, "pools", attempt.id, attempt.pools_sealed)
                    opened += 1
                except Exception as exc:  # noqa: BLE001  (every failure is a finding, reported by task)
                    report.problems.append(f"任务 {task_id} 的封存数据打不开：{exc}")
            report.facts.append(f"{opened}/{len(tasks)} 个任务的封存数据可以打开")
            files = db.session.execute(select(EvidenceFile)).scalars().all()
            good = 0
            for row in files:
                path = store_dir() / row.stored_name
                try:
                    body = envelope.open_sealed(data_key(row.task_id), row.task_id, "evidence", row.id, path.read_bytes())
                    meta = open_json(row.task_id, "evidence_meta", row.id, row.meta_sealed)
                except (OSError, envelope.SealError) as exc:
                    report.problems.append(f"证据文件 {row.stored_name}（任务 {row.task_id}）无法解密：{exc}")
                    continue
                if hashlib.sha256(body).hexdigest() != meta.get("sha256"):
                    report.problems.append(f"证据文件 {row.stored_name}（任务 {row.task_id}）的 SHA-256 与登记的不符")
                    continue
                good += 1
            report.facts.append(f"{good}/{len(files)} 个证据文件解密后与登记的 SHA-256 一致")
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()
