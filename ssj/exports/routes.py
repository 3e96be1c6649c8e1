"""“我的导出”: the progress page of an export job, the person's recent exports, and the download (SPEC §9; Art 9, 12, 16).

Thin views. A job is reached by its unguessable token and exists only for
the person who asked for it: anyone else gets a 404, logged as a denial.
The download re-checks the access rules the export was started under,
logs the file's SHA-256, and only then serves it.
"""
from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response, current_app, g, make_response, render_template, request, url_for
from flask_login import current_user

from .. import audit
from ..auth.roles import SECTION_HEAD, STAFF, SUPERVISOR
from ..security import access
from . import bp, filecrypt, jobs
from .policy import get_own_job, recheck

STARTERS = (STAFF, SECTION_HEAD, SUPERVISOR)  # everyone who may start any export


def _origin(job) -> tuple[str, str]:
    """Where the export was started, to go back and start another."""
    kind = jobs.KINDS.get(job.kind)
    return kind.origin(job) if kind else (url_for("exports.mine"), "返回我的导出")


def _disposition(filename: str) -> str:
    try:
        filename.encode("ascii")
        return f'attachment; filename="{filename}"'
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii") or "export"
        return f"attachment; filename=\"{simple}\"; filename*=UTF-8''{quote(filename, safe='!#$&+^`|~')}"


@bp.route("/my/exports")
@access.roles(*STARTERS)
def mine():
    """The person's recent exports and archive packages, to come back to and download."""
    return render_template("exports/mine.html", recent=jobs.recent_jobs(current_user), jobs=jobs)


@bp.route("/my/exports/<token>")
@access.roles(*STARTERS)
@access.load(token=get_own_job)
def job(job):
    """Progress and outcome of one export: the full page, or the fragment htmx polls."""
    back_url, back_label = _origin(job)
    context = {
        "job": job, "title": jobs.kind_title(job.kind), "stale": jobs.is_stale(job),
        "expires_at": jobs.expires_at(job), "back_url": back_url, "back_label": back_label, "jobs": jobs,
        "filter_words": kind.describe(job) if (kind := jobs.KINDS.get(job.kind)) else [],
    }
    fragment = bool(request.headers.get("HX-Request"))
    response = make_response(render_template("exports/_job.html" if fragment else "exports/job.html", **context))
    response.vary.add("HX-Request")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/my/exports/<token>/file")
@access.roles(*STARTERS)
@access.load(token=get_own_job)
def download(job):
    """Download a finished export: access re-checked, the file's SHA-256 logged, then served."""
    recheck(job)
    try:
        body = jobs.plaintext(job)
    except jobs.ExportRefused as exc:
        return render_template("exports/unavailable.html", job=job, message=str(exc),
                               back=_origin(job), title=jobs.kind_title(job.kind)), 410
    except filecrypt.FileCryptError:
        current_app.logger.error("export file %s did not authenticate", job.id)
        g.keep_changes = True
        audit.record("job_export_integrity_failure", outcome="error", task_id=job.task_id,
                     reason="ciphertext or hash did not match", objects={"kind": job.kind, "job": job.id})
        message = "文件校验失败（可能被改动或损坏），没有下载任何内容。请重新导出；如反复出现，请联系系统管理员。"
        return render_template("exports/unavailable.html", job=job, message=message,
                               back=_origin(job), title=jobs.kind_title(job.kind)), 500
    action, objects = jobs.download_entry(job)
    audit.record(action, task_id=job.task_id, objects=objects)
    response = Response(body, mimetype=job.mimetype)
    response.headers["Content-Disposition"] = _disposition(job.download_name)
    response.headers["Content-Length"] = str(job.file_size)
    response.headers["Cache-Control"] = "no-store"
    return response
