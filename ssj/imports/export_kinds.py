"""The directory exports as export jobs (SPEC §2, §9): one kind per directory, registered with exports.jobs.

The export page (routes.export) starts a `directory:<name>` job; the job
machinery runs it in the background with the builder here. The target list's
filters travel with the job, so the export is "what I am looking at".
"""
from __future__ import annotations

import json
from typing import BinaryIO

from flask import url_for
from flask_login import current_user
from sqlalchemy import func, select

from .. import clock
from ..auth.roles import DIRECTORY_READERS
from ..directories import queries
from ..directories.queries import TARGET_STATUSES, TargetFilters
from ..exports import jobs, xlsxstream
from ..exports.jobs import Built, ExportKind, Progress
from ..extensions import db
from ..models import Conflict, ExportJob, Inspector, Matter, Target, Township, User
from ..security.access import refuse
from .kinds import KINDS, Scope
from .xlsx import export_filename

PREFIX = "directory:"


def job_kind(name: str) -> str:
    """The export job kind of a directory (`targets` -> `directory:targets`)."""
    return f"{PREFIX}{name}"


def directory_name(kind: str) -> str:
    return kind[len(PREFIX):]


# --- the target list's filters (the export of "what I am looking at") -------------------------


def target_filters(args) -> TargetFilters:
    """The target list page's filters from a query string, a form or a job's params."""
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
    if job.kind != job_kind("targets"):
        return None
    stored = json.loads(job.params or "{}").get("filters") or {}
    filters = target_filters(stored)
    return filters if filters.active else None


def _describe(job: ExportJob) -> list[str]:
    filters = job_filters(job)
    return describe_filters(filters) if filters else []


# --- building one --------------------------------------------------------------------------


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


def build(job: ExportJob, user: User, out: BinaryIO, progress: Progress, save) -> Built:
    name = directory_name(job.kind)
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
    return Built(export_filename(KINDS[name], what, clock.local_now()), xlsxstream.XLSX_MIME, rows, entry)


# --- at download -----------------------------------------------------------------------------


def recheck(job: ExportJob) -> None:
    """The directory's readers, of the same department (and section, for matters), as when it was started."""
    name = directory_name(job.kind)
    same_department = current_user.department_id == job.department_id
    scope = Scope.of(current_user)
    same_section = name != "matters" or scope.all_matters or current_user.section_id == job.section_id
    if not current_user.has_role(*DIRECTORY_READERS) or not (same_department and same_section):
        refuse("not_own_section")


def origin(job: ExportJob) -> tuple[str, str]:
    return url_for("imports.export", kind=directory_name(job.kind)), "返回导出页面"


for _name, _directory in KINDS.items():
    jobs.register(job_kind(_name), ExportKind(
        title=f"{_directory.title}导出", build=build, recheck=recheck, origin=origin,
        download_action="export", describe=_describe,
    ))
