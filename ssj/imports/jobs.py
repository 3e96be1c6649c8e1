"""Import jobs: receive an upload, check every row, then write everything at once (SPEC §2, §9).

The directories of Art 4, 5 and 6 must be "及时更新完善"; in practice that is
a spreadsheet from another system, often of the whole county. A job:

1. stores the upload under instance/imports/ and logs its start;
2. streams the data sheet row by row, writing valid rows as JSON lines to a
   temporary file and bad rows (row number + reason) to ImportRowError, and
   commits progress every few thousand rows so the progress page moves;
3. if any row is bad, stops there — nothing is written — unless the person
   explicitly chose to import the valid subset;
4. otherwise writes the rows. The directory, the job's final counts and its
   closing log entry change together or not at all, in the job's last
   transaction. For the target directory (100,000 rows) that transaction is
   short (issue #13): the new rows were already inserted batch by batch, each
   batch its own transaction of some tens of milliseconds with a pause after
   it, so every other request's log entry gets SQLite's write lock in
   between. Those rows carry the job's id (target.import_job_id) and no
   reader sees them until the last transaction marks the job done
   (models.directories.target_visible); changes to existing rows wait in a
   temporary file and are applied in that last transaction. If the job
   fails, or its process is killed and it is settled as 已中断, its rows are
   deleted in batches afterwards (`discard_leftovers`) and never were visible.

It runs in a background thread of the web process with its own app context
and session, or inside the request when IMPORT_RUN_INLINE is set (tests).
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import tempfile
import threading
import time
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path
from typing import IO, Callable, Iterator, Optional

from flask import Flask, current_app
from sqlalchemy import delete, func, insert, select, update
from werkzeug.datastructures import FileStorage

from .. import clock
from .. import audit
from .. import background
from ..background import Workers
from ..extensions import db
from ..filenames import clean_name
from ..models import ImportJob, ImportRowError, Target, User
from . import bounded
from .kinds import KINDS, Counts, Directory, Scope
from .xlsx import FileProblem, SheetReader, format_problem, workbook_problem

log = logging.getLogger(__name__)

BATCH = 1000  # rows per executemany when writing
# Rows per staged batch, each its own transaction: on SQLite a request waits for at most one
# (2026-12-03, load 17-20: 1,000 rows made a probe wait up to 0.97 s, see bench/import_blocking.py).
STAGE_BATCH = 500
PAUSE_MIN = 0.02  # seconds, at least, between two staged batches (see _pause)
DISCARD_BATCH = 2000  # leftover rows of a failed import deleted per transaction
PROGRESS_EVERY = 2000  # rows between progress commits while checking
KEEP_UPLOADS = timedelta(days=2)  # a rejected file stays this long for "仅导入有效的行"
STALE_AFTER = background.STALE_AFTER  # no heartbeat for this long: the job's process is gone
ROW_MESSAGE_CHARS = 600  # one row's error text: a dozen short reasons fit  # a running job untouched this long was cut off

FAILED_MESSAGE = ("导入过程中系统出错，已全部撤销，没有写入任何数据。请稍后重新上传；"
                  "如反复出现，请联系系统管理员。")


class UploadRefused(Exception):
    """The upload cannot become a job; the message says what to do instead."""


def limits() -> bounded.Limits:
    """The reading limits, with any set in config IMPORT_LIMITS (a dict of bounded.Limits fields)."""
    return bounded.Limits(**current_app.config.get("IMPORT_LIMITS", {}))


# --- files --------------------------------------------------------------------


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def upload_path(token: str) -> Path:
    return upload_dir() / f"{token}.xlsx"


def _purge_old_uploads() -> None:
    cutoff = time.time() - KEEP_UPLOADS.total_seconds()
    for path in upload_dir().glob("*.xlsx"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass  # another worker removed it first


def purge_old_jobs() -> int:
    """Delete finished jobs older than IMPORT_KEEP_JOBS together with their error rows.

    A job's row errors are only there to be fixed: a month on, the file has
    long been corrected or given up. The log entries of the import stay.
    """
    cutoff = clock.now() - current_app.config["IMPORT_KEEP_JOBS"]
    stamped = Target.__table__.c.import_job_id
    old = select(ImportJob.id).where(ImportJob.state.in_(("done", "rejected", "failed")),
                                     ImportJob.started_at < cutoff,
                                     # a job whose id rows still carry keeps it: no id is reused for them
                                     ~select(stamped).where(stamped == ImportJob.id).exists())
    ids = db.session.execute(old).scalars().all()
    if not ids:
        return 0
    db.session.execute(update(ImportJob).where(ImportJob.source_job_id.in_(ids)).values(source_job_id=None))
    db.session.execute(delete(ImportRowError).where(ImportRowError.job_id.in_(ids)))
    db.session.execute(delete(ImportJob).where(ImportJob.id.in_(ids)))
    return len(ids)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- starting a job -------------------------------------------------------------


def receive(kind: str, storage: Optional[FileStorage], user: User) -> ImportJob:
    """Store an uploaded file and create its job, or raise UploadRefused."""
    directory = KINDS[kind](Scope.of(user))
    refusal = directory.refusal()
    if refusal:
        raise UploadRefused(refusal)
    if storage is None or not storage.filename:
        raise UploadRefused("请先选择要上传的 .xlsx 文件。")
    # Shown on the job page and in messages: cleaned of quotes, separators and control codes.
    filename = clean_name(Path(storage.filename.replace("\\", "/")).name)
    head = storage.stream.read(8)
    storage.stream.seek(0)
    if not head:
        raise UploadRefused(f"文件“{filename}”是空的，请检查后重新上传。")
    problem = format_problem(filename, head)
    if problem:
        raise UploadRefused(problem)
    _purge_old_uploads()
    settle_interrupted()
    purge_old_jobs()
    token = secrets.token_urlsafe(24)
    path = upload_path(token)
    storage.save(path)
    problem = workbook_problem(path, filename, limits())
    if problem:
        path.unlink(missing_ok=True)
        raise UploadRefused(problem)
    job = ImportJob(
        token=token, kind=kind, user_id=user.id, department_id=user.department_id,
        section_id=user.section_id, filename=filename, file_sha256=_sha256_of(path),
    )
    db.session.add(job)
    db.session.flush()
    _record(job, user, "start")
    return job


def accept_valid_subset(job: ImportJob, user: User) -> ImportJob:
    """A new job over the same file that imports the valid rows and skips the bad ones."""
    if not may_accept_valid_subset(job):
        raise UploadRefused("这个导入不能只导入有效的行（可能已经导入过，或文件中没有有效的行）。")
    source = upload_path(job.token)
    if not source.exists():
        raise UploadRefused("上传的文件已过期被清理，请重新上传。")
    child = ImportJob(
        token=secrets.token_urlsafe(24), kind=job.kind, user_id=user.id, department_id=job.department_id,
        section_id=job.section_id, filename=job.filename, file_sha256=job.file_sha256,
        accept_valid_subset=True, source_job_id=job.id,
    )
    source.rename(upload_path(child.token))
    db.session.add(child)
    db.session.flush()
    _record(child, user, "start")
    return child


def may_accept_valid_subset(job: ImportJob) -> bool:
    return (
        job.state == "rejected" and not job.accept_valid_subset and job.error_count > 0
        and job.valid_rows > 0 and follow_up(job) is None
    )


def follow_up(job: ImportJob) -> Optional[ImportJob]:
    return db.session.execute(
        select(ImportJob).where(ImportJob.source_job_id == job.id)
    ).scalars().first()


def launch(job: ImportJob, response):
    """Run the job now (tests) or in a background thread once this request has committed."""
    if current_app.config.get("IMPORT_RUN_INLINE"):
        run(job.id, in_request=True)
        return response
    app, job_id = current_app._get_current_object(), job.id
    # The job row commits with the request's log entry in the after_request
    # hook; the thread starts only when the response is closed, after that.
    response.call_on_close(lambda: start_thread(app, job_id))
    return response


_workers = Workers("import", lambda app, ids: background.stamp(app, ImportJob, ("validating", "writing"), ids))


def start_thread(app: Flask, job_id: int) -> threading.Thread:
    return _workers.start(job_id, _thread_main, app, job_id)


def wait_for_jobs(timeout: float = 600) -> None:
    """Block until the background imports of this process are done (benchmarks, tests)."""
    _workers.wait(timeout)


def _thread_main(app: Flask, job_id: int) -> None:
    """Clean up after failed imports, run the job if it may start now (0: none), then whichever
    queued jobs may start after it."""
    with app.app_context():
        try:
            try:
                discard_leftovers(db.session.commit, pause=True)
            except Exception:  # they stay invisible; the next thread tries again
                log.exception("the rows of failed imports could not be deleted")
                db.session.rollback()
            next_id: Optional[int] = job_id or _next_startable()
            while next_id is not None:
                _workers.now_running(next_id)
                run(next_id, in_request=False)
                db.session.remove()
                next_id = _next_startable()
        finally:
            db.session.remove()


def clean_up_after(response) -> None:
    """Once this request has committed, delete what failed imports left (see `discard_leftovers`)."""
    if current_app.config.get("IMPORT_RUN_INLINE") or _workers.busy():
        return
    app = current_app._get_current_object()
    response.call_on_close(lambda: start_thread(app, 0))


# --- the queue ----------------------------------------------------------------------
# Reading a big file costs a worker real CPU and memory, and eight imports
# once ran at once: one running import per person and IMPORT_MAX_RUNNING in
# all (across processes: the rows are in the database); the rest wait as
# "queued" and start, oldest first, when a running one ends.


def _running():
    return select(ImportJob).where(
        ImportJob.state.in_(("validating", "writing")), ImportJob.updated_at > clock.now() - STALE_AFTER
    )


def _may_start(job: ImportJob) -> bool:
    running = db.session.execute(
        _running().with_only_columns(ImportJob.user_id, ImportJob.kind, ImportJob.department_id)).all()
    return (
        len(running) < current_app.config["IMPORT_MAX_RUNNING"]
        and all(r.user_id != job.user_id for r in running)
        # one import at a time into a department's directory: two would insert the same codes
        and all((r.kind, r.department_id) != (job.kind, job.department_id) for r in running)
    )


def _claim(job: ImportJob) -> bool:
    """Move a queued job to validating, unless another worker took it first."""
    done = db.session.execute(
        update(ImportJob).where(ImportJob.id == job.id, ImportJob.state == "queued")
        .values(state="validating", updated_at=clock.now())
    )
    db.session.expire(job)
    return done.rowcount == 1


def _next_startable() -> Optional[int]:
    for job in db.session.execute(
        select(ImportJob).where(ImportJob.state == "queued").order_by(ImportJob.id).limit(50)
    ).scalars():
        if _may_start(job):
            return job.id
    return None


def queue_position(job: ImportJob) -> int:
    """How many queued imports are ahead of this one (0: it starts as soon as a place is free)."""
    return db.session.scalar(
        select(func.count()).select_from(ImportJob).where(ImportJob.state == "queued", ImportJob.id < job.id)
    ) or 0


def kick(app: Flask) -> None:
    """Start a queued job whose turn has come, if no thread of this process is doing so (the
    progress poll calls this, so a queue left by a restarted worker still moves)."""
    if current_app.config.get("IMPORT_RUN_INLINE") or _workers.busy():
        return
    job_id = _next_startable()
    if job_id is not None:
        start_thread(app, job_id)
    elif has_leftovers():
        start_thread(app, 0)  # only the cleaning up


# --- running a job ----------------------------------------------------------------


def _record(job: ImportJob, user: User, phase: str, outcome: str = "ok") -> None:
    objects = {"kind": job.kind, "job": job.id, "file_sha256": job.file_sha256, "phase": phase,
               "rows": job.rows_done if phase == "end" else None}
    if phase == "end":
        objects.update(created=job.created, updated=job.updated, unchanged=job.unchanged,
                       bad_rows=job.error_count, state=job.state)
    if job.accept_valid_subset:
        objects["accept_valid_subset"] = True
    audit.record("import", objects=objects, outcome=outcome, user=user)


def _touch(job: ImportJob) -> None:
    job.updated_at = clock.now()


def _finish(job: ImportJob, user: User, state: str, *, outcome: str, message: Optional[str] = None) -> None:
    job.state = state
    if message is not None:
        job.message = message
    job.finished_at = clock.now()
    _touch(job)
    _record(job, user, "end", outcome)


def run(job_id: int, *, in_request: bool) -> None:
    """Check and import one job's file. Commits progress itself unless in a request."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.state != "queued" or not _may_start(job) or not _claim(job):
        return  # someone else's turn, or another worker took it
    save: Callable[[], None] = db.session.flush if in_request else db.session.commit
    save()  # the claim, so other workers count this job as running
    user = db.session.get(User, job.user_id)
    directory = KINDS[job.kind](Scope.of(user))
    finished = False
    try:
        with tempfile.TemporaryFile("w+", encoding="utf-8", dir=upload_dir(), suffix=".jsonl") as staged:
            if _check_rows(job, user, directory, staged, save):
                _write_rows(job, user, directory, staged, save, in_request)
        finished = True
    except Exception as exc:
        if not in_request:
            db.session.rollback()
            job = db.session.get(ImportJob, job_id)
            user = db.session.get(User, job.user_id)
        if isinstance(exc, Interrupted):
            log.warning("import job %s was settled as interrupted while it ran; it stops", job_id)
        else:
            log.exception("import job %s failed", job_id)
        if job.state in ("validating", "writing"):  # not already settled as 已中断 by another request
            _finish(job, user, "failed", outcome="error", message=FAILED_MESSAGE)
            save()
        if not in_request:
            try:
                discard_leftovers(save, pause=True)
            except Exception:  # they stay invisible; the next import thread tries again
                log.exception("the rows of import job %s could not be deleted", job_id)
                db.session.rollback()
    if finished and job.state == "rejected" and may_accept_valid_subset(job):
        return  # keep the file for "仅导入有效的行"
    upload_path(job.token).unlink(missing_ok=True)


def _check_rows(job: ImportJob, user: User, directory: Directory, staged: IO[str], save) -> bool:
    """Validate every row; True when the staged rows should be written."""
    job.state = "validating"
    _touch(job)
    save()
    directory.prepare()
    seen: dict[tuple, int] = {}
    pending: list[dict] = []
    done = valid = bad = 0

    def progress() -> None:
        if pending:
            db.session.execute(insert(ImportRowError), pending)
            pending.clear()
        job.rows_done, job.valid_rows, job.error_count = done, valid, bad
        _touch(job)
        save()

    try:
        with SheetReader(upload_path(job.token), type(directory), limits()) as sheet:
            job.rows_total = sheet.estimate
            if sheet.header.ignored:
                job.message = f"已忽略文件中模板以外的列：{'、'.join(sheet.header.ignored)}。"
            save()
            for row_no, values in sheet.rows():
                done += 1
                parsed = directory.parse(values)
                key = directory.key_of(parsed.record)
                if key is not None:
                    first = seen.setdefault(key, row_no)
                    if first != row_no:
                        parsed.problems.append(directory.duplicate_message(key, first))
                if parsed.problems:
                    bad += 1
                    pending.append({"job_id": job.id, "row_no": row_no, "message": _row_message(parsed.problems)})
                else:
                    valid += 1
                    staged.write(json.dumps(parsed.record, ensure_ascii=False))
                    staged.write("\n")
                if done % PROGRESS_EVERY == 0:
                    progress()
    except FileProblem as exc:
        progress()
        job.valid_rows = 0  # a file that cannot be read to the end offers no "valid subset"
        _finish(job, user, "rejected", outcome="rejected", message=str(exc))
        save()
        return False
    job.rows_total = done
    progress()
    if bad and not job.accept_valid_subset:
        note = job.message or ""
        job.message = (f"文件中有 {bad} 行有错误，没有导入任何数据。"
                       f"请按下面列出的行号和原因修改后重新上传。{note}")
        _finish(job, user, "rejected", outcome="rejected")
        save()
        return False
    return True


def _row_message(problems: list[str]) -> str:
    """One bad row's reasons, each quoting at most cells.QUOTE_CHARS of a cell; the whole capped too."""
    text = "；".join(problems)
    return text if len(text) <= ROW_MESSAGE_CHARS else text[: ROW_MESSAGE_CHARS - 1] + "…"


def _batches(staged: IO[str], size: int) -> Iterator[list[dict]]:
    staged.seek(0)
    batch: list[dict] = []
    for line in staged:
        batch.append(json.loads(line))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Interrupted(Exception):
    """The job was settled as 已中断 (no heartbeat) while its thread still ran: it must stop."""


def _still_writing(job: ImportJob, counts: Optional[Counts] = None) -> None:
    """Stamp the job inside the current transaction, unless it is no longer 'writing' (then raise).

    In the last transaction this also takes the job row's lock, so a request that would
    settle it as 已中断 waits, then finds it done."""
    values: dict = {"updated_at": clock.now()}
    if counts is not None:  # the progress shown while writing
        values.update(created=counts.created, updated=counts.updated, unchanged=counts.unchanged)
    stamped = db.session.execute(
        update(ImportJob).where(ImportJob.id == job.id, ImportJob.state == "writing").values(**values)
        .execution_options(synchronize_session=False)
    )
    if stamped.rowcount != 1:
        raise Interrupted()


def _pause(started: float) -> None:
    """After a staged batch's commit: as long as the batch took (at least PAUSE_MIN). On SQLite the
    requests that queued for the write lock meanwhile (each signed-in request appends its log
    entry) get it before the next batch. PostgreSQL locks rows, not the database, but the thread
    shares its worker process and the cores with the requests: without the pause a probe's p50
    rose from 0.110 s idle to 0.731 s while it wrote (2026-12-03, load 25-33)."""
    time.sleep(max(PAUSE_MIN, time.perf_counter() - started))


def _stage_rows(job: ImportJob, directory: Directory, staged: IO[str], changes: IO[str], in_request: bool) -> Counts:
    """Insert the new rows batch by batch, stamped with the job and invisible; keep the changes
    to existing rows in `changes` for the last transaction. Outside a request each batch commits."""
    counts = Counts()
    # Usually none: every import thread deletes them before it starts a job.
    leftovers = directory.has_staged_leftovers()
    for batch in _batches(staged, STAGE_BATCH):
        started = time.perf_counter()
        plan = directory.stage(batch, job.id, leftovers=leftovers)
        counts += Counts(created=len(plan.inserts), updated=len(plan.updates), unchanged=plan.unchanged)
        for change in plan.updates:
            changes.write(json.dumps(change, ensure_ascii=False))
            changes.write("\n")
        if not in_request:
            _still_writing(job, counts)
            db.session.commit()
            _pause(started)
    return counts


def _write_rows(job: ImportJob, user: User, directory: Directory, staged: IO[str], save, in_request: bool) -> None:
    job.state = "writing"
    _touch(job)
    save()
    counts = Counts()
    # In a request the job row and its start entry are in the same transaction:
    # a savepoint lets a failed write be undone without losing them.
    with db.session.begin_nested() if in_request else nullcontext():
        if directory.staged:
            with tempfile.TemporaryFile("w+", encoding="utf-8", dir=upload_dir(), suffix=".jsonl") as changes:
                counts = _stage_rows(job, directory, staged, changes, in_request)
                # The last transaction: the changes to existing rows, the job done (which makes
                # the stamped rows visible) and its log entry, together.
                if not in_request:
                    _still_writing(job)
                for batch in _batches(changes, BATCH):
                    directory.apply(batch)
        else:
            for batch in _batches(staged, BATCH):
                counts += directory.write(batch)
    job.created, job.updated, job.unchanged = counts.created, counts.updated, counts.unchanged
    notes = [job.message] if job.message else []
    if job.accept_valid_subset and job.error_count:
        notes.insert(0, f"已按您的选择跳过 {job.error_count} 行有错误的行，只导入了有效的 {job.valid_rows} 行。")
    if job.rows_done == 0:
        notes.insert(0, "文件中没有数据行，没有做任何修改。")
    job.message = "".join(notes) or None
    _finish(job, user, "done", outcome="ok")
    save()


# --- reading jobs back ------------------------------------------------------------


def owned_job(token: str, user: User) -> Optional[ImportJob]:
    """The person's own job by its token; someone else's job does not exist for them."""
    job = db.session.execute(select(ImportJob).where(ImportJob.token == token)).scalar_one_or_none()
    if job is None or job.user_id != user.id:
        return None
    return job


def recent_jobs(user: User, limit: int = 10) -> list[ImportJob]:
    return list(
        db.session.execute(
            select(ImportJob).where(ImportJob.user_id == user.id)
            .order_by(ImportJob.started_at.desc(), ImportJob.id.desc()).limit(limit)
        ).scalars()
    )


def is_stale(job: ImportJob) -> bool:
    # A queued job is waiting its turn, not cut off.
    return job.state in ("validating", "writing") and clock.now() - job.updated_at > STALE_AFTER


INTERRUPTED = "这个导入已中断（可能是服务器重启），没有写入任何数据。请重新上传文件。"


def settle_if_interrupted(job: ImportJob) -> bool:
    """True for a job whose process died mid-way (no heartbeat for STALE_AFTER). On first sight
    its plaintext upload is deleted and it is marked failed, so the person may upload again;
    the rows it had staged are deleted by the next import thread (`discard_leftovers`)."""
    if job.state == "failed" and job.message == INTERRUPTED:
        return True
    if not is_stale(job):
        return False
    # Only if it is still stale when the row is locked: its last transaction may just have made it done.
    settled = db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id, ImportJob.state.in_(("validating", "writing")),
               ImportJob.updated_at < clock.now() - STALE_AFTER)
        .values(state="failed", message=INTERRUPTED, finished_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(job)
    if not settled:
        return job.state == "failed" and job.message == INTERRUPTED
    upload_path(job.token).unlink(missing_ok=True)
    return True


def has_leftovers() -> bool:
    """Rows staged by a failed or interrupted import are still in the database (invisible)."""
    return any(cls.has_staged_leftovers() for cls in KINDS.values() if cls.staged)


def discard_leftovers(save: Callable[[], None], *, pause: bool) -> int:
    """Delete the rows staged by failed (or interrupted, then settled) imports, a batch per
    transaction. They were never visible; this only takes them out of the database."""
    removed = 0
    for cls in KINDS.values():
        if not cls.staged:
            continue
        while True:
            started = time.perf_counter()
            gone = cls.discard_staged(DISCARD_BATCH)
            save()
            removed += gone
            if gone < DISCARD_BATCH:
                break
            if pause:
                _pause(started)
    return removed


def settle_interrupted() -> None:
    """Settle every interrupted job, seen or not (each new upload runs this)."""
    for job in db.session.execute(
        select(ImportJob).where(ImportJob.state.in_(("validating", "writing")),
                                ImportJob.updated_at < clock.now() - STALE_AFTER)
    ).scalars():
        settle_if_interrupted(job)


def error_page(job: ImportJob, page: int, per_page: int) -> list[ImportRowError]:
    return list(
        db.session.execute(
            select(ImportRowError).where(ImportRowError.job_id == job.id)
            .order_by(ImportRowError.row_no).limit(per_page).offset((page - 1) * per_page)
        ).scalars()
    )


def error_rows(job: ImportJob) -> Iterator[list]:
    stmt = (
        select(ImportRowError.row_no, ImportRowError.message)
        .where(ImportRowError.job_id == job.id).order_by(ImportRowError.row_no)
    )
    for r in db.session.execute(stmt.execution_options(yield_per=2000)):
        yield [r.row_no, r.message]

