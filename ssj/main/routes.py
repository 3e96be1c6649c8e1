"""The landing pages: the public front door and each role's to-do page (SPEC §9)."""
from flask import redirect, render_template, url_for
from flask_login import current_user

from ..auth.roles import ROLE_DUTIES
from ..calendar_admin.service import current_calendar
from .. import clock
from ..security import access
from . import bp
from ..todo import items_for


@bp.route("/")
@access.public
def index():
    """Front door: signed-in users go to their to-do page, others see the public pages."""
    if current_user.is_authenticated:
        return redirect(url_for("main.todo"))
    return render_template("main/index.html")


@bp.route("/todo")
@access.signed_in
def todo():
    """待办: what needs doing now, by whom and by when, for each of the user's roles."""
    today = clock.today()
    calendar = current_calendar()
    items = [
        (item, calendar.working_days_left(today, item.due) if item.due else None)
        for item in items_for(current_user, today)
    ]
    duties = [(role, ROLE_DUTIES[role]) for role in sorted(current_user.roles)]
    return render_template("main/todo.html", items=items, duties=duties, today=today)
