"""Admin pages: users, roles, departments and sections (SPEC §1).

The admin manages accounts and the organisation but never sees sealed lists.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from .. import clock
from .. import audit
from ..auth.roles import ADMIN, ALL_ROLES, ROLE_DUTIES
from ..extensions import db
from ..models import Department, Section, User
from ..security import access
from . import bp, grants
from .policy import get_section, get_user
from .service import UserForm, create_user, end_sessions, reset_password, unlock, update_user


def _organisation():
    departments = db.session.execute(select(Department).order_by(Department.code)).scalars().all()
    return departments


@bp.route("/users")
@access.roles(ADMIN)
def users():
    """List users with their roles, department and section."""
    q = request.args.get("q", "").strip()
    stmt = select(User).order_by(User.department_id, User.section_id, User.username)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
    rows = db.session.execute(stmt).scalars().all()
    now = clock.now()
    return render_template("admin/users.html", users=rows, q=q, now=now)


@bp.route("/users/new", methods=["GET", "POST"])
@access.roles(ADMIN)
def new_user():
    """Create a user account."""
    form = UserForm() if request.method == "GET" else UserForm.from_request(request.form)
    if request.method == "POST" and form.validate(None, current_user):
        user, held = create_user(form, current_user)
        if held:
            flash(f"已创建用户 {user.username}，但账号暂不启用：所选角色可以查看保密名单，须经本部门局领导（您和本人以外）批准后才生效（SPEC §4）。", "warning")
        else:
            flash(f"已创建用户 {user.username}。请通过安全渠道将初始密码告知本人，并提醒其首次登录后修改。", "success")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    status = 422 if form.errors else 200
    return render_template(
        "admin/user_form.html", form=form, user=None, departments=_organisation(),
        all_roles=ALL_ROLES, duties=ROLE_DUTIES,
    ), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@access.roles(ADMIN)
@access.load(user_id=get_user)
def edit_user(user):
    """Edit a user's name, department, section, roles and whether the account is enabled."""
    form = UserForm.from_user(user) if request.method == "GET" else UserForm.from_request(request.form)
    if request.method == "POST" and form.validate(user, current_user):
        changes = update_user(user, form, current_user)
        if "held" in changes:
            flash("修改后该账号可以查看保密名单：角色、科室和启用状态的修改已提交本部门局领导审批，批准后生效（SPEC §4）。", "warning")
        else:
            flash("已保存。" if changes else "没有需要保存的修改。", "success")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    status = 422 if form.errors else 200
    return render_template(
        "admin/user_form.html", form=form, user=user, departments=_organisation(),
        all_roles=ALL_ROLES, duties=ROLE_DUTIES, now=clock.now(),
        pending=[(g, grants.describe(g)) for g in grants.pending_for(user)],
    ), status


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@access.roles(ADMIN)
@access.load(user_id=get_user)
def reset_user_password(user):
    """Set a new password for a user; their sessions end."""
    problem, held = reset_password(user, request.form.get("password", ""), current_user)
    if problem:
        flash(f"密码未修改：{problem}", "error")
    elif held:
        flash(f"{user.username} 可以查看保密名单，重置其密码须经本部门局领导（您和本人以外）批准，批准后新密码才生效（SPEC §4）。", "warning")
    else:
        flash(f"已为 {user.username} 设置新密码，其所有登录已结束。", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@access.roles(ADMIN)
@access.load(user_id=get_user)
def unlock_user(user):
    """Lift a lockout after repeated failed logins."""
    unlock(user)
    flash(f"已解除 {user.username} 的锁定。", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/sessions/revoke", methods=["POST"])
@access.roles(ADMIN)
@access.load(user_id=get_user)
def revoke_user_sessions(user):
    """End every open session of a user at once (e.g. a lost laptop)."""
    count = end_sessions(user)
    flash(f"已结束 {user.username} 的 {count} 个登录会话。", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/organisation")
@access.roles(ADMIN)
def organisation():
    """Departments and their sections, with how many users each has."""
    counts = dict(
        db.session.execute(select(User.section_id, func.count()).group_by(User.section_id)).all()
    )
    return render_template("admin/organisation.html", departments=_organisation(), counts=counts)


@bp.route("/departments", methods=["POST"])
@access.roles(ADMIN)
def add_department():
    """Add a department, e.g. a partner of joint inspections (Art 11)."""
    code = request.form.get("code", "").strip().upper()
    name = request.form.get("name", "").strip()
    error = None
    if not code or not name:
        error = "请填写部门代码和名称。"
    elif db.session.execute(
        select(Department.id).where(or_(Department.code == code, Department.name == name))
    ).first():
        error = "已有相同代码或名称的部门。"
    if error:
        flash(f"部门未添加：{error}", "error")
    else:
        dept = Department(code=code, name=name)
        db.session.add(dept)
        db.session.flush()
        audit.record("department_created", objects={"department": dept.id, "code": code, "name": name})
        flash(f"已添加部门 {name}。", "success")
    return redirect(url_for("admin.organisation"))


@bp.route("/sections", methods=["POST"])
@access.roles(ADMIN)
def add_section():
    """Add a section (股室/中心) to a department."""
    dept_id = request.form.get("department_id", "")
    dept = db.session.get(Department, int(dept_id)) if dept_id.isdigit() else None
    code = request.form.get("code", "").strip().upper()
    name = request.form.get("name", "").strip()
    error = None
    if dept is None:
        error = "请选择部门。"
    elif not code or not name:
        error = "请填写科室代码和名称。"
    elif db.session.execute(select(Section.id).where(Section.code == code)).first():
        error = "科室代码已被使用。"
    elif db.session.execute(
        select(Section.id).where(Section.department_id == dept.id, Section.name == name)
    ).first():
        error = "该部门已有同名科室。"
    if error:
        flash(f"科室未添加：{error}", "error")
    else:
        section = Section(department=dept, code=code, name=name)
        db.session.add(section)
        db.session.flush()
        audit.record("section_created", objects={"section": section.id, "department": dept.id, "code": code, "name": name})
        flash(f"已在 {dept.name} 下添加科室 {name}。", "success")
    return redirect(url_for("admin.organisation"))


@bp.route("/sections/<int:section_id>", methods=["POST"])
@access.roles(ADMIN)
@access.load(section_id=get_section)
def rename_section(section):
    """Rename a section; its code and history stay."""
    name = request.form.get("name", "").strip()
    if not name:
        flash("科室名称不能为空。", "error")
    elif name != section.name:
        audit.record("section_renamed", objects={"section": section.id, "before": section.name, "after": name})
        section.name = name
        flash("科室名称已修改。", "success")
    return redirect(url_for("admin.organisation"))
