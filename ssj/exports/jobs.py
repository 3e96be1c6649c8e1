"""Export and archive jobs: built in the background, kept encrypted, handed only to whoever asked (SPEC §4, §9; Art 9, 12, 16).

A directory export of the whole county (100,000 rows) took over half a
minute inside the request; the archive package of a task decrypts every
record and evidence file. A job:

1. is created by the request that passed the route's access rules, which
   logs `job_export_requested`, and purges the files of jobs older than KEEP;
2. runs in a background thread of the web process (or inside the request
   when EXPORT_RUN_INLINE is set, for tests) as the person who asked, so
   sealed reads it makes are logged under their name as they happen;
3. writes the file through filecrypt.EncryptingWriter into instance/exports/
   under a random name, AES-256-GCM under a per-job data key that is kept
   only wrapped by the KEK: the plaintext never touches the disk;
4. records progress on the job row, which the progress page polls;
5. on any error removes whatever it had written and says so in Chinese.

The download (routes.download) re-checks the same access rules, decrypts
the whole file once to check its SHA-256, logs the download with that hash,
and only then streams it.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator, Optional

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app, g, request
from sqlalchemy import select, update

from .. import clock
from .. import audit
from .. import background
from ..background import Workers
from ..extensions import db
from ..models import ExportJob, Task, User
from ..models.jobs import EXPORT_RUNNING_STATES
from ..sealing import envelope
from . import filecrypt

log = logging.getLogger(__name__)

KEEP = timedelta(hours=24)  # a finished file waits this long for its download, then is purged
STALE_AFTER = background.STALE_AFTER  # no heartbeat for this long: cut off (server restart, kill)
PROGRESS_EVERY = 2000  # rows between progress updates

FAILED_MESSAGE = ("生成导出文件时系统出错，已删除未完成的文件，没有留下任何内容。"
                  "请回到原页面重新导出；如反复出现，请联系系统管理员。")
STALE_MESSAGE = "这个导出已中断（可能是服务器重启），没有生成文件。请回到原页面重新导出。"

# Called as hook(job_id, rows_done, rows_total) after each progress update;
# tests use it to look at the progress page while a job is half done.
progress_hooks: list[Callable[[int, int, int], None]] = []


class ExportRefused(Exception):
    """The file cannot be handed out; the message says why and what to do."""


# --- what each kind of export is: registered by the area whose data it holds ---------------
# The job machinery imports no area (issue #15): directories (imports.export_kinds)
# and publication (publication.export_kinds) register their kinds here when
# their package is imported, and a job is run, titled, re-checked and logged by
# looking its kind up.


def _no_words(job: ExportJob) -> list[str]:
    return []


@dataclass(frozen=True)
class ExportKind:
    title: str  # the job page's and "我的导出"'s name for it
    build: Callable[..., "Built"]  # build(job, user, out, progress, save): writes the file, says what it wrote
    recheck: Callable[[ExportJob], None]  # the rules it was started under, again at download; refuses (aborts)
    origin: Callable[[ExportJob], tuple[str, str]]  # (url, label): back to where another can be started
    download_action: str  # the download's log action, as the discipline office's flags count it
    describe: Callable[[ExportJob], list[str]] = _no_words  # what was asked for, in words (filters)


KINDS: dict[str, ExportKind] = {}


def register(kind: str, spec: ExportKind) -> None:
    """Make `kind` an export the job machinery can run (called once per kind, at import)."""
    if KINDS.get(kind, spec) is not spec:
        raise ValueError(f"export kind {kind!r} registered twice")
    KINDS[kind] = spec


def kind_title(kind: str) -> str:
    spec = KINDS.get(kind)
    return spec.title if spec else kind


# --- files ----------------------------------------------------------------------------------


def export_dir() -> Path:
    path = Path(current_app.instance_path) / "exports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def file_path(job: ExportJob) -> Optional[Path]:
    return export_dir() / f"{job.file_token}.enc" if job.file_token else None


def _file_aad(job: ExportJob) -> bytes:
    # Binds the ciphertext to its job: a file renamed onto another job does not decrypt.
    return f"ssj/export-file/v1|job:{job.token}".encode("utf-8")


def _wrap_aad(job: ExportJob) -> bytes:
    return f"ssj/export-key/v1|job:{job.token}".encode("utf-8")


def _keys():
    return current_app.extensions["ssj.keys"]()


def _wrap(job: ExportJob, key: bytes) -> None:
    kek = _keys().kek
    job.wrapped_key = envelope.seal_raw(kek, key, _wrap_aad(job))
    job.kek_id = envelope.kek_id(kek)


_LEGACY_WRAPPED = 12 + 32 + 16


def _unwrap(job: ExportJob) -> bytes:
    kek = _keys().kek_by_id(job.kek_id or "")
    if kek is None or not job.wrapped_key:
        raise ExportRefused("这个文件的密钥已不可用（可能密钥已轮换）。请重新导出。")
    try:
        if len(job.wrapped_key) == _LEGACY_WRAPPED:  # nonce + AES-GCM, written before the SM suite
            return AESGCM(kek).decrypt(job.wrapped_key[:12], job.wrapped_key[12:], _wrap_aad(job))
        return envelope.open_raw(kek, job.wrapped_key, _wrap_aad(job))
    except (InvalidTag, envelope.SealError) as exc:
        raise filecrypt.FileCryptError("wrapped key did not authenticate") from exc


def _remove_file(job: ExportJob) -> None:
    path = file_path(job)
    if path is not None:
        path.unlink(missing_ok=True)


def purge(now: Optional[datetime] = None) -> int:
    """Delete files of jobs older than KEEP and of jobs cut off mid-way; return how many jobs were cleared."""
    now = now or clock.now()
    cleared = 0
    old = db.session.execute(
        select(ExportJob).where(
            ExportJob.created_at < now - KEEP, ExportJob.state.in_(("queued", "running", "done"))
        )
    ).scalars()
    for job in old:
        _remove_file(job)
        job.state = "expired" if job.state == "done" else "failed"
        if job.state == "failed":
            job.message = STALE_MESSAGE
        job.wrapped_key = None
        job.file_token = None
        cleared += 1
    for job in db.session.execute(
        select(ExportJob).where(ExportJob.state.in_(("queued", "running")), ExportJob.updated_at < now - STALE_AFTER)
    ).scalars():
        _remove_file(job)
        job.state, job.message, job.finished_at = "failed", STALE_MESSAGE, now
        job.wrapped_key, job.file_token = None, None
        cleared += 1
    # A file no job row knows about (a crash between writing and committing).
    known = set(db.session.execute(select(ExportJob.file_token).where(ExportJob.file_token.is_not(None))).scalars())
    cutoff = (now - KEEP).timestamp()
    for path in export_dir().glob("*.enc"):
        try:
            if path.stem not in known and path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass  # another worker removed it first
    return cleared


# --- starting a job ----------------------------------------------------------------------
# The job's own log entries are named job_export_*: only the download is an
# "export" in the discipline office's sense (the moment data leaves), so a
# request, its build and its download count once, not three times.


def create(kind: str, user: User, *, task: Optional[Task] = None, params: Optional[dict] = None) -> ExportJob:
    """A queued job for `user`, who has already passed the route's access rules."""
    purge()
    job = ExportJob(
        token=secrets.token_urlsafe(24), kind=kind, user_id=user.id, department_id=user.department_id,
        section_id=user.section_id, task_id=task.id if task is not None else None,
        params=json.dumps(params or {}, ensure_ascii=False, sort_keys=True),
    )
    db.session.add(job)
    db.session.flush()
    audit.record("job_export_requested", task_id=job.task_id, objects={"kind": kind, "job": job.id})
    return job


def launch(job: ExportJob, response):
    """Run the job now (tests) or in a background thread once this request has committed."""
    if current_app.config.get("EXPORT_RUN_INLINE"):
        run(job.id, in_request=True)
        return response
    app, job_id = current_app._get_current_object(), job.id
    base_url, client = request.host_url, request.remote_addr
    # The job row commits with the request's log entry in the after_request
    # hook; the thread starts only when the response is closed, after that.
    response.call_on_close(lambda: start_thread(app, job_id, base_url, client))
    return response


_workers = Workers("export", lambda app, ids: background.stamp(app, ExportJob, EXPORT_RUNNING_STATES, ids))


def start_thread(app: Flask, job_id: int, base_url: str = "http://localhost/", client: Optional[str] = None):
    return _workers.start(job_id, _thread_main, app, job_id, base_url, client)


def wait_for_jobs(timeout: float = 600) -> None:
    """Block until the background exports of this process are done (benchmarks, tests)."""
    _workers.wait(timeout)


def _thread_main(app: Flask, job_id: int, base_url: str, client: Optional[str]) -> None:
    # A request context of its own, as the person who asked: templates
    # (the draw record) build links, and every sealed read the archive
    # makes is logged under that person's name and address.
    environ = {"REMOTE_ADDR": client} if client else {}
    with app.test_request_context("/", base_url=base_url, environ_base=environ):
        try:
            run(job_id, in_request=False)
        finally:
            db.session.remove()


# --- running a job -------------------------------------------------------------------------


@dataclass
class Built:
    download_name: str
    mimetype: str
    rows: int
    log: dict  # what the download entry should say besides job and sha256


class Progress:
    """Rows done so far, written where the progress page can read it.

    In a thread the job's own session may be reading a 100,000-row result
    set, so progress goes through a connection of its own; in a request
    (tests) the job row is not committed yet and progress is flushed with it.
    """

    def __init__(self, job: ExportJob, in_request: bool):
        self.job, self.in_request = job, in_request
        self.total = 0
        self.last = 0

    def start(self, total: int) -> None:
        self.total = total
        self._write(0)

    def step(self, done: int) -> None:
        if done - self.last >= PROGRESS_EVERY:
            self._write(done)

    def at(self, done: int) -> None:
        """Write progress now (builders with a few long steps rather than many rows)."""
        self._write(done)

    def _write(self, done: int) -> None:
        self.last = done
        now = clock.now()
        total = max(self.total, done)
        if self.in_request:
            self.job.rows_done, self.job.rows_total, self.job.updated_at = done, total, now
            db.session.flush()
        else:
            with db.engine.begin() as conn:
                conn.execute(
                    update(ExportJob.__table__).where(ExportJob.__table__.c.id == self.job.id)
                    .values(rows_done=done, rows_total=total, updated_at=now)
                )
        for hook in list(progress_hooks):
            hook(self.job.id, done, total)


def run(job_id: int, *, in_request: bool) -> None:
    """Build one job's file. Commits itself unless in a request."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.state != "queued":
        return
    user = db.session.get(User, job.user_id)
    if not in_request:
        g._login_user = user  # flask_login's current_user for policy checks and log entries
    save: Callable[[], None] = db.session.flush if in_request else db.session.commit
    job.state = "running"
    job.updated_at = clock.now()
    # Named and committed before anything is written, so a purge after a
    # crash finds the partial file; and so the job's session holds no write
    # while progress goes through a connection of its own.
    job.file_token = secrets.token_urlsafe(24)
    save()
    path = file_path(job)
    key = filecrypt.new_key(_keys().crypto_suite)
    try:
        with db.session.begin_nested() if in_request else nullcontext():
            with path.open("xb") as sink:
                writer = filecrypt.EncryptingWriter(sink, key, _file_aad(job))
                built = KINDS[job.kind].build(job, user, writer, Progress(job, in_request), save)
                writer.close()
                os.fsync(sink.fileno())
    except Exception:
        log.exception("export job %s failed", job_id)
        path.unlink(missing_ok=True)
        if not in_request:
            db.session.rollback()
            job = db.session.get(ExportJob, job_id)
        job.state, job.message = "failed", FAILED_MESSAGE
        job.file_token, job.wrapped_key = None, None
        job.finished_at = job.updated_at = clock.now()
        audit.record("job_export_failed", outcome="error", task_id=job.task_id,
                     objects={"kind": job.kind, "job": job.id}, user=user)
        save()
        return
    _wrap(job, key)
    job.download_name, job.mimetype = built.download_name, built.mimetype
    job.file_size, job.file_sha256 = writer.size, writer.sha256
    job.rows_done = job.rows_total = built.rows
    job.params = json.dumps({**json.loads(job.params or "{}"), "log": built.log}, ensure_ascii=False, sort_keys=True)
    job.state = "done"
    job.finished_at = job.updated_at = clock.now()
    audit.record("job_export_built", task_id=job.task_id, user=user,
                 objects={"kind": job.kind, "job": job.id, "rows": built.rows, "sha256": job.file_sha256})
    save()


# --- reading jobs back -----------------------------------------------------------------------


def find(token: str) -> Optional[ExportJob]:
    return db.session.execute(select(ExportJob).where(ExportJob.token == token)).scalar_one_or_none()


def recent_jobs(user: User, limit: int = 20) -> list[ExportJob]:
    return list(
        db.session.execute(
            select(ExportJob).where(ExportJob.user_id == user.id)
            .order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).limit(limit)
        ).scalars()
    )


def is_stale(job: ExportJob) -> bool:
    return job.running and clock.now() - job.updated_at > STALE_AFTER


def expires_at(job: ExportJob) -> datetime:
    return job.created_at + KEEP


def plaintext(job: ExportJob) -> Iterator[bytes]:
    """The decrypted file, after checking all of it against the SHA-256 recorded when it was built.

    Read twice, in constant memory: a file that fails half-way must fail
    before the first byte is sent, not leave the person a truncated copy.
    """
    if job.state != "done" or not job.file_token:
        raise ExportRefused("这个导出还没有生成好，或已过期被清理。")
    if clock.now() > expires_at(job):
        # Expired even if no later export has purged it yet.
        raise ExportRefused("文件已过期（导出的文件只保留 24 小时）。请回到原页面重新导出。")
    path = file_path(job)
    if not path.exists():
        raise ExportRefused("文件已过期被清理（导出的文件只保留 24 小时）。请回到原页面重新导出。")
    key, aad = _unwrap(job), _file_aad(job)
    with path.open("rb") as f:
        if filecrypt.plaintext_sha256(f, key, aad) != job.file_sha256:
            raise filecrypt.FileCryptError("plaintext hash differs from the recorded one")

    # Sent after the request's session has committed and closed: no ORM object in here.
    def chunks() -> Iterator[bytes]:
        with path.open("rb") as f:
            yield from filecrypt.decrypt_chunks(f, key, aad)

    return chunks()


def download_entry(job: ExportJob) -> tuple[str, dict]:
    """The action and objects of a download's log entry; named so the discipline office's flags count it."""
    params = json.loads(job.params or "{}")
    return KINDS[job.kind].download_action, {**params.get("log", {}), "job": job.id, "sha256": job.file_sha256}
