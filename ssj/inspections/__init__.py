"""Inspection records, evidence, follow-up and reports (SPEC §7; Art 8, 9, 10).

After the draw, each team records what it checked and found for its target
(Art 8), the section reports within five working days (Art 9) and handles
what was found (Art 10). All of it names a drawn target, so all of it is
sealed under the task's data key and read only through logged reads.
"""
from flask import Blueprint

bp = Blueprint("inspections", __name__)

EVIDENCE_MAX_BYTES = 50 * 1024 * 1024


@bp.record_once
def _defaults(state):
    state.app.config.setdefault("EVIDENCE_MAX_BYTES", EVIDENCE_MAX_BYTES)


from . import routes, todo  # noqa: E402,F401
