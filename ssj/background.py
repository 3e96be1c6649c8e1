"""The threads that run long jobs — imports and exports — off the request (SPEC §9).

A job's page polls its row in the database, so a thread only has to do the
work and be findable: benchmarks and tests wait for the jobs of this
process to finish, and a finished thread forgets itself.

Heartbeats: while a job's thread lives, a heartbeat thread of the same
process stamps the job's `updated_at` every HEARTBEAT, whatever the job is
doing (a long write, a slow sheet). A process that is killed stops beating,
so a job row not stamped for STALE_AFTER belongs to a dead thread: its page
shows 已中断, its files are deleted and the person may start again — within a
minute of the kill, where it used to take ten (issue #13).
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any, Callable, Optional

from flask import Flask
from sqlalchemy import update

from . import clock
from .extensions import db

log = logging.getLogger(__name__)

HEARTBEAT = timedelta(seconds=10)
STALE_AFTER = timedelta(seconds=45)  # four missed beats: the thread is gone, not busy


class Workers:
    """The running threads of one kind of job in this process.

    `beat(app, job_ids)` stamps the rows of the jobs running now; it runs in
    the heartbeat thread with its own database session."""

    def __init__(self, kind: str, beat: Optional[Callable[[Flask, list[int]], None]] = None) -> None:
        self.kind = kind
        self._beat = beat
        self._jobs: dict[threading.Thread, int] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._heart: Optional[threading.Thread] = None

    def start(self, job_id: int, main: Callable[..., Any], app: Flask, *args: Any) -> threading.Thread:
        def body() -> None:
            try:
                main(app, *args)
            finally:
                with self._lock:
                    self._jobs.pop(threading.current_thread(), None)

        thread = threading.Thread(target=body, name=f"{self.kind}-{job_id}", daemon=True)
        with self._lock:
            self._jobs[thread] = job_id
            if self._beat is not None and (self._heart is None or not self._heart.is_alive()):
                self._heart = threading.Thread(target=self._heartbeat, args=(app,), name=f"{self.kind}-heartbeat",
                                               daemon=True)
                self._heart.start()
        thread.start()
        return thread

    def now_running(self, job_id: int) -> None:
        """Called by a job thread that goes on to the next job (the import queue)."""
        with self._lock:
            if threading.current_thread() in self._jobs:
                self._jobs[threading.current_thread()] = job_id

    def _heartbeat(self, app: Flask) -> None:
        while True:
            with self._lock:
                self._wake.wait(HEARTBEAT.total_seconds())
                ids = sorted(set(self._jobs.values()))
            if not ids:
                with self._lock:
                    if not self._jobs:
                        self._heart = None
                        return
                continue
            try:
                self._beat(app, ids)
            except Exception:  # a missed beat is not fatal; four in a row mark the job 已中断
                log.exception("%s heartbeat could not be written", self.kind)

    def busy(self) -> bool:
        with self._lock:
            return bool(self._jobs)

    def wait(self, timeout: float = 600) -> None:
        """Block until this process's jobs of this kind are done (benchmarks, tests)."""
        with self._lock:
            threads = list(self._jobs)
        for thread in threads:
            thread.join(timeout)


def stamp(app: Flask, model, running_states: tuple[str, ...], job_ids: list[int]) -> None:
    """One heartbeat: `updated_at = now` on these jobs while they are still running."""
    with app.app_context():
        try:
            db.session.execute(
                update(model).where(model.id.in_(job_ids), model.state.in_(running_states))
                .values(updated_at=clock.now())
            )
            db.session.commit()
        finally:
            db.session.remove()
