"""The draw ceremony 摇号, the sealed lists and the need-to-know views (SPEC §3, §4; Art 5, 6, 9, 12).

A task's targets and inspectors are drawn by lot in public (Art 5, 6):
the pools are frozen, the server commits to a secret nonce, witnesses
throw dice, and the public algorithm in `ssj.draws.algorithm` does the
rest. Every step is on the record (Art 9 全程留痕); the result is sealed
and read only by those who need to know, each read logged first (Art 12).
`ssj.draws` stays pure; all Flask and database code of the ceremony is here.
"""
from flask import Blueprint

bp = Blueprint("ceremony", __name__)

from . import routes  # noqa: E402,F401
