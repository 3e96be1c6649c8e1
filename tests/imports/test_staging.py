"""Imports that don't block (issue #13): a target import writes its new rows in short transactions,
stamped with its job and invisible to every reader until the job is done; a failed or killed
import's rows never show and are deleted afterwards; the person can start again."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from ssj import background, clock
from ssj.extensions import db
from ssj.imports import jobs
from ssj.imports.kinds.targets import Targets
from ssj.models import ImportJob, Target, User
from tests.conftest import BY_ROLE, POSTGRES

from .conftest import code, headers, job_of, target_row, upload, xlsx


def _visible(app) -> set[str]:
    """The credit codes a reader sees (any ORM query gets the visibility rule)."""
    with app.app_context():
        return set(db.session.execute(select(Target.credit_code)).scalars())


def _stored(app) -> int:
    """Every row of the table, visible or not."""
    with app.app_context():
        return db.session.execute(text("SELECT count(*) FROM target")).scalar()


def _queued_job(app, staff, rows) -> ImportJob:
    """A job received through the real route but not run yet (its thread is run by the test)."""
    return job_of(app, upload(staff, "targets", xlsx(headers("targets"), rows)))


@pytest.fixture
def threaded(app, monkeypatch):
    """Jobs run as in production (each batch commits), but by the test, in its own thread of control."""
    monkeypatch.setitem(app.config, "IMPORT_RUN_INLINE", False)
    monkeypatch.setattr(jobs, "start_thread", lambda app, job_id: None)
    monkeypatch.setattr(jobs, "BATCH", 2)
    monkeypatch.setattr(jobs, "STAGE_BATCH", 2)
    monkeypatch.setattr(jobs, "PAUSE_MIN", 0)


def _run(app, job_id: int) -> ImportJob:
    with app.app_context():
        jobs.run(job_id, in_request=False)
        job = db.session.get(ImportJob, job_id)
        db.session.expunge(job)
        db.session.remove()
        return job


def test_staged_rows_are_invisible_to_every_reader_until_the_job_is_done(app, login_as, townships):
    staff = login_as("staff")
    with app.app_context():
        user_dept = db.session.execute(select(User.department_id).where(User.username == BY_ROLE["staff"])).scalar()
        job = ImportJob(token="t-staged", kind="targets", user_id=1, department_id=user_dept, filename="x.xlsx",
                        file_sha256="0" * 64, state="writing")
        db.session.add(job)
        db.session.flush()
        hidden = Target(department_id=user_dept, credit_code=code(7), name="商水县尚未生效有限公司",
                        industry="隐身行业", import_job_id=job.id)
        db.session.add(hidden)
        db.session.commit()
        job_id, target_id = job.id, hidden.id
        db.session.expunge_all()
        assert db.session.get(Target, target_id) is None
        assert db.session.scalar(select(func.count()).select_from(Target)) == 0
        assert list(Targets(_scoped(user_dept)).export_rows()) == []

    assert "商水县尚未生效有限公司" not in staff.get("/targets?q=尚未生效").text
    assert "隐身行业" not in staff.get("/targets").text  # not in the industry menu either
    assert staff.get(f"/targets/{target_id}").status_code == 404

    for state in ("failed", "validating", "queued"):
        _set_state(app, job_id, state)
        assert _visible(app) == set()
    _set_state(app, job_id, "done")
    assert _visible(app) == {code(7)}
    assert "商水县尚未生效有限公司" in staff.get("/targets?q=尚未生效").text
    assert staff.get(f"/targets/{target_id}").status_code == 200


def _scoped(department_id):
    from ssj.imports.kinds.base import Scope

    return Scope(user_id=0, department_id=department_id, section_id=None, section_name=None)


def _set_state(app, job_id, state):
    with app.app_context():
        db.session.get(ImportJob, job_id).state = state
        db.session.commit()


def test_the_import_commits_in_batches_and_others_write_in_between(app, login_as, townships, threaded,
                                                                   monkeypatch):
    """Between two batches another connection can write (on SQLite: take the write lock at once),
    and sees the rows written so far only as stored, never as part of the directory."""
    staff = login_as("staff")
    job = _queued_job(app, staff, [target_row(n) for n in range(1, 8)])
    real_stage = Targets.stage
    seen: list[tuple[int, int]] = []

    def stage_and_look(self, batch, job_id, **kw):
        if seen or real_stage.calls:  # from the second batch on: the earlier ones are committed
            with db.engine.connect() as other:
                if not POSTGRES:
                    other.execute(text("PRAGMA busy_timeout = 50"))  # would fail if the import held the lock
                other.execute(text("UPDATE township SET name = name WHERE id = 1"))
                other.commit()
                stored = other.execute(text("SELECT count(*) FROM target")).scalar()
                seen.append((stored, len(_visible_now())))
        real_stage.calls += 1
        return real_stage(self, batch, job_id, **kw)

    def _visible_now():
        return db.session.execute(select(Target.id)).all()  # the job's own session: still sees nothing

    real_stage.calls = 0
    monkeypatch.setattr(Targets, "stage", stage_and_look)
    try:
        done = _run(app, job.id)
    finally:
        del real_stage.calls
    assert done.state == "done" and done.created == 7
    assert seen == [(2, 0), (4, 0), (6, 0)]  # 2, 4, 6 rows stored, none visible, before batches 2-4
    assert _visible(app) == {code(n) for n in range(1, 8)}


def test_a_failure_in_the_middle_of_the_batches_leaves_nothing_and_the_person_starts_again(
        app, login_as, townships, threaded, monkeypatch):
    staff = login_as("staff")
    rows = [target_row(n) for n in range(1, 8)]
    job = _queued_job(app, staff, rows)
    real_stage = Targets.stage
    calls = []

    def fail_third(self, batch, job_id, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real_stage(self, batch, job_id, **kw)

    monkeypatch.setattr(Targets, "stage", fail_third)
    failed = _run(app, job.id)
    assert failed.state == "failed" and failed.message == jobs.FAILED_MESSAGE
    assert _visible(app) == set()
    assert _stored(app) == 0  # the two committed batches were deleted again
    with app.app_context():
        assert not jobs.upload_path(job.token).exists()

    monkeypatch.setattr(Targets, "stage", real_stage)
    again = _queued_job(app, staff, rows)
    assert _run(app, again.id).state == "done"
    assert _visible(app) == {code(n) for n in range(1, 8)} and _stored(app) == 7


def test_a_failure_in_the_last_transaction_leaves_nothing(app, login_as, townships, threaded, monkeypatch):
    """Changes to existing rows wait for the last transaction; if it fails, neither they nor the
    new rows are seen."""
    staff = login_as("staff")
    assert _run(app, _queued_job(app, staff, [target_row(n) for n in range(1, 4)]).id).state == "done"
    renamed = [target_row(n, **{"单位名称": f"改名{n}有限公司"}) for n in range(1, 4)]
    job = _queued_job(app, staff, renamed + [target_row(n) for n in range(4, 7)])

    def fail(self, updates):
        raise RuntimeError("lost connection")

    monkeypatch.setattr(Targets, "apply", fail)
    assert _run(app, job.id).state == "failed"
    assert _visible(app) == {code(n) for n in range(1, 4)} and _stored(app) == 3
    with app.app_context():
        assert not db.session.execute(select(Target).where(Target.name.like("改名%"))).first()


class Killed(BaseException):
    """kill -9: nothing of the job's own error handling runs."""


def test_a_killed_import_leaves_nothing_visible_is_cleaned_up_and_can_start_again(
        app, login_as, townships, threaded, monkeypatch):
    staff = login_as("staff")
    rows = [target_row(n) for n in range(1, 8)]
    job = _queued_job(app, staff, rows)
    real_stage = Targets.stage
    calls = []

    def die_at_third(self, batch, job_id, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise Killed()
        return real_stage(self, batch, job_id, **kw)

    monkeypatch.setattr(Targets, "stage", die_at_third)
    with pytest.raises(Killed):
        _run(app, job.id)
    with app.app_context():
        db.session.rollback()
        db.session.remove()
    assert _stored(app) == 4 and _visible(app) == set()  # two batches committed, none of it visible

    with app.app_context():  # no heartbeat since
        row = db.session.get(ImportJob, job.id)
        assert row.state == "writing"
        row.updated_at = clock.now() - background.STALE_AFTER - timedelta(seconds=1)
        db.session.commit()
    started = []
    monkeypatch.setattr(jobs, "start_thread", lambda app, job_id: started.append(job_id))
    response = staff.get(f"/imports/jobs/{job.token}")
    response.close()
    assert "已中断" in response.text and started == [0]  # a thread is started to clean up, after the commit
    assert _visible(app) == set()
    with app.app_context():
        assert jobs.has_leftovers()
        assert jobs.discard_leftovers(db.session.commit, pause=False) == 4
        assert not jobs.has_leftovers()
    assert _stored(app) == 0

    monkeypatch.setattr(Targets, "stage", real_stage)
    again = _queued_job(app, staff, rows)
    assert _run(app, again.id).state == "done"
    assert _visible(app) == {code(n) for n in range(1, 8)}


def test_leftovers_not_yet_cleaned_do_not_block_the_next_import(app, login_as, townships, threaded, monkeypatch):
    """A new import meets rows of a killed one with the same credit codes: they give way."""
    staff = login_as("staff")
    rows = [target_row(n) for n in range(1, 6)]
    job = _queued_job(app, staff, rows)
    real_stage = Targets.stage

    def die_at_second(self, batch, job_id, **kw):
        if _stored(app) >= 2:
            raise Killed()
        return real_stage(self, batch, job_id, **kw)

    monkeypatch.setattr(Targets, "stage", die_at_second)
    with pytest.raises(Killed):
        _run(app, job.id)
    with app.app_context():
        db.session.rollback()
        row = db.session.get(ImportJob, job.id)
        row.state, row.message = "failed", jobs.INTERRUPTED
        db.session.commit()
        db.session.remove()
    monkeypatch.setattr(Targets, "stage", real_stage)
    monkeypatch.setattr(jobs, "discard_leftovers", lambda save, pause: 0)  # the cleaner has not come by yet
    again = _queued_job(app, staff, rows)
    assert _run(app, again.id).state == "done"
    assert _visible(app) == {code(n) for n in range(1, 6)} and _stored(app) == 5


def test_a_job_settled_as_interrupted_while_it_still_runs_stops(app, login_as, townships, threaded, monkeypatch):
    """Its heartbeat was missed (not dead, just starved): once settled it must not go on writing."""
    staff = login_as("staff")
    job = _queued_job(app, staff, [target_row(n) for n in range(1, 8)])
    real_stage = Targets.stage

    def settled_meanwhile(self, batch, job_id, **kw):
        if _stored(app) >= 2:
            with db.engine.connect() as other:
                other.execute(text("UPDATE import_job SET state = 'failed', message = :m WHERE id = :id"),
                              {"m": jobs.INTERRUPTED, "id": job_id})
                other.commit()
        return real_stage(self, batch, job_id, **kw)

    monkeypatch.setattr(Targets, "stage", settled_meanwhile)
    stopped = _run(app, job.id)
    assert stopped.state == "failed" and stopped.message == jobs.INTERRUPTED
    assert _visible(app) == set() and _stored(app) == 0


def test_adding_by_hand_a_code_an_import_is_writing_is_refused_with_the_reason(app, login_as, townships):
    """Not a database error: the code is staged (invisible) by a running import. A failed
    import's leftover with the code gives way instead."""
    from tests.conftest import post

    staff = login_as("staff")
    with app.app_context():
        department = db.session.execute(select(User.department_id).where(User.username == BY_ROLE["staff"])).scalar()
        job = ImportJob(token="t-hand", kind="targets", user_id=1, department_id=department, filename="x.xlsx",
                        file_sha256="0" * 64, state="writing")
        db.session.add(job)
        db.session.flush()
        db.session.add(Target(department_id=department, credit_code=code(9), name="商水县导入中有限公司",
                              import_job_id=job.id))
        db.session.commit()
        job_id = job.id
    form = {"credit_code": code(9), "name": "商水县手工添加有限公司", "industry": "建筑业", "township_id": "",
            "address": "", "legal_rep": "", "contact": "", "status": "operating", "complaint_count": "0",
            "credit_grade": "A"}
    r = post(staff, "/targets/new", form)
    assert r.status_code == 422 and "在一个正在写入的导入文件中" in r.text
    assert "商水县导入中有限公司" not in r.text
    _set_state(app, job_id, "failed")
    r = post(staff, "/targets/new", form)
    assert r.status_code == 302
    assert _visible(app) == {code(9)} and _stored(app) == 1
