"""Whose export is whose, and may they still have it (SPEC §2, §9; Art 12, 16).

An export or archive package is its starter's own: anyone else's does not
exist for them (404, logged as a refusal). At download the rules it was
started under are checked again, since a role or a section may have
changed in between.
"""
from __future__ import annotations

from flask_login import current_user

from ..models import ExportJob
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
    """The rules the export was started under, again: a role or a section may have changed since.

    Each kind's own rules, as its area registered them (imports.export_kinds, publication.export_kinds).
    """
    kind = jobs.KINDS.get(job.kind)
    if kind is None:
        not_found()
    kind.recheck(job)
