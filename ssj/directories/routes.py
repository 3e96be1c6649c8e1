"""Placeholder routes; replaced by the directories work."""
from flask import render_template_string

from ..auth.roles import DIRECTORY_READERS, INSPECTOR
from ..security import access
from . import bp


@bp.route("/matters")
@access.roles(*DIRECTORY_READERS)
def matters():
    """List inspection matters."""
    return render_template_string("{% extends 'base.html' %}{% block content %}事项清单{% endblock %}")


@bp.route("/targets")
@access.roles(*DIRECTORY_READERS)
def targets():
    """List targets."""
    return render_template_string("{% extends 'base.html' %}{% block content %}检查对象{% endblock %}")


@bp.route("/inspectors")
@access.roles(*DIRECTORY_READERS)
def inspectors():
    """List inspectors."""
    return render_template_string("{% extends 'base.html' %}{% block content %}执法人员{% endblock %}")


@bp.route("/conflicts")
@access.roles(*DIRECTORY_READERS, INSPECTOR)
def conflicts():
    """List conflicts."""
    return render_template_string("{% extends 'base.html' %}{% block content %}回避关系{% endblock %}")
