"""Job heartbeats (issue #13): a job whose process died shows 已中断 within a minute, its plaintext
upload is deleted then, and the person may start again; a live job, however slow, keeps beating."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from ssj import background, clock
from ssj.extensions import db
from ssj.imports import jobs
from ssj.models import ImportJob

from .conftest import job_of, target_row, upload, xlsx, headers


def _cut_off(app, job: ImportJob, state: str, silent_for: timedelta) -> None:
    """What a kill -9 mid-import leaves: the row still 'running', last stamped `silent_for` ago."""
    with app.app_context():
        row = db.session.get(ImportJob, job.id)
        row.state, row.updated_at = state, clock.now() - silent_for
        db.session.commit()


def test_a_killed_import_shows_interrupted_its_upload_is_deleted_and_it_can_start_again(
        app, login_as, townships, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_RUN_INLINE", False)
    monkeypatch.setattr(jobs, "start_thread", lambda app, job_id: None)  # the worker "dies" before it runs
    staff = login_as("staff_jc")
    body = xlsx(headers("targets"), [target_row(1)])
    job = job_of(app, upload(staff, "targets", body))
    with app.app_context():
        path = jobs.upload_path(job.token)
    assert path.exists()

    _cut_off(app, job, "writing", background.STALE_AFTER - timedelta(seconds=15))
    page = staff.get(f"/imports/jobs/{job.token}").text
    assert "已中断" not in page and path.exists()  # a beat or two missed: not yet judged dead

    _cut_off(app, job, "writing", background.STALE_AFTER + timedelta(seconds=1))
    assert background.STALE_AFTER < timedelta(minutes=1)
    page = staff.get(f"/imports/jobs/{job.token}").text
    assert "已中断" in page
    assert not path.exists()  # the plaintext upload is gone with the job
    with app.app_context():
        row = db.session.get(ImportJob, job.id)
        assert row.state == "failed" and row.message == jobs.INTERRUPTED
    # the same person may start again at once (the dead job no longer holds their place)
    again = job_of(app, upload(staff, "targets", body))
    with app.app_context():
        assert jobs._may_start(db.session.get(ImportJob, again.id))


def test_a_slow_live_job_keeps_its_heartbeat(app, monkeypatch):
    monkeypatch.setattr(background, "HEARTBEAT", timedelta(seconds=0.05))
    beats: list[list[int]] = []
    workers = background.Workers("test", lambda app, ids: beats.append(ids))
    release = threading.Event()
    workers.start(7, lambda app: release.wait(5), app)
    time.sleep(0.4)
    release.set()
    workers.wait(5)
    assert len(beats) >= 3 and all(ids == [7] for ids in beats)
    count = len(beats)
    time.sleep(0.3)
    assert len(beats) == count  # the thread ended: no more beats, the heartbeat thread stops too


def test_a_beat_stamps_only_running_jobs(app, login_as, townships, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_RUN_INLINE", False)
    monkeypatch.setattr(jobs, "start_thread", lambda app, job_id: None)
    staff = login_as("staff_jc")
    job = job_of(app, upload(staff, "targets", xlsx(headers("targets"), [target_row(1)])))
    _cut_off(app, job, "writing", timedelta(minutes=5))
    background.stamp(app, ImportJob, ("validating", "writing"), [job.id])
    with app.app_context():
        assert clock.now() - db.session.get(ImportJob, job.id).updated_at < timedelta(seconds=5)
    _cut_off(app, job, "done", timedelta(minutes=5))
    background.stamp(app, ImportJob, ("validating", "writing"), [job.id])
    with app.app_context():
        assert clock.now() - db.session.get(ImportJob, job.id).updated_at > timedelta(minutes=4)
