from flask import Blueprint

bp = Blueprint("directories", __name__)

from . import routes  # noqa: E402,F401
