"""Import and export pages of the four directories (SPEC §2 "Import and export", §9; Art 4, 5, 6, 19).

Thin views: they parse the request, hand the work to `jobs` and `xlsx`,
and render. Jobs are reached by their unguessable token and only by the
person who started them. Exports are background jobs too (`..exports.jobs`):
the export route only asks for one.
"""
from __future__ import annotations

import io
import tempfile
from datetime import datetime
from math import ceil

from flask import current_app, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from .. import clock
from .. import audit
from ..auth.roles import DIRECTORY_EDITORS, DIRECTORY_READERS
from ..directories import queries as directory_queries
from ..exports import jobs as export_jobs
from ..extensions import db
from ..security import access
from . import bp, export_kinds, jobs
from .policy import get_own_job
from .kinds import KINDS, Scope
from .xlsx import XLSX_MIME, write_rows, write_template

KIND = "<any(matters, inspectors, targets, conflicts):kind>"
ERRORS_PER_PAGE = 100


def _local(at: datetime) -> datetime:
    return clock.local(at)


def _xlsx_response(body, filename: str):
    response = send_file(body, mimetype=XLSX_MIME, as_attachment=True, download_name=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route(f"/imports/{KIND}", methods=["GET", "POST"])
@access.roles(*DIRECTORY_EDITORS)
def upload(kind: str):
    """Upload a filled-in template for checking and import; list the person's recent imports."""
    directory = KINDS[kind](Scope.of(current_user))
    error = None
    if request.method == "POST":
        try:
            job = jobs.receive(kind, request.files.get("file"), current_user)
        except jobs.UploadRefused as exc:
            error = str(exc)
        else:
            return jobs.launch(job, redirect(url_for(".job", token=job.token), code=303))
    return render_template(
        "imports/upload.html", kind=kind, directory=directory, refusal=directory.refusal(), error=error,
        recent=jobs.recent_jobs(current_user), kinds=KINDS,
    ), (422 if error else 200)


@bp.route(f"/imports/{KIND}/template.xlsx")
@access.roles(*DIRECTORY_EDITORS)
def template(kind: str):
    """Download the blank .xlsx template of a directory, with its 填写说明 sheet."""
    directory = KINDS[kind](Scope.of(current_user))
    directory.prepare()
    body = io.BytesIO()
    write_template(directory, body)
    body.seek(0)
    return _xlsx_response(body, f"{directory.title}-导入模板.xlsx")


@bp.route(f"/exports/{KIND}", methods=["GET", "POST"])
@access.roles(*DIRECTORY_READERS)
def export(kind: str):
    """Ask for the department's directory (targets: as filtered on the list) as .xlsx, built in the background."""
    directory = KINDS[kind](Scope.of(current_user))
    filters = None
    if kind == "targets":
        filters = export_kinds.target_filters(request.form if request.method == "POST" else request.args)
        filters = filters if filters.active else None
    if request.method == "POST":
        params = {"filters": export_kinds.filter_args(filters)} if filters else None
        job = export_jobs.create(export_kinds.job_kind(kind), current_user, params=params)
        return export_jobs.launch(job, redirect(url_for("exports.job", token=job.token), code=303))
    matching = None
    if filters is not None:
        matching = db.session.scalar(directory_queries.targets(current_user.department_id, filters).count) or 0
    recent = [j for j in export_jobs.recent_jobs(current_user) if j.kind.startswith(export_kinds.PREFIX)]
    return render_template(
        "exports/directory.html", kind=kind, directory=directory, recent=recent[:5], jobs=export_jobs,
        keep_hours=int(export_jobs.KEEP.total_seconds() // 3600), matching=matching,
        filter_args=export_kinds.filter_args(filters) if filters else {},
        filter_words=export_kinds.describe_filters(filters) if filters else [],
    )


@bp.route("/imports/jobs/<token>")
@access.roles(*DIRECTORY_EDITORS)
@access.load(token=get_own_job)
def job(job):
    """Progress and outcome of one import: the full page, or the fragment htmx polls."""
    if job.state == "queued":
        jobs.kick(current_app._get_current_object())
    pages = max(ceil(job.error_count / ERRORS_PER_PAGE), 1)
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    context = {
        "job": job,
        "directory": KINDS[job.kind],
        "stale": jobs.settle_if_interrupted(job),
        "queue_ahead": jobs.queue_position(job) if job.state == "queued" else None,
        "max_running": current_app.config["IMPORT_MAX_RUNNING"],
        "errors": jobs.error_page(job, page, ERRORS_PER_PAGE) if job.error_count else [],
        "page": page,
        "pages": pages,
        "may_accept": jobs.may_accept_valid_subset(job),
        "follow_up": jobs.follow_up(job) if job.state == "rejected" else None,
    }
    fragment = bool(request.headers.get("HX-Request"))
    response = make_response(render_template("imports/_job.html" if fragment else "imports/job.html", **context))
    response.vary.add("HX-Request")
    if context["stale"]:
        # Its staged rows are deleted by an import thread, once this request has committed the settling.
        jobs.clean_up_after(response)
    return response


@bp.route("/imports/jobs/<token>/accept-valid", methods=["POST"])
@access.roles(*DIRECTORY_EDITORS)
@access.load(token=get_own_job)
def accept_valid(job):
    """Import only the valid rows of a rejected file, at the person's explicit request."""
    try:
        child = jobs.accept_valid_subset(job, current_user)
    except jobs.UploadRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for(".job", token=job.token), code=303)
    return jobs.launch(child, redirect(url_for(".job", token=child.token), code=303))


@bp.route("/imports/jobs/<token>/errors.xlsx")
@access.roles(*DIRECTORY_EDITORS)
@access.load(token=get_own_job)
def job_errors(job):
    """Download every bad row of an import (row number and reason) as .xlsx."""
    body = tempfile.TemporaryFile(dir=jobs.upload_dir())
    rows = write_rows(body, "错误清单", ["行号", "问题及修改方法"], jobs.error_rows(job), widths=(8, 100))
    audit.record("export", objects={"kind": f"{job.kind}_import_errors", "job": job.id, "rows": rows})
    body.seek(0)
    return _xlsx_response(body, f"{KINDS[job.kind].title}-导入错误清单-{_local(job.started_at):%Y%m%d-%H%M}.xlsx")
