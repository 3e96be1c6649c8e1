"""Who may see which training session (SPEC §8; Art 15).

A session belongs to its department: one of another department does not
exist for the user (404, logged as a refusal), so ids cannot be probed.
"""
from __future__ import annotations

from flask_login import current_user

from ..extensions import db
from ..models import TrainingSession
from ..security.access import not_found, refuse


def get_session(session_id: int) -> TrainingSession:
    """The session, if it belongs to the user's department; otherwise it does not exist for them."""
    s = db.session.get(TrainingSession, session_id)
    if s is None:
        not_found()
    if s.department_id != current_user.department_id:
        refuse("other_department", 404)
    return s
