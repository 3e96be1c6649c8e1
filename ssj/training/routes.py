"""Pages for the department's training records (SPEC §8; Art 15).

Staff and section heads of a department record its sessions, whichever of
its sections organised them (Art 15 is the bureau's duty, not a section's);
supervisors read them. A session of another department does not exist for
the user (404), so ids cannot be probed. The year list returns its fragment
to htmx and the whole page otherwise, from one template.
"""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.roles import SECTION_HEAD, STAFF, SUPERVISOR
from ..listing import wants_fragment
from ..models import TrainingSession
from ..security import access
from . import bp, service
from .. import clock
from .service import TrainingForm
from .policy import get_session

EDITORS = (STAFF, SECTION_HEAD)
READERS = (STAFF, SECTION_HEAD, SUPERVISOR)


def _may_edit() -> bool:
    return current_user.has_role(*EDITORS)


def _form_page(form: TrainingForm, session: TrainingSession | None, status: int = 200):
    dept = current_user.department_id
    users = service.department_users(dept)
    sections = service.department_sections(dept)
    by_section = [(sec, [u for u in users if u.section_id == sec.id]) for sec in sections]
    no_section = [u for u in users if u.section_id is None]
    return render_template(
        "training/session_form.html",
        form=form,
        session=session,
        sections=sections,
        by_section=[(sec, people) for sec, people in by_section if people],
        no_section=no_section,
        today=clock.today(),
    ), status


def _validate(form: TrainingForm) -> tuple[bool, dict]:
    dept = current_user.department_id
    users = {u.id: u for u in service.department_users(dept)}
    sections = {s.id for s in service.department_sections(dept)}
    return form.validate(clock.today(), sections, set(users)), users


@bp.route("/training")
@access.roles(*READERS)
def sessions():
    """业务培训: the department's sessions of one year, and whether that year meets Art 15."""
    today = clock.today()
    raw = request.args.get("year", "").strip()
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= today.year + 1 else today.year
    summary = service.training_summary(current_user.department_id, year)
    met, indicator = service.art15_indicator(summary, today.year)
    context = dict(
        year=year,
        summary=summary,
        met=met,
        indicator=indicator,
        years=service.year_choices(current_user.department_id, today.year),
        may_edit=_may_edit(),
    )
    template = "training/_sessions.html" if wants_fragment() else "training/sessions.html"
    response = make_response(render_template(template, **context))
    response.headers["Vary"] = "HX-Request"
    return response


@bp.route("/training/new", methods=["GET", "POST"])
@access.roles(*EDITORS)
def session_new():
    """Record a training session that was held, with its attendees."""
    if request.method == "GET":
        return _form_page(TrainingForm.blank(current_user), None)
    form = TrainingForm.from_request(request.form)
    ok, users = _validate(form)
    if not ok:
        return _form_page(form, None, 422)
    s = service.create_session(form, current_user, users)
    flash(f"已登记培训“{s.title}”，参训 {len(s.attendance)} 人。", "success")
    return redirect(url_for("training.session", session_id=s.id))


@bp.route("/training/<int:session_id>")
@access.roles(*READERS)
@access.load(session_id=get_session)
def session(session):
    """One training session: what was taught, by whom, and who attended."""
    return render_template("training/session.html", session=session, may_edit=_may_edit(), delete_error=None)


@bp.route("/training/<int:session_id>/edit", methods=["GET", "POST"])
@access.roles(*EDITORS)
@access.load(session_id=get_session)
def session_edit(session):
    """Correct a session's details or its attendees."""
    if request.method == "GET":
        return _form_page(TrainingForm.from_session(session), session)
    form = TrainingForm.from_request(request.form)
    ok, users = _validate(form)
    if not ok:
        return _form_page(form, session, 422)
    changed = service.update_session(session, form, current_user, users)
    if changed:
        flash(f"已保存，修改了：{'、'.join(changed)}。", "success")
    else:
        flash("没有需要保存的修改。", "info")
    return redirect(url_for("training.session", session_id=session.id))


@bp.route("/training/<int:session_id>/delete", methods=["POST"])
@access.roles(*EDITORS)
@access.load(session_id=get_session)
def session_delete(session):
    """Delete a session recorded by mistake; its details stay in the access log."""
    if request.form.get("confirm") != "1":
        return render_template(
            "training/session.html", session=session, may_edit=True,
            delete_error="请勾选“确认删除”后再删除。删除后该次培训不再计入细则第十五条的年度培训次数。",
        ), 422
    year, title = session.date.year, session.title
    service.delete_session(session)
    flash(f"已删除培训记录“{title}”，删除前的内容已记入访问日志。", "success")
    return redirect(url_for("training.sessions", year=year))
