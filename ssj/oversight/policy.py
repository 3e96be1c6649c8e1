"""Which investigation 立案核查 and which sealed-access grant is whose (SPEC §4, §5).

An investigation belongs to its department's discipline office and
leadership: another department's does not exist for the user (404, logged
as a refusal), so ids cannot be probed.
"""
from __future__ import annotations

from flask_login import current_user

from ..extensions import db
from ..models import AccessGrant, Investigation
from ..security.access import not_found, refuse


def get_investigation(inv_id: int) -> Investigation:
    inv = db.session.get(Investigation, inv_id)
    if inv is None:
        not_found()
    if inv.department_id != current_user.department_id:
        refuse("other_department", 404)
    return inv


def get_grant(grant_id: int) -> AccessGrant:
    """A grant of sealed access to someone of the user's department; another department's does not exist."""
    grant = db.session.get(AccessGrant, grant_id)
    if grant is None:
        not_found()
    if grant.user.department_id != current_user.department_id:
        refuse("other_department", 404)
    return grant
