"""The directories' pages: matters (Art 4), inspectors (Art 5), targets (Art 6, 19)
and conflicts of interest (Art 5).

Routes stay thin: parse, load through `policy`, validate through `forms`,
change through `service`, render. Lists return their results fragment to
htmx and the full page otherwise (`listing.render_list`).
"""
from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from .. import clock, concurrency
from ..audit.refusals import refuse_change
from ..auth.roles import DIRECTORY_EDITORS, DIRECTORY_READERS, INSPECTOR
from ..extensions import db
from ..models import Conflict, Inspector, Section, Township, User, UserRole
from ..models.directories import (
    CONFLICT_KINDS,
    CREDIT_GRADES,
    INSPECTOR_STATUSES,
    MATTER_METHODS,
    MATTER_STATUSES,
    TARGET_STATUSES,
)
from ..concurrency import StaleEdit, submitted_version
from ..security import access
from . import bp, queries, service
from .forms import ConflictForm, InspectorForm, MatterForm, TargetForm
from ..listing import paginate, paginate_ids, render_list, wants_fragment
from .policy import (
    get_conflict_to_withdraw,
    get_inspector,
    get_inspector_to_edit,
    get_matter,
    get_matter_to_edit,
    get_target,
    get_target_to_edit,
    may_edit_directory,
    may_edit_matter,
    own_inspector,
    sees_department_conflicts,
)


@bp.app_context_processor
def directory_helpers():
    return {
        # The import/export endpoints are built separately; link to them only once they exist.
        "has_endpoint": lambda name: name in current_app.view_functions,
        "may_edit_directory": may_edit_directory,
        "may_edit_matter": may_edit_matter,
        "MATTER_METHODS": MATTER_METHODS,
        "MATTER_STATUSES": MATTER_STATUSES,
        "INSPECTOR_STATUSES": INSPECTOR_STATUSES,
        "TARGET_STATUSES": TARGET_STATUSES,
        "CREDIT_GRADES": CREDIT_GRADES,
        "CONFLICT_KINDS": CONFLICT_KINDS,
    }


def _sections():
    return db.session.execute(
        select(Section).where(Section.department_id == current_user.department_id).order_by(Section.code)
    ).scalars().all()


def _townships():
    return db.session.execute(select(Township).order_by(Township.code)).scalars().all()


# --- matters ---------------------------------------------------------------


@bp.route("/matters")
@access.roles(*DIRECTORY_READERS)
def matters():
    """随机抽查事项清单 of the department, searchable by code or name."""
    filters = queries.MatterFilters.from_args(request.args)
    query = queries.matters(current_user.department_id, filters)
    page = paginate(query.stmt, query.count)
    return render_list(
        "directories/matters.html",
        "directories/_matters_results.html",
        page=page,
        filters=filters,
        filtered=query.filtered,
        sections=_sections(),
        may_create=may_edit_directory(current_user) and current_user.section_id is not None,
    )


def _matter_form_page(form: MatterForm, matter, status: int = 200, stale=None):
    return render_template("directories/matter_form.html", form=form, matter=matter, stale=stale), status


STALE = ("您打开表单之后，别人已经保存了修改，您这次的修改没有保存。下面列出现在保存的内容与您填写的不同之处；"
         "您填写的内容仍在表单中，请核对后再保存。")


def _stale(labels: dict[str, str], saved, typed, shown: dict[str, dict] | None = None, by=None, at=None) -> dict:
    """What the stale-save box shows: each field where the saved form differs from the typed one."""
    def values(form) -> dict:
        out = dict(vars(form))
        for name, names in (shown or {}).items():
            out[name] = names.get(out.get(name), out.get(name))
        return out

    flash(STALE, "error")
    return concurrency.stale_box(labels, values(saved), values(typed), by=by, at=at)


@bp.route("/matters/new", methods=["GET", "POST"])
@access.roles(*DIRECTORY_EDITORS)
def matter_new():
    """Add a matter led by the user's own section."""
    if current_user.section_id is None:
        access.refuse("no_section")
    if request.method == "GET":
        return _matter_form_page(MatterForm.blank(), None)
    form = MatterForm.from_request(request.form)
    if not form.validate(None):
        return _matter_form_page(form, None, 422)
    matter, _changes = service.save_matter(form, None, current_user)
    flash(f"已新建抽查事项 {matter.code}（第 1 版）。", "success")
    for note in service.art7_shortfalls(matter):
        flash(note, "warning")
    return redirect(url_for("directories.matter", matter_id=matter.id))


@bp.route("/matters/<int:matter_id>")
@access.roles(*DIRECTORY_READERS)
@access.load(matter_id=get_matter)
def matter(matter):
    """One matter with its content items, legal basis and Art 7 check."""
    return render_template("directories/matter.html", matter=matter, shortfalls=service.art7_shortfalls(matter))


@bp.route("/matters/<int:matter_id>/edit", methods=["GET", "POST"])
@access.roles(*DIRECTORY_EDITORS)
@access.load(matter_id=get_matter_to_edit)
def matter_edit(matter):
    """Change a matter of the user's own section; the change becomes a new version."""
    if request.method == "GET":
        return _matter_form_page(MatterForm.from_matter(matter), matter)
    form = MatterForm.from_request(request.form)
    if not form.validate(matter):
        return _matter_form_page(form, matter, refuse_change("invalid_input", 422))
    try:
        concurrency.check(matter, submitted_version(request.form))
        with concurrency.guarded():
            matter, changes = service.save_matter(form, matter, current_user)
            concurrency.flush()
    except StaleEdit:
        status = refuse_change("stale_version", 409)
        matter = get_matter_to_edit(matter.id)
        last = matter.versions[0] if matter.versions else None
        stale = _stale(service.FIELD_LABELS, MatterForm.from_matter(matter), form,
                       {"method": MATTER_METHODS, "status": MATTER_STATUSES},
                       by=last.changed_by.display_name if last and last.changed_by else None,
                       at=clock.show(last.changed_at) if last else None)
        return _matter_form_page(form, matter, status, stale)
    if changes:
        flash(f"已保存为第 {matter.version} 版，修改了 {len(changes)} 项。", "success")
        for note in service.art7_shortfalls(matter):
            flash(note, "warning")
    else:
        flash("没有需要保存的修改。", "info")
    return redirect(url_for("directories.matter", matter_id=matter.id))


@bp.route("/matters/<int:matter_id>/versions")
@access.roles(*DIRECTORY_READERS)
@access.load(matter_id=get_matter)
def matter_versions(matter):
    """Version history of a matter: who changed what, when."""
    return render_template("directories/matter_versions.html", matter=matter, versions=service.version_history(matter))


# --- inspectors ------------------------------------------------------------


@bp.route("/inspectors")
@access.roles(*DIRECTORY_READERS)
def inspectors():
    """执法检查人员名录库 of the department, with who can be drawn today."""
    today = clock.today()
    filters = queries.InspectorFilters.from_args(request.args)
    query = queries.inspectors(current_user.department_id, filters, today)
    page = paginate(query.stmt, query.count)
    return render_list(
        "directories/inspectors.html",
        "directories/_inspectors_results.html",
        page=page,
        filters=filters,
        filtered=query.filtered,
        sections=_sections(),
        eligibility={i.id: service.eligibility(i, today) for i in page.items},
    )


def _inspector_accounts(inspector):
    """Accounts that may be linked: the department's inspectors not linked to someone else,
    plus the current link whatever its roles, so that saving never drops it silently."""
    linked = select(Inspector.user_id).where(Inspector.user_id.is_not(None))
    if inspector is not None:
        linked = linked.where(Inspector.id != inspector.id)
    wanted = User.id.in_(select(UserRole.user_id).where(UserRole.role == INSPECTOR))
    if inspector is not None and inspector.user_id is not None:
        wanted = or_(wanted, User.id == inspector.user_id)
    return db.session.execute(
        select(User)
        .where(User.department_id == current_user.department_id, wanted, User.id.not_in(linked))
        .order_by(User.display_name)
    ).scalars().all()


def _inspector_form_page(form: InspectorForm, inspector, status: int = 200, stale=None):
    return render_template(
        "directories/inspector_form.html",
        form=form,
        inspector=inspector,
        stale=stale,
        sections=_sections(),
        accounts=_inspector_accounts(inspector),
        today=clock.today(),
    ), status


@bp.route("/inspectors/new", methods=["GET", "POST"])
@access.roles(*DIRECTORY_EDITORS)
def inspector_new():
    """Add an inspector to the department's directory."""
    if request.method == "GET":
        return _inspector_form_page(InspectorForm(section_id=current_user.section_id), None)
    form = InspectorForm.from_request(request.form)
    if not form.validate(None, current_user.department_id):
        return _inspector_form_page(form, None, 422)
    inspector, _ = service.save_inspector(form, None, current_user)
    flash(f"已将 {inspector.name} 加入执法人员名录。", "success")
    return redirect(url_for("directories.inspector", inspector_id=inspector.id))


@bp.route("/inspectors/<int:inspector_id>")
@access.roles(*DIRECTORY_READERS)
@access.load(inspector_id=get_inspector)
def inspector(inspector):
    """One inspector: certificate, status, whether they can be drawn, and their conflicts."""
    conflicts = db.session.execute(
        select(Conflict).where(Conflict.inspector_id == inspector.id).order_by(Conflict.declared_at.desc())
    ).scalars().all()
    eligible, reasons = service.eligibility(inspector, clock.today())
    return render_template(
        "directories/inspector.html", inspector=inspector, eligible=eligible, reasons=reasons, conflicts=conflicts
    )


@bp.route("/inspectors/<int:inspector_id>/edit", methods=["GET", "POST"])
@access.roles(*DIRECTORY_EDITORS)
@access.load(inspector_id=get_inspector_to_edit)
def inspector_edit(inspector):
    """Change an inspector's section, certificate, status or linked account."""
    if request.method == "GET":
        return _inspector_form_page(InspectorForm.from_inspector(inspector), inspector)
    form = InspectorForm.from_request(request.form)
    if not form.validate(inspector, current_user.department_id):
        return _inspector_form_page(form, inspector, refuse_change("invalid_input", 422))
    try:
        concurrency.check(inspector, submitted_version(request.form))
        with concurrency.guarded():
            _, changed = service.save_inspector(form, inspector, current_user)
            concurrency.flush()
    except StaleEdit:
        status = refuse_change("stale_version", 409)
        inspector = get_inspector_to_edit(inspector.id)
        stale = _stale(INSPECTOR_LABELS, InspectorForm.from_inspector(inspector), form,
                       {"status": INSPECTOR_STATUSES, "section_id": {s.id: s.name for s in _sections()}})
        return _inspector_form_page(form, inspector, status, stale)
    flash("已保存。" if changed else "没有需要保存的修改。", "success" if changed else "info")
    return redirect(url_for("directories.inspector", inspector_id=inspector.id))


INSPECTOR_LABELS = {"staff_no": "执法人员编号", "name": "姓名", "section_id": "所属科室", "cert_no": "执法证号",
                    "cert_expiry": "执法证有效期至", "specialties": "专长", "status": "状态", "user_id": "关联账号"}
TARGET_LABELS = {"name": "单位名称", "industry": "行业类型", "is_small_micro": "小微企业", "township_id": "乡镇（街道）",
                 "address": "地址", "legal_rep": "法定代表人", "contact": "联系电话", "status": "经营状态",
                 "complaint_count": "投诉举报次数", "serious_violation": "严重违法失信", "credit_grade": "信用等级"}


# --- targets ---------------------------------------------------------------


@bp.route("/targets")
@access.roles(*DIRECTORY_READERS)
def targets():
    """检查对象名录库 of the department: search by name or credit-code prefix, filter, page."""
    filters = queries.TargetFilters.from_args(request.args)
    query = queries.targets(current_user.department_id, filters)
    page = paginate_ids(query.ids, query.count, queries.load_targets)
    townships = _townships()
    context = dict(page=page, filters=filters, filtered=query.filtered, townships=townships,
                   town_names={t.id: t.name for t in townships})
    if not wants_fragment():
        # The industry menu is part of the page only, not of the results fragment.
        context.update(industries=queries.industries(current_user.department_id))
    return render_list("directories/targets.html", "directories/_targets_results.html", **context)


def _target_form_page(form: TargetForm, target, status: int = 200, stale=None):
    return render_template(
        "directories/target_form.html",
        form=form,
        target=target,
        stale=stale,
        townships=_townships(),
        industries=queries.industries(current_user.department_id),
    ), status


@bp.route("/targets/new", methods=["GET", "POST"])
@access.roles(*DIRECTORY_EDITORS)
def target_new():
    """Add an enterprise or other unit to the department's target directory."""
    if request.method == "GET":
        return _target_form_page(TargetForm(), None)
    form = TargetForm.from_request(request.form)
    if not form.validate(None, current_user.department_id):
        return _target_form_page(form, None, 422)
    target, _ = service.save_target(form, None, current_user)
    flash(f"已将 {target.name} 加入检查对象名录库。", "success")
    return redirect(url_for("directories.target", target_id=target.id))


@bp.route("/targets/<int:target_id>")
@access.roles(*DIRECTORY_READERS)
@access.load(target_id=get_target)
def target(target):
    """One target with its special-supervision facts and recorded conflicts."""
    service.log_target("target_read", target)
    conflicts = db.session.execute(
        select(Conflict).where(Conflict.target_id == target.id).order_by(Conflict.declared_at.desc())
    ).scalars().all()
    return render_template("directories/target.html", target=target, conflicts=conflicts)


@bp.route("/targets/<int:target_id>/edit", methods=["GET", "POST"])
@access.roles(*DIRECTORY_EDITORS)
@access.load(target_id=get_target_to_edit)
def target_edit(target):
    """Change a target's details; its credit code stays as registered."""
    if request.method == "GET":
        service.log_target("target_read", target)
        return _target_form_page(TargetForm.from_target(target), target)
    form = TargetForm.from_request(request.form)
    if not form.validate(target, current_user.department_id):
        # Nothing was changed; keep only the log entry, which names the target by its HMAC.
        service.log_target("target_update_rejected", target, fields=sorted(form.errors))
        g.keep_changes = True
        return _target_form_page(form, target, 422)
    try:
        concurrency.check(target, submitted_version(request.form))
        with concurrency.guarded():
            _, changed = service.save_target(form, target, current_user)
            concurrency.flush()
    except StaleEdit:
        status = refuse_change("stale_version", 409)
        target = get_target_to_edit(target.id)
        stale = _stale(TARGET_LABELS, TargetForm.from_target(target), form,
                       {"status": TARGET_STATUSES, "township_id": {w.id: w.name for w in _townships()}})
        return _target_form_page(form, target, status, stale)
    flash("已保存。" if changed else "没有需要保存的修改。", "success" if changed else "info")
    return redirect(url_for("directories.target", target_id=target.id))


# --- conflicts -------------------------------------------------------------


@bp.route("/conflicts")
@access.roles(*DIRECTORY_READERS, INSPECTOR)
def conflicts():
    """回避关系: the department's list, or an inspector's own declarations."""
    department_wide = sees_department_conflicts(current_user)
    filters = queries.ConflictFilters.from_args(request.args)
    query = queries.conflicts(
        current_user.department_id, filters, only_user_id=None if department_wide else current_user.id
    )
    page = paginate(query.stmt, query.count)
    return render_list(
        "directories/conflicts.html",
        "directories/_conflicts_results.html",
        page=page,
        filters=filters,
        filtered=query.filtered,
        department_wide=department_wide,
        mine=None if department_wide else own_inspector(current_user),
    )


def _conflict_form_page(form: ConflictForm, mine, status: int = 200):
    choices = []
    if mine is None:
        choices = db.session.execute(
            select(Inspector)
            .where(Inspector.department_id == current_user.department_id, Inspector.status != "left")
            .order_by(Inspector.section_id, Inspector.name)
        ).scalars().all()
    return render_template("directories/conflict_form.html", form=form, mine=mine, choices=choices), status


@bp.route("/conflicts/new", methods=["GET", "POST"])
@access.roles(*DIRECTORY_EDITORS, INSPECTOR)
def conflict_new():
    """Record a conflict (staff) or declare one's own (inspector)."""
    by_staff = may_edit_directory(current_user)
    mine = None if by_staff else own_inspector(current_user)
    if not by_staff and mine is None:
        if request.method == "POST":
            access.refuse("no_inspector_record")
        return render_template("directories/conflict_form.html", form=None, mine=None, choices=[])
    if request.method == "GET":
        form = ConflictForm(credit_code=request.args.get("credit_code", "").strip().upper(),
                            inspector_id=request.args.get("inspector", type=int))
        return _conflict_form_page(form, mine)
    form = ConflictForm.from_request(request.form)
    if mine is not None:
        if form.inspector_id is not None and form.inspector_id != mine.id:
            access.refuse("not_own_inspector")
        form.inspector_id = mine.id
    if not form.validate(current_user.department_id):
        return _conflict_form_page(form, mine, 422)
    service.record_conflict(form, current_user, by_self=mine is not None)
    flash(
        f"已登记 {form.inspector.name} 与 {form.target.name} 的回避关系；今后抽取时两者不会被同时抽中。",
        "success",
    )
    return redirect(url_for("directories.conflicts"))


CONFLICT_LABELS = {"kind": "回避类型", "reason": "登记的原因"}
STALE_WITHDRAW = ("您打开这条回避关系之后，别人已经修改了它（例如导入更新了回避类型或原因），这次撤销没有执行。"
                  "下面列出现在登记的内容与您打开时看到的不同之处；您填写的撤销原因仍在表单中，请核对后再决定是否撤销。")


@bp.route("/conflicts/<int:conflict_id>/withdraw", methods=["GET", "POST"])
@access.roles(*DIRECTORY_EDITORS)
@access.load(conflict_id=get_conflict_to_withdraw)
def conflict_withdraw(conflict):
    """Withdraw a recorded conflict, giving the reason that goes into the log."""
    error, stale, status = None, None, 200
    if request.method == "POST":
        reason = request.form.get("reason", "").strip()
        if not reason:
            error = "请写明撤销原因，例如“登记错误：该人员与该单位无利害关系”。撤销原因将记入访问日志。"
        elif len(reason) > 500:
            error = "撤销原因最多 500 个字。"
        else:
            name, conflict_id = conflict.inspector.name, conflict.id
            try:
                # The person withdraws the conflict they read: one changed since (an import) is not deleted unseen.
                concurrency.check(conflict, submitted_version(request.form))
                with concurrency.guarded():
                    service.withdraw_conflict(conflict, reason, current_user)
            except StaleEdit:
                status = refuse_change("stale_version", 409)
                conflict = db.session.execute(select(Conflict).where(Conflict.id == conflict_id)).scalar_one_or_none()
                if conflict is None:  # withdrawn by someone else in between
                    return render_template(
                        "errors/error.html", title="这条回避关系已被撤销",
                        text="您提交之前，别人已经撤销了这条回避关系，您的撤销没有重复执行。撤销人和原因见访问日志。",
                    ), status
                flash(STALE_WITHDRAW, "error")
                seen = {"kind": request.form.get("seen_kind", ""), "reason": request.form.get("seen_reason", "")}
                now = {"kind": conflict.kind, "reason": conflict.reason}
                stale = concurrency.stale_box(
                    CONFLICT_LABELS, {**now, "kind": CONFLICT_KINDS.get(now["kind"], now["kind"])},
                    {**seen, "kind": CONFLICT_KINDS.get(seen["kind"], seen["kind"])},
                    typed_heading="您打开时看到的内容")
            else:
                flash(f"已撤销 {name} 的一条回避关系，原因已记入访问日志。", "success")
                return redirect(url_for("directories.conflicts"))
    service.log_target("conflict_read", conflict.target, inspector=conflict.inspector.staff_no)
    if error:
        g.keep_changes = True  # nothing changed: keep only the log entry
        status = 422
    return render_template(
        "directories/conflict_withdraw.html", conflict=conflict, error=error, stale=stale,
        reason=request.form.get("reason", ""),
    ), status
