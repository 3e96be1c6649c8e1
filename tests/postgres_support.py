"""A throw-away PostgreSQL cluster for the test suite's PostgreSQL pass.

`SSJ_TEST_DATABASE=postgres` makes every test that uses the `app` fixture run
against PostgreSQL instead of SQLite: one cluster per test session (initdb +
pg_ctl in a temporary directory, on a free port), a template database built
by the real migrations, and a fresh database per test cloned from it.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import count
from pathlib import Path

BIN_DIRS = [os.environ.get("SSJ_PG_BIN", ""), "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin"]


def pg_bin() -> Path | None:
    for d in BIN_DIRS:
        if d and (Path(d) / "initdb").exists():
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self) -> None:
        bindir = pg_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL binaries not found (apt-get install -y postgresql)")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="ssj-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        # CREATE DATABASE ... TEMPLATE takes about a second on a busy machine, far longer
        # than many tests: one worker clones the next test's database and drops the last
        # one while a test runs, so tests only wait when a clone is not ready yet.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ssj-pg-clone")
        self._spares: dict[str, Future] = {}
        self._names = count(1)
        self.as_root = os.geteuid() == 0
        if self.as_root:  # initdb refuses to run as root
            shutil.chown(self.root, "postgres")
            self.root.chmod(0o700)
        self._run(f"{bindir}/initdb -D {self.data} -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null")
        self._run(
            f"{bindir}/pg_ctl -D {self.data} -l {self.root}/server.log -w "
            f"-o '-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off' start >/dev/null"
        )

    def _run(self, command: str, capture: bool = False) -> bytes:
        argv = ["su", "postgres", "-s", "/bin/sh", "-c", command] if self.as_root else ["sh", "-c", command]
        return subprocess.run(argv, check=True, stdout=subprocess.PIPE if capture else None).stdout

    def dump(self, database: str) -> bytes:
        """A plain-SQL pg_dump of one database, taken as the postgres user the way a backup job would."""
        return self._run(f"{self.bindir}/pg_dump -h 127.0.0.1 -p {self.port} -U postgres --no-owner {database}", capture=True)

    def server_log(self) -> bytes:
        """The server's own log: error details there can quote the values of a failed statement."""
        return (self.root / "server.log").read_bytes()

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(sql)

    def _clone(self, template: str) -> str:
        name = f"ssj_test_{next(self._names)}"
        self.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        return name

    def take_clone(self, template: str) -> str:
        """A fresh database cloned from `template` (ready made if possible); the next one starts now."""
        spare = self._spares.pop(template, None)
        name = spare.result() if spare is not None else self._clone(template)
        self._spares[template] = self._worker.submit(self._clone, template)
        return name

    def drop(self, database: str) -> None:
        """Drop a test's database in the background (nothing waits for it)."""
        self._worker.submit(self.execute, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    def stop(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
        try:
            self._run(f"{self.bindir}/pg_ctl -D {self.data} -m immediate stop >/dev/null")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
