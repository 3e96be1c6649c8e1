"""Whose import job is whose (SPEC §2).

An import job is its starter's own: anyone else's does not exist for them
(404), and the attempt is logged as a refusal.
"""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import ImportJob
from ..security.access import not_found, refuse


def get_own_job(token: str) -> ImportJob:
    job = db.session.execute(select(ImportJob).where(ImportJob.token == token)).scalar_one_or_none()
    if job is None:
        not_found()
    if job.user_id != current_user.id:
        refuse("not_owner", 404)
    return job
