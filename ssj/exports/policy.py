"""Whose export is whose, and may they still have it (SPEC §2, §9; Art 12, 16).

An export or archive package is its starter's own: anyone else's does not
exist for them (404, logged as a refusal). At download the rules it was
started under are checked again, since a role or a section may have
changed in between.
"""
from __future__ import annotations

from flask_login import current_user

from ..auth.roles import DIRECTORY_READERS
from ..ceremony import policy as ceremony_policy
from ..imports.kinds import Scope
from ..models import ExportJob
from ..publication import service as publication
from ..security.access import not_found, refuse
from . import jobs


def get_own_job(token: str) -> ExportJob:
    job = jobs.find(token)
    if job is None:
        not_found()
    if job.user_id != current_user.id:
        refuse("not_owner", 404)  # someone else's export does not exist for you
    return job


def recheck(job: ExportJob) -> None:
    """The rules the export was started under, again: a role or a section may have changed since."""
    name = jobs.directory_kind(job.kind)
    if name is not None:
        same_department = current_user.department_id == job.department_id
        scope = Scope.of(current_user)
        same_section = name != "matters" or scope.all_matters or current_user.section_id == job.section_id
        if not current_user.has_role(*DIRECTORY_READERS) or not (same_department and same_section):
            refuse("not_own_section")
        return
    task = ceremony_policy.get_task_to_watch(job.task_id)
    if publication.published(task.id) is None:
        not_found()
    if job.kind == "archive" and not ceremony_policy.may_read_list(current_user, task):
        refuse("no_need_to_know")
