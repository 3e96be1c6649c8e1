"""Import and export of the directories as .xlsx (SPEC §2, §9; Art 4, 5, 6, 19)."""
from flask import Blueprint

bp = Blueprint("imports", __name__)

from . import routes  # noqa: E402,F401
