"""The app as `make run` serves it, plus the floor to compare its pages with (bench/pages.py).

`/bench/minimal` does what every signed-in page must do and nothing else:
the session lookup, one hash-chained access-log entry (written by
`audit.hooks` like any page's), the commit, and a small template —
rendered through `render_template` like every page's, so it is compiled
once per worker (a template string would be compiled on every request and
make the floor slower than it is). A page
at half its throughput or better does no more than twice the work the
audit trail itself costs.
"""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ssj import create_app
from ssj.security import access

bp = Blueprint("bench", __name__, template_folder="templates")


@bp.route("/bench/minimal")
@access.signed_in
def minimal():
    """The minimal audited request: session, log entry, commit, a small template."""
    return render_template("bench/minimal.html", name=current_user.display_name)


app = create_app()
app.register_blueprint(bp)
