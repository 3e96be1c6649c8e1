"""The discipline office's console 纪检监察 (SPEC §5 last bullet; Art 9, 14, 17, 18).

Search the access log, see the flags that need a look, verify the hash
chain and keep signed checkpoints outside the system. Only the
`discipline` role reaches it; it reads the log and never anything sealed,
and every search, view, export and verification it makes is logged too.
"""
from flask import Blueprint

bp = Blueprint("oversight", __name__)

from . import routes, todo  # noqa: E402,F401
