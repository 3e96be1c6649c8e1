"""Login, logout and changing one's own password."""
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from .. import clock
from .. import audit
from ..security import access, csrf
from . import bp
from .passwords import hash_password, password_problem, verify_password
from .service import authenticate
from .sessions import SESSION_END_MESSAGES, revoke_all, start_session


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.todo")


@bp.route("/login", methods=["GET", "POST"])
@access.public
def login():
    """Sign in with a username and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.todo"))
    error = None
    if request.method == "POST":
        result = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        g.keep_changes = True  # failed-login counters and lockouts must persist
        if result.user is not None:
            # A fresh session at login: nothing from before survives (no fixation).
            session.clear()
            start_session(result.user)
            login_user(result.user)
            csrf.rotate()
            audit.record("login", user=result.user)
            return redirect(_safe_next(request.form.get("next")))
        error = result.message
    ended = g.get("session_ended") or request.args.get("ended")
    notice = SESSION_END_MESSAGES.get(ended) if ended else None
    return render_template(
        "auth/login.html", error=error, notice=notice, next=request.values.get("next", "")
    ), (200 if error is None else 200)


@bp.route("/logout", methods=["POST"])
@access.signed_in
def logout():
    """Sign out and end this session on the server."""
    s = current_user.current_session
    audit.record("logout")
    if s is not None:
        s.revoked_at, s.revoked_reason = clock.now(), "logout"
    logout_user()
    session.clear()
    return redirect(url_for("auth.login", ended="logout"))


@bp.route("/account/password", methods=["GET", "POST"])
@access.signed_in
def change_password():
    """Change one's own password; every other session of the user ends."""
    error = None
    if request.method == "POST":
        old = request.form.get("old_password", "")
        new = request.form.get("new_password", "")
        again = request.form.get("new_password_again", "")
        if not verify_password(current_user.password_hash, old):
            error = "当前密码不正确。"
        elif new != again:
            error = "两次输入的新密码不一致。"
        else:
            error = password_problem(new, current_app.config["PASSWORD_MIN_LENGTH"], username=current_user.username,
                                     current_hash=current_user.password_hash)
        if error is None:
            current_user.password_hash = hash_password(new)
            revoke_all(current_user.id, "password_changed", except_session_id=current_user.current_session.id)
            audit.record("password_changed", objects={"user": current_user.id})
            flash("密码已修改。您在其他设备上的登录已全部结束。", "success")
            return redirect(url_for("main.todo"))
        audit.record("password_change_failed", outcome="denied", reason=error)
        g.keep_changes = True
    return render_template("auth/password.html", error=error), (422 if error else 200)
