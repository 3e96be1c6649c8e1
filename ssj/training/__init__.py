"""Business training records (SPEC §8; Art 15 "每年组织开展1次以上业务培训").

Staff and section heads record the department's training sessions and who
attended; supervisors read them; the list shows whether the year meets
Art 15, and `service.training_summary` feeds the oversight dashboard.
"""
from flask import Blueprint

bp = Blueprint("training", __name__)

from . import routes  # noqa: E402,F401
