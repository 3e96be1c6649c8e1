"""Placeholder routes; replaced by the directories work."""
from flask import render_template_string

from ..security import access
from . import bp


@bp.route("/matters")
@access.public
def matters():
    """Public matter list."""
    return render_template_string("{% extends 'base.html' %}{% block content %}事项清单{% endblock %}")


@bp.route("/inspectors")
@access.public
def inspectors():
    """Public inspector directory."""
    return render_template_string("{% extends 'base.html' %}{% block content %}人员名录{% endblock %}")
