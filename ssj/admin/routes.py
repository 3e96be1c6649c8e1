"""Placeholder; replaced below."""
from flask import render_template_string

from ..auth.roles import ADMIN
from ..security import access
from . import bp


@bp.route("/users")
@access.roles(ADMIN)
def users():
    """Users."""
    return render_template_string("{% extends 'base.html' %}{% block content %}用户{% endblock %}")


@bp.route("/organisation")
@access.roles(ADMIN)
def organisation():
    """Departments and sections."""
    return render_template_string("{% extends 'base.html' %}{% block content %}部门{% endblock %}")
