"""Which investigation 立案核查 and which sealed-access grant is whose (SPEC §4, §5).

An investigation belongs to its department's discipline office and
leadership: another department's does not exist for the user (404, logged
as a refusal), so ids cannot be probed.
"""
from __future__ import annotations

from ..models import AccessGrant, Investigation
from ..security.access import in_department


def get_investigation(inv_id: int) -> Investigation:
    return in_department(Investigation, inv_id, lambda i: i.department_id)


def get_grant(grant_id: int) -> AccessGrant:
    """A grant of sealed access to someone of the user's department; another department's does not exist."""
    return in_department(AccessGrant, grant_id, lambda g: g.user.department_id)
