from flask import Blueprint

bp = Blueprint("main", __name__)

from . import routes, todo  # noqa: E402,F401
