"""No N+1: the main pages issue a number of queries that does not grow with the length of their lists.

Each page is asked twice, with a short and a long list behind it (a small
and a large drawn task, one follow-up and many, a few tasks and many, a
few targets and many), and the SQL statements each request sends are
counted with SQLAlchemy's `before_cursor_execute` event. A page that loads
something per row (a team member, a follow-up, a task) sends more
statements for the long list and fails here; speed itself is measured by
`bench/pages.py`, never asserted in a test.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event, select

from ssj.extensions import db
from ssj.inspections.followup import followup_record_id
from ssj.models import FollowUp, Stratum, Target, Task
from ssj.sealing.service import seal_json
from tests.ceremony.conftest import build_world, credit_code, department, full_draw, user

# The most statements any of these pages may send, whatever the list length
# (session lookup, the log append and its chain head, the page's own reads).
CEILING = 60


@contextmanager
def counted(app):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def queries_of(app, client, url: str) -> list[str]:
    client.get(url)  # warm: first-request work (templates, the calendar) is not per row
    with counted(app) as statements:
        r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return statements


# Each page's own bound, as measured when its queries were last cut (issue #15): a page that
# grows a query fails here even if the query does not depend on the list's length. The
# record page's bound leaves out the log's statements (one entry per sealed read).
BOUNDS = {
    "/tasks/{}/list": 14,  # was 18: the 大队's section once per request, members with their sections
    "/tasks/{}/list/print": 14,
    "/tasks/{}": 12,  # was 17: a drawn task's live preview on request only, section joined
    "/tasks/{}/draw/record": 14,
    "/tasks/{}/inspections": 17,
    "record": 12,  # was 14: the matters with their names, the section joined
    "/todo": 16,
    "/targets?q=商水县": 13,
}


def _same(small: list[str], large: list[str], what: str) -> None:
    bound = BOUNDS["record" if what.endswith("/record") and "positions" in what else what]
    assert len(large) <= bound, (
        f"{what}: {len(large)} statements, more than its bound of {bound}:\n" + "\n".join(s[:200] for s in large))
    assert len(large) <= len(small), (
        f"{what}: {len(small)} statements for the short list, {len(large)} for the long one — "
        f"something is loaded per row. Extra statements:\n" + "\n".join(_extra(small, large))
    )
    assert len(large) <= CEILING, f"{what}: {len(large)} statements"


def _extra(small: list[str], large: list[str]) -> list[str]:
    rest = list(small)
    out = []
    for s in large:
        if s in rest:
            rest.remove(s)
        else:
            out.append(s[:200])
    return out[:10]


def _second_task(app, world, ratio: str, name: str) -> int:
    """Another task of the same section over the same targets and inspectors (no Art 16 exclusion)."""
    with app.app_context():
        first = db.session.get(Task, world.task_id)
        task = Task(section_id=first.section_id, year=first.year, name=name, status="planned",
                    team_size=first.team_size, cap_per_inspector=None, exclusion_days=0,
                    planned_start=first.planned_start, planned_end=first.planned_end,
                    publish_date=first.publish_date, organizer_id=first.organizer_id)
        task.strata = [Stratum(position=0, name="一般对象", kind="general", ratio_percent=ratio)]
        db.session.add(task)
        db.session.commit()
        return task.id


def _team_member(app, task_id: int) -> str:
    """inspector_jc's position on the task, or any position."""
    from ssj.models import Assignment, Inspector

    with app.app_context():
        rows = db.session.execute(
            select(Assignment.position, Inspector.user_id).join(Inspector, Assignment.inspector_id == Inspector.id)
            .where(Assignment.task_id == task_id, Assignment.active.is_(True)).order_by(Assignment.position)
        ).all()
        mine = [p for p, uid in rows if uid == user("inspector_jc").id]
        return (mine or [rows[0][0]])[0]


def test_sealed_list_and_task_pages_do_not_load_per_position(app, login_as):
    world = build_world(app, n_targets=24, ratio="10", cap=None, jc_inspectors=8, exclusion_days=0)
    small = world.task_id
    large = _second_task(app, world, "60", "大任务")
    staff = login_as("staff")
    for task_id in (small, large):
        full_draw(staff, app, task_id, digits=lambda teams: True)
    for page in ("/tasks/{}/list", "/tasks/{}/list/print", "/tasks/{}", "/tasks/{}/draw/record",
                 "/tasks/{}/inspections"):
        _same(queries_of(app, staff, page.format(small)), queries_of(app, staff, page.format(large)),
              page)


def test_inspection_record_does_not_load_per_follow_up(app, login_as):
    world = build_world(app, jc_inspectors=4)
    staff = login_as("staff")
    full_draw(staff, app, world.task_id)
    position = _team_member(app, world.task_id)

    def add_followups(n: int) -> None:
        with app.app_context():
            for _ in range(n):
                row = FollowUp(task_id=world.task_id, position=position, sealed=b"",
                               deadline=date.today() + timedelta(days=10), created_by_id=user("staff_jc").id)
                db.session.add(row)
                db.session.flush()
                row.sealed = seal_json(world.task_id, "followup", followup_record_id(row), {
                    "kind": "rectify", "deadline": row.deadline.isoformat(), "decision_no": "", "detail": "责令改正",
                    "recheck_date": "", "recheck_outcome": "", "by": "staff_jc"})
            db.session.commit()

    url = f"/tasks/{world.task_id}/positions/{position}/record"
    head = login_as("head_jc")
    add_followups(1)
    small = queries_of(app, head, url)
    add_followups(8)
    large = queries_of(app, head, url)
    # Each follow-up is one logged sealed read: its log append is the point of the page (the log's
    # own statements are left out); what must not grow is anything else.
    _same(_not_log(small), _not_log(large), url)


def _not_log(statements: list[str]) -> list[str]:
    return [s for s in statements if "access_log" not in s]


def test_todo_does_not_load_per_task(app, login_as):
    world = build_world(app, jc_inspectors=4)
    staff = login_as("staff")

    def add_tasks(n: int) -> None:
        with app.app_context():
            first = db.session.get(Task, world.task_id)
            for i in range(n):
                task = Task(section_id=first.section_id, year=first.year, name=f"待办任务{i}", status="planned",
                            team_size=2, exclusion_days=0, planned_start=first.planned_start,
                            planned_end=first.planned_end, publish_date=first.publish_date,
                            organizer_id=first.organizer_id)
                task.strata = [Stratum(position=0, name="一般对象", kind="general", ratio_percent="10")]
                db.session.add(task)
            db.session.commit()

    add_tasks(1)
    small = queries_of(app, staff, "/todo")
    add_tasks(12)
    large = queries_of(app, staff, "/todo")
    _same(small, large, "/todo")


def test_directory_search_does_not_load_per_target(app, login_as):
    staff = login_as("staff")

    def add_targets(n: int, tag: str) -> None:
        with app.app_context():
            rsj = department("RSJ")
            for i in range(n):
                db.session.add(Target(department_id=rsj.id, credit_code=credit_code(), name=f"商水县{tag}{i:03d}有限公司",
                                      industry="制造业", address=f"人民路{i}号"))
            db.session.commit()

    add_targets(2, "甲")
    small = queries_of(app, staff, "/targets?q=商水县")
    add_targets(40, "乙")
    large = queries_of(app, staff, "/targets?q=商水县")
    _same(small, large, "/targets?q=商水县")
