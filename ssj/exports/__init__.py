"""Exports and archive packages built in the background, kept encrypted until their owner downloads them
(SPEC §4, §9 "Long work ... can be left and come back to"; Art 9, 12, 16)."""
from flask import Blueprint

bp = Blueprint("exports", __name__)

from . import routes  # noqa: E402,F401
