"""Import and export of the directories as .xlsx (SPEC §2, §9; Art 4, 5, 6, 19)."""
from flask import Blueprint

bp = Blueprint("imports", __name__)

from . import export_kinds, routes  # noqa: E402,F401
