"""Task data keys and sealed reads (SPEC §4).

`seal_json` / `open_json` are the only way sealed records are written and
read. `read_sealed` is the only way a person gets to see one: it decrypts
in memory and logs the read — the access-log entry naming the task, the
position and the HMAC of each credit code — before the plaintext can leave
the server. The entry commits with the request (audit.hooks): in a change
it is appended before the plaintext is returned; in a page read (GET) it
is fixed at once and appended when the request commits, so the chain head
is not held while the page is built (`audit.record_read`). Either way, if
it cannot be written the response is replaced by an error page, so nothing
sealed is ever served unlogged.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Optional

from flask import current_app, g

from .. import audit
from ..extensions import db
from ..models import TaskKey
from . import envelope


class MissingKEK(RuntimeError):
    pass


def _keys():
    return current_app.extensions["ssj.keys"]()


def _hold(row: TaskKey) -> TaskKey:
    # The session's identity map holds rows weakly: without a reference for
    # the rest of the request, every sealed read of a page SELECTed the same
    # task_key row again (one query per follow-up, per evidence file…). A
    # rollback still expires or drops the held row as usual.
    g.setdefault("_ssj_task_keys", {})[row.task_id] = row
    return row


def data_key(task_id: int, create: bool = False) -> bytes:
    """The task's data key, unwrapped; created (and wrapped) on first use when `create`."""
    keys = _keys()
    row = db.session.get(TaskKey, task_id)
    if row is None:
        if not create:
            raise MissingKEK(f"task {task_id} has no data key")
        dk = envelope.new_data_key(envelope.suite_of(keys.kek))
        row = TaskKey(
            task_id=task_id,
            wrapped_key=envelope.wrap_data_key(keys.kek, task_id, dk),
            kek_id=envelope.kek_id(keys.kek),
        )
        db.session.add(row)
        db.session.flush()
        _hold(row)
        return dk
    _hold(row)
    kek = keys.kek_by_id(row.kek_id)
    if kek is None:
        raise MissingKEK(
            f"任务 {task_id} 的数据密钥由另一把密钥加密（{row.kek_id}），当前密钥目录中没有它。请从备份恢复对应的 kek 文件。"
        )
    return envelope.unwrap_data_key(kek, task_id, row.wrapped_key)


def seal_json(task_id: int, kind: str, record_id: str | int, value: Any) -> bytes:
    plaintext = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return envelope.seal(data_key(task_id, create=True), task_id, kind, record_id, plaintext)


def open_json(task_id: int, kind: str, record_id: str | int, blob: bytes) -> Any:
    """The plain decrypt, for the server's own work only (drawing, exports, archive jobs).

    Nothing it returns may reach a person unlogged: a view never calls it
    (tests/sealing/test_one_sealed_read.py); pages read through `read_sealed`.
    """
    return json.loads(envelope.open_sealed(data_key(task_id), task_id, kind, record_id, blob))


def read_sealed(
    task_id: int,
    kind: str,
    record_id: str | int,
    blob: bytes,
    *,
    purpose: str,
    credit_codes: Iterable[str] | Callable[[Any], Iterable[str]] = (),
    positions: Optional[list[int]] | Callable[[Any], list[int]] = None,
) -> Any:
    """Decrypt once for a person to see and log the read (fail closed; see the module's docstring).

    The credit codes (logged as HMACs) and positions may be given as
    functions of the decrypted value when they are inside the blob: it is
    opened once, and nothing is returned before the entry is written.
    """
    value = open_json(task_id, kind, record_id, blob)
    if callable(credit_codes):
        credit_codes = credit_codes(value)
    if callable(positions):
        positions = positions(value)
    audit.record_read(
        f"sealed_read:{purpose}",
        task_id=task_id,
        objects={
            "kind": kind,
            "record": record_id,
            "positions": positions or [],
            "target_refs": sorted(audit.sealed_ref(code, task_id=task_id) for code in credit_codes),
        },
    )
    return value
