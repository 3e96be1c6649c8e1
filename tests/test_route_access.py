"""Every route × every role × anonymous gets the expected allow or deny.

The table below is written by hand and independent of the decorators: the
test walks the app's URL map, so a new route without a row here fails, and
a route whose decorator disagrees with its row fails too. The walk uses
real objects (a drawn task with its records, plans, directory entries,
jobs…): an allowed role must never meet a server error, a refused one gets
the logged Chinese refusal page, and every route taking an object id is
tried again with a real object of another section, task and department,
which must be refused and logged.
"""
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter

from ssj.imports import export_kinds
from ssj.extensions import db
from ssj.models import (
    AccessGrant, AccessLogEntry, AnnualPlan, Conflict, EvidenceFile, ExportJob, FollowUp, Holiday, ImportJob, Inspector, Investigation,
    Matter, Stratum, Target, Task, TrainingSession,
)
from ssj.inspections.followup import followup_record_id
from ssj.sealing.service import seal_json
from ssj.security import access
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
    "inspections.final_report_acknowledge": frozenset({"supervisor"}),
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


def _method(rule) -> str:
    return "GET" if "GET" in rule.methods else "POST"


# --- a real world to walk: own objects, and objects of another section, task and department -----


@dataclass
class Objects:
    own: dict  # URL argument -> value of an object the user's department owns (the drawn task, …)
    # URL argument -> [(label, value, refused(endpoint, role))]: a real object the user must not reach
    # through this route, and for whom (another section's task is no secret to its department's supervisor)
    foreign: dict = field(default_factory=dict)


def _build_objects(app, login_as) -> Objects:
    from tests.ceremony.conftest import add_inspector, add_user, credit_code, department, section, user
    from tests.inspections.conftest import build_drawn

    drawn = build_drawn(app, login_as)
    def everyone(endpoint, role):
        return True

    def section_scoped(endpoint, role):
        # The 大队 (JCDD, the test's staff and head) organises every section's draw and sees its tasks
        # (Art 5, SPEC §3), and an approved plan is public to the department: another section's task is
        # closed to them only in the inspections area; to a supervisor it is their own department's.
        # The other direction (another section's member at the 大队's task) is walked by
        # test_another_sections_member_is_refused_the_drawn_task.
        return role in ("staff", "section_head", "inspector") and endpoint.split(".")[0] == "inspections"

    def plan_editing(endpoint, role):
        return role in ("staff", "section_head") and endpoint in ("plans.plan_edit", "plans.plan_submit")
    with app.app_context():
        rsj, scj = department("RSJ"), department("SCJ")
        jc, sb, zf = section("JCDD"), section("SBG"), section("ZFJC")
        staff_jc, staff_scj = user("staff_jc"), user("staff_scj")
        other_task = Task(section_id=jc.id, year=2026, name="同科室的另一任务", organizer_id=staff_jc.id)
        sb_task = Task(section_id=sb.id, year=2026, name="社保股抽查", organizer_id=user("staff_sb").id)
        scj_task = Task(section_id=zf.id, year=2026, name="市场监管抽查", organizer_id=staff_scj.id)
        for t in (other_task, sb_task, scj_task):
            t.strata = [Stratum(position=0, name="一般对象", kind="general", ratio_percent="5")]
        plans = {code: AnnualPlan(section_id=s.id, year=2026) for code, s in (("JC", jc), ("SB", sb), ("ZF", zf))}
        matter = {d: Matter(code=f"M-{d}", name=f"事项{d}", legal_basis="依据", content="检查内容", ratio_percent="5",
                            frequency=1, method="现场检查", section_id=s.id) for d, s in (("SB", sb), ("ZF", zf))}
        db.session.add_all([other_task, sb_task, scj_task, *plans.values(), *matter.values()])
        scj_inspector = add_inspector("ZF01", "ZFJC")
        scj_target = Target(department_id=scj.id, credit_code=credit_code(), name="市场监管对象", industry="零售业")
        rsj_target_id = next(iter(drawn.world.target_ids.values()))
        db.session.add(scj_target)
        db.session.flush()
        conflicts = {d: Conflict(inspector_id=i, target_id=t, kind="relative", reason="亲属")
                     for d, i, t in (("RSJ", drawn.world.inspectors["JC02"], rsj_target_id),
                                     ("SCJ", scj_inspector.id, scj_target.id))}
        training = {d.code: TrainingSession(department_id=d.id, section_id=s.id, title="培训", date=date(2026, 3, 1),
                                            hours="2", trainer="讲师", content="内容", created_by_id=u.id)
                    for d, s, u in ((rsj, jc, staff_jc), (scj, zf, staff_scj))}
        exports = {u.username: ExportJob(token=secrets.token_hex(16), kind=export_kinds.job_kind("targets"), user_id=u.id,
                                         department_id=u.department_id, section_id=u.section_id)
                   for u in (staff_jc, staff_scj)}
        imports = {u.username: ImportJob(token=secrets.token_hex(16), kind="targets", user_id=u.id,
                                         department_id=u.department_id, section_id=u.section_id,
                                         filename="t.xlsx", file_sha256="0" * 64, state="done")
                   for u in (staff_jc, staff_scj)}
        holiday = Holiday(date=date(2026, 10, 1), is_working_day=False, name="国庆节", entered_by_id=user("admin").id)
        investigations = {d.code: Investigation(department_id=d.id, codes_json="[]", reason="核查", days=7,
                                                requested_by_id=u.id) for d, u in ((rsj, user("discipline")),
                                                                                   (scj, staff_scj))}
        grants = {code: AccessGrant(user_id=u.id, kind="password", password_hash="x", requested_by_id=user("admin").id)
                  for code, u in (("RSJ", user("staff_sb")), ("SCJ", staff_scj))}
        db.session.add_all([*conflicts.values(), *training.values(), *exports.values(), *imports.values(), holiday,
                            *investigations.values(), *grants.values()])
        db.session.flush()
        position = drawn.own_position()
        assert other_task.id is not None
        # Nested objects of another task, put inside the drawn task's URL.
        other_followup = FollowUp(task_id=other_task.id, position=1, sealed=b"", deadline=date(2026, 4, 1),
                                  created_by_id=staff_jc.id)
        own_followup = FollowUp(task_id=drawn.task_id, position=position, sealed=b"", deadline=date(2026, 4, 1),
                                created_by_id=staff_jc.id)
        db.session.add_all([other_followup, own_followup])
        db.session.flush()
        for f in (other_followup, own_followup):
            f.sealed = seal_json(f.task_id, "followup", followup_record_id(f), {
                "kind": "rectify", "deadline": "2026-04-01", "decision_no": "", "detail": "责令改正",
                "recheck_date": "", "recheck_outcome": "", "by": "staff_jc"})
        other_evidence = EvidenceFile(id=secrets.token_hex(8), task_id=other_task.id, position=1,
                                      stored_name=secrets.token_hex(8), meta_sealed=other_followup.sealed,
                                      uploaded_by_id=staff_jc.id)
        victim = add_user("victim", ["staff"], "RSJ", "SBG")
        db.session.add(other_evidence)
        db.session.commit()
        own_inspector = db.session.get(Inspector, drawn.world.inspectors["JC01"])
        objects = Objects(
            own={
                "task_id": drawn.task_id, "plan_id": plans["JC"].id, "matter_id": drawn.world.extra.get("matter_id")
                or db.session.execute(select(Matter.id).where(Matter.code == "JC-T-01")).scalar_one(),
                "inspector_id": own_inspector.id, "target_id": rsj_target_id, "conflict_id": conflicts["RSJ"].id,
                "session_id": training["RSJ"].id, "user_id": victim, "section_id": sb.id, "holiday_id": holiday.id,
                "position": position, "followup_id": own_followup.id, "evidence_id": "no-such-evidence",
                "seq": 1, "year": 2026, "inv_id": investigations["RSJ"].id, "grant_id": grants["RSJ"].id, "exports.token": exports["staff_jc"].token,
                "imports.token": imports["staff_jc"].token,
            },
            foreign={
                "task_id": [("another section's task", sb_task.id, section_scoped),
                            ("another department's task", scj_task.id, everyone)],
                "plan_id": [("another section's plan", plans["SB"].id, plan_editing),
                            ("another department's plan", plans["ZF"].id, everyone)],
                "matter_id": [("another department's matter", matter["ZF"].id, everyone)],
                "inspector_id": [("another department's inspector", scj_inspector.id, everyone)],
                "target_id": [("another department's target", scj_target.id, everyone)],
                "conflict_id": [("another department's conflict", conflicts["SCJ"].id, everyone)],
                "session_id": [("another department's training", training["SCJ"].id, everyone)],
                "inv_id": [("another department's investigation", investigations["SCJ"].id, everyone)],
                "grant_id": [("another department's grant", grants["SCJ"].id, everyone)],
                "followup_id": [("another task's follow-up", other_followup.id, everyone)],
                "evidence_id": [("another task's evidence", other_evidence.id, everyone)],
                "exports.token": [("another person's export", exports["staff_scj"].token, everyone)],
                "imports.token": [("another person's import", imports["staff_scj"].token, everyone)],
            },
        )
    return objects


def _value(rule, name: str, table: dict):
    """The value for a URL argument: a job token depends on the area (an export's or an import's)."""
    if name == "token":
        return table.get(f"{rule.endpoint.split('.')[0]}.token")
    return table.get(name)


def _url(app, rule, objects: Objects, swap: tuple[str, object] | None = None) -> str:
    values = {}
    for name, conv in rule._converters.items():
        if isinstance(conv, AnyConverter):
            values[name] = sorted(conv.items)[0] if hasattr(conv, "items") else "targets"
            continue
        values[name] = _value(rule, name, objects.own)
        assert values[name] is not None, f"add a real object for <{name}> of {rule.endpoint} to _build_objects"
    if swap is not None:
        values[swap[0]] = swap[1]
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=_method(rule))


@pytest.fixture
def clients(app):
    made = {ANON: app.test_client()}
    for role in ROLES:
        c = app.test_client()
        assert login(c, BY_ROLE[role]).status_code == 302
        made[role] = c
    return made


@pytest.fixture
def objects(app, login_as) -> Objects:
    return _build_objects(app, login_as)


def _call(client, rule, url):
    if _method(rule) == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf_of(client)})


class Log:
    """The access-log entries each request left, read back after it."""

    def __init__(self, app):
        self.app = app
        self.last = self._max()

    def _max(self) -> int:
        with self.app.app_context():
            return db.session.execute(select(func.max(AccessLogEntry.seq))).scalar() or 0

    def since(self) -> list[dict]:
        with self.app.app_context():
            bodies = db.session.execute(
                select(AccessLogEntry.seq, AccessLogEntry.body).where(AccessLogEntry.seq > self.last)
                .order_by(AccessLogEntry.seq)
            ).all()
        if bodies:
            self.last = bodies[-1][0]
        return [json.loads(b) for _, b in bodies]


def _title(r) -> str:
    found = re.search(r"<title>(.*?)</title>", r.get_data(as_text=True), re.S)
    return found.group(1).strip() if found else ""


CJK = re.compile(r"[\u4e00-\u9fff]")


def _refusal_page_problem(r) -> str | None:
    """A refusal shows a Chinese page, never a stack trace or a bare English error."""
    if r.status_code not in (403, 404) or r.mimetype != "text/html":
        return None
    text = r.get_data(as_text=True)
    if not CJK.search(text) or "Traceback" in text or "Werkzeug" in text:
        return "the refusal page is not a Chinese error page"
    return None


def walk(app, clients, objects: Objects, endpoints=None) -> list[str]:
    """Every route (or those named) × every role: the failures, in words."""
    failures = []
    log = Log(app)
    rules = sorted((r for r in _routes(app) if endpoints is None or r.endpoint in endpoints),
                   key=lambda r: (r.endpoint == "auth.logout", r.endpoint))  # logout last
    for rule in rules:
        allowed = EXPECTED[rule.endpoint]
        url = _url(app, rule, objects)
        for who, client in clients.items():
            r = _call(client, rule, url)
            entries = log.since()
            where = f"{rule.endpoint} {who} {_method(rule)} {url}"
            if r.status_code >= 500:
                failures.append(f"{where}: server error {r.status_code} {_title(r)}")
                continue
            location = r.headers.get("Location", "")
            by_role = [e for e in entries if e.get("outcome") == "denied" and e.get("reason") in ("role", "not_signed_in")]
            if who in allowed:
                if by_role or (r.status_code == 302 and "/login" in location and rule.endpoint != "auth.logout"):
                    failures.append(f"{where}: refused by role ({r.status_code} {location})")
            elif who == ANON:
                if r.status_code != 302 or "/login" not in location or not by_role:
                    failures.append(f"{where}: expected a logged redirect to the login page, got {r.status_code}")
            else:
                if r.status_code != 403 or not by_role:
                    failures.append(f"{where}: expected a logged refusal (403, reason role), got {r.status_code}")
                elif "没有权限" not in r.get_data(as_text=True):
                    failures.append(f"{where}: the refusal page does not say 没有权限")
            if (problem := _refusal_page_problem(r)) is not None:
                failures.append(f"{where}: {problem}")
        if not EXPECTED[rule.endpoint] >= PUBLIC:  # public pages are nobody's objects
            failures += _walk_foreign(app, clients, objects, rule, allowed, log)
    return failures


def _walk_foreign(app, clients, objects: Objects, rule, allowed, log: Log) -> list[str]:
    """Each object of the URL swapped for a real one of another section, task or department."""
    failures = []
    for name in rule._converters:
        key = f"{rule.endpoint.split('.')[0]}.token" if name == "token" else name
        for label, value, refused_for in objects.foreign.get(key, []):
            url = _url(app, rule, objects, (name, value))
            for who in sorted(w for w in allowed - {ANON} if refused_for(rule.endpoint, w)):
                r = _call(clients[who], rule, url)
                entries = log.since()
                where = f"{rule.endpoint} {who} with {label} ({url})"
                if r.status_code >= 500:
                    failures.append(f"{where}: server error {r.status_code} {_title(r)}")
                elif r.status_code not in (403, 404):
                    failures.append(f"{where}: not refused ({r.status_code})")
                elif not any(e.get("outcome") in ("denied", "not_found") for e in entries):
                    failures.append(f"{where}: the refusal is not in the log")
                elif label.startswith("another department") or label.startswith("another person"):
                    if not any(e.get("outcome") == "denied" for e in entries):
                        failures.append(f"{where}: logged, but not as a denial")
                if (problem := _refusal_page_problem(r)) is not None:
                    failures.append(f"{where}: {problem}")
    return failures


def test_every_route_for_every_role(app, clients, objects):
    """Allowed roles never meet a server error or a role refusal; the others are refused, logged,
    in Chinese; and no route serves an object of another section, task or department."""
    failures = walk(app, clients, objects)
    assert not failures, "\n".join(failures)


# Routes on a task that a member of another section (not the 大队) may use all the same:
# any signed-in user of the department may witness a draw with their own digits (SPEC §3 step 3).
OPEN_TO_THE_DEPARTMENT = {"ceremony.witness_entry"}


def test_another_sections_member_is_refused_the_drawn_task(app, objects, login_as):
    """staff_sb (社会保险股) at every route of the 大队's drawn task: refused and logged, or a page without it."""
    outsider = login_as("staff_sb")
    log = Log(app)
    failures = []
    for rule in sorted(_routes(app), key=lambda r: r.endpoint):
        if "task_id" not in rule._converters or "staff" not in EXPECTED[rule.endpoint] \
                or EXPECTED[rule.endpoint] >= PUBLIC:
            continue
        url = _url(app, rule, objects)
        r = _call(outsider, rule, url)
        entries = log.since()
        where = f"{rule.endpoint} staff_sb ({url})"
        if r.status_code >= 500:
            failures.append(f"{where}: server error {r.status_code} {_title(r)}")
        elif rule.endpoint in OPEN_TO_THE_DEPARTMENT:
            continue
        elif r.status_code not in (403, 404):
            failures.append(f"{where}: not refused ({r.status_code})")
        elif not any(e.get("outcome") == "denied" for e in entries):
            failures.append(f"{where}: the refusal is not logged as a denial")
    assert not failures, "\n".join(failures)


def test_the_walk_fails_when_a_view_raises(app, clients, objects):
    """The route × role walk itself: a view that crashes for an allowed role is reported."""
    view = app.view_functions["training.sessions"]

    def crashing(**kwargs):
        raise RuntimeError("a bug in the view")

    setattr(crashing, access.ATTR, getattr(view, access.ATTR))
    app.view_functions["training.sessions"] = crashing
    failures = walk(app, clients, objects, endpoints={"training.sessions"})
    assert {f.split(":")[0] for f in failures} == {f"training.sessions {who} GET /training" for who in
                                                    ("staff", "section_head", "supervisor")}
    assert all("server error 500" in f for f in failures)


def test_the_walk_fails_when_a_loader_forgets_the_department(app, clients, objects, monkeypatch):
    """A loader that stops scoping to the user's department is caught with a real object, not id 999999."""
    from ssj.training import routes as training_routes

    def unscoped(session_id: int):
        return db.session.get(TrainingSession, session_id)

    for endpoint in ("training.session",):
        view = app.view_functions[endpoint]
        monkeypatch.setattr(training_routes, "get_session", unscoped)
        rebuilt = access.load(session_id=unscoped)(view.__wrapped__)
        setattr(rebuilt, access.ATTR, getattr(view, access.ATTR))
        app.view_functions[endpoint] = rebuilt
    failures = walk(app, clients, objects, endpoints={"training.session"})
    assert failures and all("another department's training" in f and "not refused (200)" in f for f in failures)


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
