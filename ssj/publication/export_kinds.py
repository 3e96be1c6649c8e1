"""Results exports for the provincial platform and the archive package as export jobs (SPEC §4, §9; Art 9, 13, 16).

Registered with exports.jobs: the routes (routes.results_xlsx, results_csv,
archive) start a job of one of these kinds, the job machinery runs the
builder here in the background, and checks `recheck` again at download.
"""
from __future__ import annotations

import io
from typing import BinaryIO

from flask import render_template, url_for
from flask_login import current_user

from .. import clock
from ..ceremony import policy as ceremony_policy
from ..ceremony.record import render_record
from ..exports import jobs, xlsxstream
from ..exports.jobs import Built, ExportKind, Progress
from ..extensions import db
from ..models import ExportJob, Task, User
from ..security.access import not_found, refuse
from . import archive, exports, service

CSV_MIME = "text/csv"
ZIP_MIME = "application/zip"
ARCHIVE_STEPS = 4


def _published(job: ExportJob):
    notice = service.published(job.task_id)
    if notice is None:
        raise RuntimeError("task is not published")
    return notice, service.matters_of(notice)


def build_results_xlsx(job: ExportJob, user: User, out: BinaryIO, progress: Progress, save) -> Built:
    notice, matters = _published(job)
    rows = exports.rows(notice, matters)
    progress.start(len(rows))
    exports.results_xlsx(out, rows, on_row=progress.step)
    return Built(f"ssj-task-{job.task_id}-results.xlsx", xlsxstream.XLSX_MIME, len(rows),
                 {"task": job.task_id, "format": "xlsx", "rows": len(rows)})


def build_results_csv(job: ExportJob, user: User, out: BinaryIO, progress: Progress, save) -> Built:
    notice, matters = _published(job)
    rows = exports.rows(notice, matters)
    progress.start(len(rows))
    exports.results_csv(out, rows, on_row=progress.step)
    return Built(f"ssj-task-{job.task_id}-results.csv", CSV_MIME, len(rows),
                 {"task": job.task_id, "format": "csv", "rows": len(rows)})


def build_archive(job: ExportJob, user: User, out: BinaryIO, progress: Progress, save) -> Built:
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
        "draw_record.html": render_record(task, user, now).encode(),
    }
    bundle = service.bundle_text(notice)
    if bundle is not None:
        # Left out while the release rule (SPEC §3) withholds it: the archive is
        # made by the task's own staff, who must not see another task's list.
        files["bundle.json"] = bundle.encode("utf-8")
    progress.at(1)
    # Records, reports and evidence are decrypted here; each read is logged
    # as the inspection area logs it, and committed before anything else
    # happens, so the discipline office sees them even if the job fails later.
    files.update(service.inspection_files(task, notice))
    save()
    progress.at(2)
    about = {
        "task": task.id,
        "name": notice.name,
        "published_at": notice.published_at.isoformat(),
        "bundle_sha256": notice.bundle_sha256,
        "generated_at": now.isoformat(),
        "generated_by": user.username,
    }
    package = archive.build(files, about)
    progress.at(3)
    out.write(package)
    # Evidence keeps its original file name inside the package, but the log
    # (kept for ever, and read by people with no need to see it) and the job
    # row only count those files: a name may name a person or the enterprise.
    logged = sorted(name for name in files if "/evidence/" not in name)
    return Built(f"ssj-task-{task.id}-archive.zip", ZIP_MIME, ARCHIVE_STEPS,
                 {"task": task.id, "files": logged, "evidence_files": len(files) - len(logged)})


def recheck(job: ExportJob) -> None:
    """Still a watcher of a published task; the archive (records, evidence) only with a need to know."""
    task = ceremony_policy.get_task_to_watch(job.task_id)
    if service.published(task.id) is None:
        not_found()
    if job.kind == "archive" and not ceremony_policy.may_read_list(current_user, task):
        refuse("no_need_to_know")


def origin(job: ExportJob) -> tuple[str, str]:
    return url_for("publication.task_page", task_id=job.task_id), "返回任务的公开页面"


jobs.register("results_xlsx", ExportKind("抽查结果 .xlsx（报送省级平台）", build_results_xlsx, recheck, origin,
                                         download_action="results_exported"))
jobs.register("results_csv", ExportKind("抽查结果 CSV", build_results_csv, recheck, origin,
                                        download_action="results_exported"))
jobs.register("archive", ExportKind("归档包 .zip", build_archive, recheck, origin,
                                    download_action="archive_downloaded"))
