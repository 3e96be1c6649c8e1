"""k-of-n custody of the key-encryption key and the sealed-mode start page (SPEC §4)."""
from flask import Blueprint

bp = Blueprint("custody", __name__)

from . import routes  # noqa: E402,F401
