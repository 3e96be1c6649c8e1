"""Publication of results 一公开: the two-person unseal, the public results notice,
results exports and the archive package (SPEC §4, §6, §7; Art 9, 13, 16).

Before approval nothing here shows a target; after it, the notice and the
verification bundle are public and are served from plaintext copies made at
approval, so the public pages never open a sealed blob.
"""
from flask import Blueprint

bp = Blueprint("publication", __name__)

from . import export_kinds, routes, todo  # noqa: E402,F401
