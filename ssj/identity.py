"""Keys belong to one instance (SPEC §4): refuse another instance's keys before anything is written.

With another instance's keys in place the app used to start: sealed pages
failed, new log entries were MACed with the wrong key, and the log stayed
"altered" for good even after the right keys came back. So every start
(the web app, `audit`, `demo`, any command) first compares, reading only:

- the instance id in the key directory's instance.json with the database's
  instance_identity row;
- the log key: the newest entry's MAC must verify under audit.key;
- the signing key: the newest stored checkpoint must name its key id;
- the KEK: the newest task data key must be wrapped by a KEK in hand.

The last three catch a mixed key directory (one file from elsewhere) and an
instance from before instance ids, which has no row yet.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import inspect, select

from .audit import chain
from .audit.verify import key_id_of
from .extensions import db
from .keys import KeyError_, KeyRing, read_instance_file, write_instance_file
from .models import AccessLogEntry, AuditCheckpoint, InstanceIdentity, TaskKey


class ForeignKeys(KeyError_):
    """The keys in place do not belong to this database; nothing has been written."""


_NOTHING_WRITTEN = "系统已拒绝启动，没有写入任何内容。"


def _has(table: str) -> bool:
    return inspect(db.engine).has_table(table)


def stored_identity() -> Optional[tuple[str, str]]:
    """(instance id, crypto suite) of the database, or None before init / before ids existed."""
    if not _has("instance_identity"):
        return None
    row = db.session.get(InstanceIdentity, 1)
    return (row.instance_id, row.crypto_suite) if row is not None else None


def key_fit_problem(keys: KeyRing, key_dir: str, *, check_kek: bool = True) -> Optional[str]:
    """Why these keys do not fit the data in this database (Chinese), or None. Reads only."""
    if not _has("access_log"):
        return None  # an empty database: nothing to fit yet
    identity = stored_identity()
    if identity is not None:
        if keys.instance_id is None:
            return (f"密钥目录 {key_dir} 中没有 instance.json，无法确认它属于本实例（{identity[0]}）。"
                    f"请放回本实例的全部密钥文件（keys export 的副本）。{_NOTHING_WRITTEN}")
        if keys.instance_id != identity[0]:
            return (f"密钥目录 {key_dir} 属于另一个实例（{keys.instance_id}），而本数据库属于实例 {identity[0]}。"
                    f"请换回本实例的密钥（keys export 的副本）。{_NOTHING_WRITTEN}")
        if keys.crypto_suite != identity[1]:
            return (f"密钥目录 {key_dir} 的密码套件是 {keys.crypto_suite}，本数据库初始化时选定的是 {identity[1]}。"
                    f"请换回本实例的密钥。{_NOTHING_WRITTEN}")
    last = db.session.execute(
        select(AccessLogEntry.entry_hash, AccessLogEntry.entry_mac, AccessLogEntry.seq)
        .order_by(AccessLogEntry.id.desc()).limit(1)
    ).first()
    if last is not None and chain.entry_mac(keys.entry_mac_key, last.entry_hash, keys.crypto_suite) != last.entry_mac:
        return (f"访问日志密钥 audit.key（目录 {key_dir}）与日志不符：第 {last.seq} 条记录的 MAC 用它核对不上。"
                "用错的密钥写入的记录将永远无法核验，"
                f"请放回本实例的 audit.key。{_NOTHING_WRITTEN}")
    cp = db.session.execute(
        select(AuditCheckpoint.key_id, AuditCheckpoint.seq).order_by(AuditCheckpoint.id.desc()).limit(1)
    ).first()
    if cp is not None and cp.key_id != key_id_of(keys.verify_key):
        return (f"签名密钥 audit_signing.pem（目录 {key_dir}，编号 {keys.signing_key_id}）与已存的检查点不符"
                f"（第 {cp.seq} 条检查点由 {cp.key_id} 签名）。请放回本实例的签名密钥。{_NOTHING_WRITTEN}")
    if check_kek:
        newest = db.session.execute(select(TaskKey.kek_id).order_by(TaskKey.created_at.desc()).limit(1)).first()
        if newest is not None and keys.kek_by_id(newest.kek_id) is None:
            return (f"密钥加密密钥 kek.key（目录 {key_dir}）打不开本数据库中的任务数据密钥（需要 {newest.kek_id}）。"
                    f"请放回本实例的 kek.key。{_NOTHING_WRITTEN}")
    return None


def refuse_foreign_keys(keys: KeyRing, key_dir: str, *, check_kek: bool = True) -> Optional[str]:
    """Raise ForeignKeys if the keys do not fit; return the database's instance id (None if it has none yet)."""
    try:
        problem = key_fit_problem(keys, key_dir, check_kek=check_kek)
        identity = stored_identity() if problem is None else None
    finally:
        db.session.remove()
    if problem is not None:
        raise ForeignKeys(problem)
    return identity[0] if identity else None


def adopt_identity(keys_dir, keys: KeyRing) -> tuple[str, bool]:
    """Used by `flask init`: give the database the key directory's instance id; return (id, written).

    A key directory from before instance ids gets one first. Called only
    after refuse_foreign_keys passed, so the keys are known to fit.
    """
    instance_id, suite = read_instance_file(keys_dir)
    if instance_id is None:
        instance_id = write_instance_file(keys_dir, suite)
    row = db.session.get(InstanceIdentity, 1)
    if row is not None:
        return row.instance_id, False
    db.session.add(InstanceIdentity(id=1, instance_id=instance_id, crypto_suite=suite))
    db.session.flush()
    return instance_id, True
