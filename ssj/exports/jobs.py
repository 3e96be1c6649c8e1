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

import io
import json
import logging
import os
import secrets
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Optional

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app, g, render_template
from sqlalchemy import func, select, update

from .. import clock
from .. import audit
from .. import background
from ..background import Workers
from ..extensions import db
from ..models import Conflict, ExportJob, Inspector, Matter, Target, Task, User
from ..models.jobs import EXPORT_RUNNING_STATES
from . import filecrypt, xlsxstream

log = logging.getLogger(__name__)

KEEP = timedelta(hours=24)  # a finished file waits this long for its download, then is purged
STALE_AFTER = background.STALE_AFTER  # no heartbeat for this long: cut off (server restart, kill)
PROGRESS_EVERY = 2000  # rows between progress updates

CSV_MIME = "text/csv"
ZIP_MIME = "application/zip"
DIRECTORY_PREFIX = "directory:"

FAILED_MESSAGE = ("生成导出文件时系统出错，已删除未完成的文件，没有留下任何内容。"
                  "请回到原页面重新导出；如反复出现，请联系系统管理员。")
STALE_MESSAGE = "这个导出已中断（可能是服务器重启），没有生成文件。请回到原页面重新导出。"

# Called as hook(job_id, rows_done, rows_total) after each progress update;
# tests use it to look at the progress page while a job is half done.
progress_hooks: list[Callable[[int, int, int], None]] = []


class ExportRefused(Exception):
    """The file cannot be handed out; the message says why and what to do."""


# --- what each kind of export is called ------------------------------------------------


def kind_title(kind: str) -> str:
    if kind.startswith(DIRECTORY_PREFIX):
        from ..imports.kinds import KINDS

        directory = KINDS.get(kind[len(DIRECTORY_PREFIX):])
        return f"{directory.title}导出" if directory else kind
    return {
        "results_xlsx": "抽查结果 .xlsx（报送省级平台）",
        "results_csv": "抽查结果 CSV",
        "archive": "归档包 .zip",
    }.get(kind, kind)


def directory_kind(kind: str) -> Optional[str]:
    return kind[len(DIRECTORY_PREFIX):] if kind.startswith(DIRECTORY_PREFIX) else None


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
    from ..sealing import envelope

    kek = _keys().kek
    job.wrapped_key = envelope.seal_raw(kek, key, _wrap_aad(job))
    job.kek_id = envelope.kek_id(kek)


_LEGACY_WRAPPED = 12 + 32 + 16


def _unwrap(job: ExportJob) -> bytes:
    kek = _keys().kek_by_id(job.kek_id or "")
    if kek is None or not job.wrapped_key:
        raise ExportRefused("这个文件的密钥已不可用（可能密钥已轮换）。请重新导出。")
    from ..sealing import envelope

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
    from flask import request

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
                built = BUILDERS[_builder_name(job.kind)](job, user, writer, Progress(job, in_request), save)
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


def _builder_name(kind: str) -> str:
    return "directory" if kind.startswith(DIRECTORY_PREFIX) else kind


def _local_now() -> datetime:
    return clock.local_now()


# --- the builders ----------------------------------------------------------------------------


def _directory_count(name: str, directory) -> int:
    scope = directory.scope
    if name == "targets":
        stmt = select(func.count()).select_from(Target).where(Target.department_id == scope.department_id)
    elif name == "inspectors":
        stmt = select(func.count()).select_from(Inspector).where(Inspector.department_id == scope.department_id)
    elif name == "matters":
        stmt = select(func.count()).select_from(Matter)
        if not scope.all_matters:
            stmt = stmt.where(Matter.section_id == scope.section_id)
    else:
        stmt = (
            select(func.count()).select_from(Conflict).join(Inspector, Inspector.id == Conflict.inspector_id)
            .where(Inspector.department_id == scope.department_id)
        )
    return db.session.scalar(stmt) or 0


# --- the target list's filters (the export of "what I am looking at") -------------------------

def target_filters(args):
    """The target list page's filters from a query string, a form or a job's params."""
    from ..directories.queries import TargetFilters

    return TargetFilters.from_args(args)


def filter_args(filters) -> dict[str, str]:
    """The active filters as the list page's query arguments (empty ones left out)."""
    values = {
        "q": filters.q, "township": str(filters.township_id or ""), "industry": filters.industry,
        "size": filters.size, "status": filters.status, "special": filters.special,
    }
    return {k: v for k, v in values.items() if v}


def describe_filters(filters) -> list[str]:
    """The filters in words, for the export page and the job page."""
    from ..directories.queries import TARGET_STATUSES
    from ..models import Township

    words = []
    if filters.q:
        words.append(f"名称或信用代码“{filters.q}”")
    if filters.township_id:
        town = db.session.get(Township, filters.township_id)
        words.append(f"乡镇（街道）：{town.name if town else filters.township_id}")
    if filters.industry:
        words.append(f"行业：{filters.industry}")
    if filters.size:
        words.append("小微企业" if filters.size == "small" else "非小微企业")
    if filters.status:
        words.append(f"经营状态：{TARGET_STATUSES.get(filters.status, filters.status)}")
    if filters.special:
        words.append("特殊监管对象" if filters.special == "yes" else "非特殊监管对象")
    return words


def job_filters(job: ExportJob):
    """The filters a target export was asked with, or None for the whole directory."""
    if job.kind != f"{DIRECTORY_PREFIX}targets":
        return None
    stored = json.loads(job.params or "{}").get("filters") or {}
    filters = target_filters(stored)
    return filters if filters.active else None


def _build_directory(job: ExportJob, user: User, out: BinaryIO, progress: Progress, save) -> Built:
    from ..directories import queries
    from ..imports.kinds import KINDS, Scope
    from ..imports.xlsx import export_filename

    name = directory_kind(job.kind)
    directory = KINDS[name](Scope.of(user))
    filters = job_filters(job)
    if filters is None:
        progress.start(_directory_count(name, directory))
        source = directory.export_rows()
    else:
        query = queries.targets(directory.scope.department_id, filters)
        progress.start(db.session.scalar(query.count) or 0)
        source = directory.export_rows(only=query.ids.order_by(None))
    widths = [max(c.width, len(c.header) * 2 + 2) for c in directory.columns]
    text_columns = [i for i, c in enumerate(directory.columns) if c.text_format]
    rows = xlsxstream.write_sheet(
        out, directory.title, directory.headers(), source,
        widths=widths, text_columns=text_columns, on_row=progress.step,
    )
    what = "导出" if filters is None else "筛选导出"
    entry = {"kind": name, "rows": rows}
    if filters is not None:
        # Which filters, not their values: a typed search term stays out of the log (audit.hooks).
        entry["filters"] = sorted(filter_args(filters))
    return Built(export_filename(KINDS[name], what, _local_now()), xlsxstream.XLSX_MIME, rows, entry)


def _published(job: ExportJob):
    from ..publication import service

    notice = service.published(job.task_id)
    if notice is None:
        raise RuntimeError("task is not published")
    return notice, service.matters_of(notice)


def _build_results_xlsx(job: ExportJob, user: User, out: BinaryIO, progress: Progress, save) -> Built:
    from ..publication import exports

    notice, matters = _published(job)
    rows = exports.rows(notice, matters)
    progress.start(len(rows))
    exports.results_xlsx(out, rows, on_row=progress.step)
    return Built(f"ssj-task-{job.task_id}-results.xlsx", xlsxstream.XLSX_MIME, len(rows),
                 {"task": job.task_id, "format": "xlsx", "rows": len(rows)})


def _build_results_csv(job: ExportJob, user: User, out: BinaryIO, progress: Progress, save) -> Built:
    from ..publication import exports

    notice, matters = _published(job)
    rows = exports.rows(notice, matters)
    progress.start(len(rows))
    exports.results_csv(out, rows, on_row=progress.step)
    return Built(f"ssj-task-{job.task_id}-results.csv", CSV_MIME, len(rows),
                 {"task": job.task_id, "format": "csv", "rows": len(rows)})


ARCHIVE_STEPS = 4


def _build_archive(job: ExportJob, user: User, out: BinaryIO, progress: Progress, save) -> Built:
    from ..ceremony import routes as ceremony_routes  # its public context processor (the record's helpers)
    from ..ceremony import service as ceremony
    from ..publication import archive, exports, service

    task = db.session.get(Task, job.task_id)
    notice, matters = _published(job)
    rows = exports.rows(notice, matters)
    now = clock.now()
    progress.start(ARCHIVE_STEPS)
    xlsx_body, csv_body = io.BytesIO(), io.BytesIO()
    exports.results_xlsx(xlsx_body, rows)
    exports.results_csv(csv_body, rows)
    files = {
        "notice.html": render_template("publication/archive_notice.html", notice=notice, matters=matters).encode(),
        "results.csv": csv_body.getvalue(),
        "results.xlsx": xlsx_body.getvalue(),
        "draw_record.html": render_template(
            "ceremony/record.html",
            task=task,
            attempts=ceremony.attempts_view(task),
            printed_by=user,
            printed_at=now,
            **ceremony_routes.ceremony_helpers(),
        ).encode(),
    }
    bundle = service.bundle_text(notice)
    if bundle is not None:
        # Left out while the release rule (SPEC §3) withholds it: the archive is
        # made by the task's own staff, who must not see another task's list.
        files["bundle.json"] = bundle.encode("utf-8")
    progress._write(1)
    # Records, reports and evidence are decrypted here; each read is logged
    # as the inspection area logs it, and committed before anything else
    # happens, so the discipline office sees them even if the job fails later.
    files.update(service.inspection_files(task, notice))
    save()
    progress._write(2)
    about = {
        "task": task.id,
        "name": notice.name,
        "published_at": notice.published_at.isoformat(),
        "bundle_sha256": notice.bundle_sha256,
        "generated_at": now.isoformat(),
        "generated_by": user.username,
    }
    package = archive.build(files, about)
    progress._write(3)
    out.write(package)
    # Evidence keeps its original file name inside the package, but the log
    # (kept for ever, and read by people with no need to see it) and the job
    # row only count those files: a name may name a person or the enterprise.
    logged = sorted(name for name in files if "/evidence/" not in name)
    return Built(f"ssj-task-{task.id}-archive.zip", ZIP_MIME, ARCHIVE_STEPS,
                 {"task": task.id, "files": logged, "evidence_files": len(files) - len(logged)})


BUILDERS: dict[str, Callable[..., Built]] = {
    "directory": _build_directory,
    "results_xlsx": _build_results_xlsx,
    "results_csv": _build_results_csv,
    "archive": _build_archive,
}


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
    base = {**params.get("log", {}), "job": job.id, "sha256": job.file_sha256}
    if job.kind.startswith(DIRECTORY_PREFIX):
        return "export", base
    if job.kind == "archive":
        return "archive_downloaded", base
    return "results_exported", base
