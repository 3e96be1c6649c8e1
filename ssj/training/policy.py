"""Who may see which training session (SPEC §8; Art 15).

A session belongs to its department: one of another department does not
exist for the user (404, logged as a refusal), so ids cannot be probed.
"""
from __future__ import annotations

from ..models import TrainingSession
from ..security.access import in_department


def get_session(session_id: int) -> TrainingSession:
    """The session, if it belongs to the user's department; otherwise it does not exist for them."""
    return in_department(TrainingSession, session_id, lambda s: s.department_id)
