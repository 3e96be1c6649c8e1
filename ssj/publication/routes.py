"""Pages of publication (Art 13), the public results notice (Art 13), the
provincial-platform exports (Art 16) and the archive package (Art 9).

Routes stay thin: load the task through the ceremony's policy (another
department's task is a 404, a role without need is a 403, both logged),
call `service`, render. The request and the approval are plain forms that
post and redirect, so they work without JavaScript. The public routes read
only the plaintext copies made at approval: an unpublished task id is a
404 exactly like a missing one.
"""
from __future__ import annotations

from pathlib import Path

from flask import (
    Response, abort, flash, make_response, redirect, render_template, request, url_for,
)
from flask_login import current_user

from ..auth.roles import PLANNERS, SECTION_HEAD, STAFF, SUPERVISOR
from ..ceremony import policy as ceremony_policy
from ..exports import jobs as export_jobs
from ..models import PublishedTask
from .. import clock
from ..security import access
from . import bp, service

READERS = (STAFF, SECTION_HEAD, SUPERVISOR)
VERIFIER = Path(__file__).resolve().parent.parent / "verify.py"


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = make_response(data)
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response


def _page(task, status: int = 200, error: str | None = None, note: str = ""):
    notice = service.published(task.id)
    body = render_template(
        "publication/task.html",
        task=task,
        notice=notice,
        pending=service.pending_request(task),
        date_problem=service.date_problem(task, clock.today()),
        progress=service.readiness(task),
        may_request=service.may_request(current_user, task),
        may_approve=service.may_approve(current_user, task),
        may_archive=ceremony_policy.may_read_list(current_user, task),
        error=error,
        note=note,
        note_limit=service.NOTE_LIMIT,
    )
    return body, status


def _published_or_404(task_id: int) -> PublishedTask:
    notice = service.published(task_id)
    if notice is None:
        abort(404)
    return notice


# --- the two-person unseal (Art 13) -------------------------------------------------------------


@bp.route("/tasks/<int:task_id>/publication")
@access.roles(*READERS)
@access.load(task_id=ceremony_policy.get_task_to_watch)
def task_page(task):
    """Where a task stands on the way to publication, with the request and approval forms."""
    return _page(task)


@bp.route("/tasks/<int:task_id>/publication/request", methods=["POST"])
@access.roles(*PLANNERS)
@access.load(task_id=ceremony_policy.get_task_to_watch)
def request_publication(task):
    """The organizer or the section head asks for the results to be published."""
    if not service.may_request(current_user, task):
        access.refuse("not_organizer_or_head")
    note = request.form.get("note", "")
    try:
        service.request_publication(task, current_user, note)
    except service.PublicationError as exc:
        return _page(task, exc.status, str(exc), note)
    flash("公开申请已提交，等待本部门局领导审批。", "ok")
    return redirect(url_for(".task_page", task_id=task.id))


@bp.route("/tasks/<int:task_id>/publication/approve", methods=["POST"])
@access.roles(SUPERVISOR)
@access.load(task_id=ceremony_policy.get_task_to_watch)
def approve(task):
    """A supervisor, another person than the requester, re-enters their password and publishes."""
    if not service.may_approve(current_user, task):
        access.refuse("not_supervisor_of_department")
    try:
        service.approve(task, current_user, request.form.get("password", ""))
    except service.PublicationError as exc:
        return _page(task, exc.status, str(exc))
    flash("已解封并公开抽查结果和核验包。", "ok")
    return redirect(url_for(".task_page", task_id=task.id))


# --- exports for the provincial platform (Art 16) and the archive (Art 9) ---------------------------
# Each is a background job (ssj.exports): the route checks who may ask, exactly
# as before, and the job page hands the file over once built; the download
# checks again and logs results_exported / archive_downloaded with the file's
# SHA-256.


def _start(task, kind: str):
    job = export_jobs.create(kind, current_user, task=task)
    return export_jobs.launch(job, redirect(url_for("exports.job", token=job.token), code=303))


def _start_results(task, fmt: str):
    _published_or_404(task.id)
    return _start(task, f"results_{fmt}")


@bp.route("/tasks/<int:task_id>/publication/results.xlsx", methods=["POST"])
@access.roles(*READERS)
@access.load(task_id=ceremony_policy.get_task_to_watch)
def results_xlsx(task):
    """Ask for the published results as .xlsx for the provincial platform (Art 16), built in the background."""
    return _start_results(task, "xlsx")


@bp.route("/tasks/<int:task_id>/publication/results.csv", methods=["POST"])
@access.roles(*READERS)
@access.load(task_id=ceremony_policy.get_task_to_watch)
def results_csv(task):
    """Ask for the published results as CSV (UTF-8 with BOM) for the provincial platform (Art 16)."""
    return _start_results(task, "csv")


@bp.route("/tasks/<int:task_id>/publication/archive.zip", methods=["POST"])
@access.roles(*READERS, sealed="归档包")
@access.load(task_id=ceremony_policy.get_task_to_watch)
def archive_zip(task):
    """Ask for the archive package 归档 (notice, bundle, draw record, results, records, manifest.json; Art 9)."""
    if not ceremony_policy.may_read_list(current_user, task):
        access.refuse("no_need_to_know")
    _published_or_404(task.id)
    return _start(task, "archive")


# --- public pages (SPEC §6; Art 13) -------------------------------------------------------------------


@bp.route("/public/results")
@access.public
def public_results():
    """The list of published tasks' results notices."""
    return render_template("publication/public_list.html", notices=service.public_tasks())


@bp.route("/public/results/<int:task_id>")
@access.public
def public_notice(task_id: int):
    """一抽查一通报: a published task's inspected units, results and verification bundle (Art 13)."""
    notice = _published_or_404(task_id)
    return render_template(
        "publication/public_notice.html",
        notice=notice,
        matters=service.matters_of(notice),
        bundle_withheld=service.bundle_withheld(notice),
    )


@bp.route("/public/results/<int:task_id>/bundle.json")
@access.public
def public_bundle(task_id: int):
    """The verification bundle, byte for byte as built at publication; 404 while the release rule withholds it."""
    notice = _published_or_404(task_id)
    text = service.bundle_text(notice)
    if text is None:
        abort(404)
    return _download(text.encode("utf-8"), "application/json", f"ssj-task-{task_id}-bundle.json")


@bp.route("/public/verify")
@access.public
def public_verify():
    """How anyone can re-run a published draw with the verifier."""
    return render_template("publication/verify.html")


@bp.route("/public/verify.py")
@access.public
def public_verifier():
    """The standalone verifier, ssj/verify.py, as published source."""
    response = _download(VERIFIER.read_bytes(), "text/x-python", "verify.py")
    response.charset = "utf-8"
    return response
