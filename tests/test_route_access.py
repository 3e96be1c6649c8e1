"""Every route × every role × anonymous gets the expected allow or deny.

The table below is written by hand and independent of the decorators: the
test walks the app's URL map, so a new route without a row here fails, and
a route whose decorator disagrees with its row fails too.
"""
import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from tests.conftest import csrf_of, login
from tests.factories import BY_ROLE

ROLES = ("admin", "staff", "section_head", "inspector", "supervisor", "discipline")
ANON = "anonymous"

PUBLIC = frozenset(ROLES) | {ANON}
SIGNED_IN = frozenset(ROLES)
ADMIN = frozenset({"admin"})
SUPERVISOR = frozenset({"supervisor"})
EDITORS = frozenset({"staff", "section_head"})
READERS = EDITORS | SUPERVISOR
DISCIPLINE = frozenset({"discipline"})

EXPECTED = {
    "main.index": PUBLIC,
    "main.todo": SIGNED_IN,
    "auth.login": PUBLIC,
    "auth.logout": SIGNED_IN,
    "auth.change_password": SIGNED_IN,
    "public.matters": PUBLIC,
    "public.inspectors": PUBLIC,
    "plans.public_plans": PUBLIC,
    # admin: users and organisation, nothing else
    "admin.users": ADMIN,
    "admin.new_user": ADMIN,
    "admin.edit_user": ADMIN,
    "admin.reset_user_password": ADMIN,
    "admin.unlock_user": ADMIN,
    "admin.revoke_user_sessions": ADMIN,
    "admin.organisation": ADMIN,
    "admin.add_department": ADMIN,
    "admin.add_section": ADMIN,
    "admin.rename_section": ADMIN,
    # directories: staff and heads keep them, supervisors read them
    "directories.matters": READERS,
    "directories.matter": READERS,
    "directories.matter_versions": READERS,
    "directories.matter_new": EDITORS,
    "directories.matter_edit": EDITORS,
    "directories.inspectors": READERS,
    "directories.inspector": READERS,
    "directories.inspector_new": EDITORS,
    "directories.inspector_edit": EDITORS,
    "directories.targets": READERS,
    "directories.target": READERS,
    "directories.target_new": EDITORS,
    "directories.target_edit": EDITORS,
    "directories.conflicts": READERS | {"inspector"},
    "directories.conflict_new": EDITORS | {"inspector"},
    "directories.conflict_withdraw": EDITORS,
    # imports and exports
    "imports.upload": EDITORS,
    "imports.template": EDITORS,
    "imports.job": EDITORS,
    "imports.job_errors": EDITORS,
    "imports.accept_valid": EDITORS,
    "imports.export": READERS,
    # exports and archive packages built in the background: the person who asked, and only them
    "exports.mine": READERS,
    "exports.job": READERS,
    "exports.download": READERS,
    # plans and tasks
    "plans.plans": READERS,
    "plans.plan": READERS,
    "plans.plan_new": EDITORS,
    "plans.plan_edit": EDITORS,
    "plans.plan_submit": EDITORS,
    "plans.plan_decide": SUPERVISOR,
    "plans.plan_reopen": SUPERVISOR,
    "plans.tasks": READERS,
    "plans.task": READERS,
    "plans.task_new": EDITORS,
    "plans.task_edit": EDITORS,
    "plans.task_preview": READERS,
    # the draw ceremony: the section runs it, supervisors and the discipline
    # office watch its public facts; sealed lists only for need-to-know roles
    "ceremony.draw": READERS | {"discipline"},
    "ceremony.freeze": EDITORS,
    "ceremony.commit": EDITORS,
    "ceremony.add_witness": EDITORS,
    # a witness types their own digits in their own session, whatever their role
    "ceremony.witness_entry": SIGNED_IN,
    "ceremony.run": EDITORS,
    "ceremony.request_redraw": EDITORS,
    "ceremony.decide_redraw": SUPERVISOR,
    "ceremony.commitment": READERS | {"discipline"},
    "ceremony.record": READERS | {"discipline"},
    "ceremony.screen": READERS | {"discipline"},
    "ceremony.sealed_list": READERS,
    "ceremony.sealed_list_print": READERS,
    "ceremony.sealed_list_xlsx": READERS,
    "ceremony.my_inspections": frozenset({"inspector"}),
    "ceremony.recuse": EDITORS | {"inspector"},
    # publication (Art 13): the section asks, a supervisor approves; the
    # results notice and its bundle are public, exports and archive are not
    "publication.task_page": READERS,
    "publication.request_publication": EDITORS,
    "publication.approve": SUPERVISOR,
    "publication.results_xlsx": READERS,
    "publication.results_csv": READERS,
    "publication.archive_zip": READERS,
    "publication.public_results": PUBLIC,
    "publication.public_notice": PUBLIC,
    "publication.public_bundle": PUBLIC,
    "publication.public_verify": PUBLIC,
    "publication.public_verifier": PUBLIC,
    # sealed mode's unseal page (custodians are not users; it says 系统已解封 when not sealed)
    "custody.unseal": PUBLIC,
    # the discipline office's console: the discipline role and nobody else
    "oversight.search": DISCIPLINE,
    "oversight.entry": DISCIPLINE,
    "oversight.flags": DISCIPLINE,
    "oversight.verify": DISCIPLINE,
    "oversight.verify_against": DISCIPLINE,
    "oversight.sign_checkpoint": DISCIPLINE,
    "oversight.export_checkpoints": DISCIPLINE,
    "oversight.print_checkpoints": DISCIPLINE,
    # investigations 立案核查: the office opens, a supervisor decides (SPEC §5)
    "oversight.investigation_list": DISCIPLINE,
    "oversight.investigation_close": DISCIPLINE,
    "oversight.leadership": frozenset({"supervisor"}),
    "oversight.investigation_decide": frozenset({"supervisor"}),
    "oversight.grant_decide": frozenset({"supervisor"}),
    # the oversight dashboard (SPEC §8): leaders, heads and staff (own section), discipline read-only
    "oversight.dashboard": READERS | DISCIPLINE,
    # inspection records (Art 8-10): team members write, need-to-know readers read
    "inspections.overview": READERS | {"inspector"},
    "inspections.task": READERS,
    "inspections.record": READERS | {"inspector"},
    "inspections.report_print": READERS | {"inspector"},
    "inspections.notice": READERS | {"inspector"},
    "inspections.notice_print": READERS | {"inspector"},
    "inspections.checklist_print": READERS | {"inspector"},
    "inspections.evidence_upload": frozenset({"inspector"}),
    "inspections.evidence_download": READERS | {"inspector"},
    "inspections.followup_add": frozenset({"inspector"}),
    "inspections.followup_recheck": frozenset({"inspector"}),
    "inspections.final_report": READERS,
    "inspections.final_report_approve": frozenset({"section_head"}),
    # holidays: only the admin enters them; everyone signed in may count working days
    "holidays.holidays": ADMIN,
    "holidays.add": ADMIN,
    "holidays.bulk": ADMIN,
    "holidays.remove": ADMIN,
    "holidays.mark_year": ADMIN,
    "holidays.workdays": SIGNED_IN,
    # training records (Art 15): staff and heads keep them, supervisors read them
    "training.sessions": READERS,
    "training.session": READERS,
    "training.session_new": EDITORS,
    "training.session_edit": EDITORS,
    "training.session_delete": EDITORS,
}


def _routes(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def test_every_route_has_an_expectation(app):
    endpoints = {r.endpoint for r in _routes(app)}
    missing = endpoints - EXPECTED.keys()
    assert not missing, f"add these routes to EXPECTED in {__file__}: {sorted(missing)}"
    stale = EXPECTED.keys() - endpoints
    assert not stale, f"routes no longer exist: {sorted(stale)}"


def _url(app, rule) -> str:
    values = {}
    for name, conv in rule._converters.items():
        if isinstance(conv, IntegerConverter):
            values[name] = 999999  # no such object: an allowed caller gets 404, never the data
        elif isinstance(conv, AnyConverter):
            values[name] = sorted(conv.items)[0] if hasattr(conv, "items") else "targets"
        else:
            values[name] = "no-such-object"
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=_method(rule))


def _method(rule) -> str:
    return "GET" if "GET" in rule.methods else "POST"


@pytest.fixture
def clients(app):
    made = {ANON: app.test_client()}
    for role in ROLES:
        c = app.test_client()
        assert login(c, BY_ROLE[role]).status_code == 302
        made[role] = c
    return made


def _call(client, rule):
    url = _url(client.application, rule)
    if _method(rule) == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf_of(client)})


def test_every_route_for_every_role(app, clients):
    failures = []
    rules = sorted(_routes(app), key=lambda r: r.endpoint != "auth.logout")  # logout last
    rules.reverse()
    for rule in rules:
        allowed = EXPECTED[rule.endpoint]
        for who, client in clients.items():
            r = _call(client, rule)
            location = r.headers.get("Location", "")
            refused = r.status_code in (401, 403) or (r.status_code == 302 and "/login" in location
                                                       and rule.endpoint != "auth.logout")
            if who in allowed and refused:
                failures.append(f"{rule.endpoint} {who}: refused ({r.status_code} {location})")
            if who not in allowed:
                expected_status = 302 if who == ANON else 403
                if r.status_code != expected_status or (who == ANON and "/login" not in location):
                    failures.append(f"{rule.endpoint} {who}: expected refusal, got {r.status_code} {location}")
    assert not failures, "\n".join(failures)


def test_a_refusal_is_logged(app, clients):
    from sqlalchemy import select

    from ssj.extensions import db
    from ssj.models import AccessLogEntry

    clients["discipline"].get("/admin/users")
    with app.app_context():
        row = db.session.execute(
            select(AccessLogEntry.username, AccessLogEntry.outcome)
            .where(AccessLogEntry.action == "read:admin.users")
            .order_by(AccessLogEntry.seq.desc())
        ).first()
    assert row == ("discipline", "denied")


def test_app_refuses_to_start_with_an_undeclared_route(instance_path):
    from flask import Blueprint

    import ssj
    from ssj.security.access import check_every_route_declared

    app = ssj.create_app({"TESTING": True}, instance_path=str(instance_path))
    bp = Blueprint("sneaky", __name__)

    @bp.route("/sneaky")
    def sneaky():
        return "open"

    app.register_blueprint(bp)
    with pytest.raises(RuntimeError, match="sneaky.sneaky"):
        check_every_route_declared(app)


def test_generic_log_entries_name_a_target_only_by_hmac(app, clients):
    import json

    from sqlalchemy import select

    from ssj.extensions import db
    from ssj.models import AccessLogEntry, Department, Target

    with app.app_context():
        dept = db.session.execute(select(Department).where(Department.code == "RSJ")).scalar_one()
        target = Target(department_id=dept.id, credit_code="91411623MA40000001", name="商水县测试有限公司")
        db.session.add(target)
        db.session.commit()
        target_id = target.id
    clients["inspector"].get(f"/targets/{target_id}")  # refused by role: a generic entry
    with app.app_context():
        body = db.session.execute(
            select(AccessLogEntry.body).order_by(AccessLogEntry.seq.desc())
        ).scalars().first()
    entry = json.loads(body)
    assert entry["outcome"] == "denied"
    assert entry["objects"]["args"]["target_id"] != target_id
    assert "91411623MA40000001" not in body and len(entry["objects"]["args"]["target_id"]["target_ref"]) == 64


def test_app_refuses_to_start_with_an_object_route_without_a_loader(instance_path):
    """A route taking an object id must load it through a scoped loader (access.load), or the app does not start."""
    from flask import Blueprint

    import ssj
    from ssj.security import access
    from ssj.security.access import check_every_route_declared

    app = ssj.create_app({"TESTING": True}, instance_path=str(instance_path))
    bp = Blueprint("sneaky", __name__)

    @bp.route("/sneaky/<int:task_id>")
    @access.roles("staff")
    def sneaky(task_id: int):
        return "whatever task this is"

    app.register_blueprint(bp)
    with pytest.raises(RuntimeError, match=r"sneaky.sneaky \(task_id\)"):
        check_every_route_declared(app)
