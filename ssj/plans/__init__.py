"""Annual inspection plans and inspection tasks (SPEC §3; Art 5, 7, 11, 16, 18).

A section plans each matter's rounds and ratio for the year (Art 7), a
supervisor approves the plan, and tasks are set up against it; a task
outside an approved plan is flagged (Art 18). The draw ceremony builds on
the tasks defined here and freezes the pools `service.eligible_pools` returns.
"""
from flask import Blueprint

bp = Blueprint("plans", __name__)

from . import routes  # noqa: E402,F401
