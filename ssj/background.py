"""The threads that run long jobs — imports and exports — off the request (SPEC §9).

A job's page polls its row in the database, so a thread only has to do the
work and be findable: benchmarks and tests wait for the jobs of this
process to finish, and a finished thread forgets itself.
"""
from __future__ import annotations

import threading
from typing import Any, Callable


class Workers:
    """The running threads of one kind of job in this process."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def start(self, job_id: int, main: Callable[..., Any], *args: Any) -> threading.Thread:
        def body() -> None:
            try:
                main(*args)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=body, name=f"{self.kind}-{job_id}", daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def busy(self) -> bool:
        with self._lock:
            return bool(self._threads)

    def wait(self, timeout: float = 600) -> None:
        """Block until this process's jobs of this kind are done (benchmarks, tests)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
