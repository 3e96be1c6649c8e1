"""Fixtures for the access-log tests: real traffic, and an attacker with the database.

The attacker works on the database directly with SQL — the SQLite file, or
PostgreSQL as its owner — the way someone with a shell on the server
would, never through the app.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from ssj import create_app
from ssj.audit import chain
from ssj.extensions import db
from ssj.keys import KeyRing

from ..conftest import CRYPTO_SUITE, TEST_CONFIG, cloned_database, login

CHECKPOINT_EVERY = 10
AUDIT_CONFIG = {**TEST_CONFIG, "AUDIT_CHECKPOINT_INTERVAL": CHECKPOINT_EVERY}


def _browse(app) -> None:
    """Sign in as several people and read pages, as a morning at the bureau would."""
    client = app.test_client()
    login(client, "staff_jc", "not-the-password")
    for username in ("staff_jc", "staff_sb", "inspector_jc", "admin"):
        c = app.test_client()
        assert login(c, username).status_code == 302
        for _ in range(8):
            assert c.get("/todo").status_code == 200
        c.get("/account/password")
    c = app.test_client()
    login(c, "staff_jc")
    assert c.get("/admin/users").status_code == 403


TRAFFIC_DATABASE = "ssj_audit_traffic"  # on PostgreSQL, the template each test's database is cloned from


@pytest.fixture(scope="session")
def traffic_instance(template_instance, tmp_path_factory, postgres_cluster) -> Path:
    """An instance holding a few dozen real entries, built once (logins are slow by design)."""
    path = tmp_path_factory.mktemp("audit-traffic") / "instance"
    shutil.copytree(template_instance, path)
    with pytest.MonkeyPatch.context() as mp:
        if postgres_cluster is not None:
            postgres_cluster.execute(f"CREATE DATABASE {TRAFFIC_DATABASE} TEMPLATE ssj_template")
            mp.setenv("SSJ_DATABASE_URL", postgres_cluster.url(TRAFFIC_DATABASE))
        app = create_app(dict(AUDIT_CONFIG), instance_path=str(path))
        _browse(app)
        with app.app_context():
            if postgres_cluster is None:
                db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
            db.session.remove()
            db.engine.dispose()
    return path


@pytest.fixture
def instance_path(traffic_instance, tmp_path, postgres_cluster, monkeypatch) -> Path:
    path = tmp_path / "instance"
    shutil.copytree(traffic_instance, path)
    if postgres_cluster is not None:
        for _ in cloned_database(postgres_cluster, TRAFFIC_DATABASE, monkeypatch):
            yield path
        return
    yield path


@pytest.fixture
def app(instance_path):
    """The app with a checkpoint every 10 entries, so a few dozen entries carry several."""
    app = create_app(dict(AUDIT_CONFIG), instance_path=str(instance_path))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def traffic(app) -> int:
    """How many entries the log holds before the test changes anything."""
    n = Attacker.of(app).count()
    assert n >= 40
    return n


def run(app, *args: str):
    """Run `flask --app app audit ...` through the real CLI; returns (exit code, output)."""
    result = app.test_cli_runner().invoke(args=["audit", *args])
    return result.exit_code, result.output


def database_url(instance_path: Path) -> str:
    """The database an instance uses, found as the app's factory finds it."""
    return os.environ.get("SSJ_DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'ssj.sqlite3'}"


class Row(tuple):
    """A row read both ways, like sqlite3.Row: as a tuple of values and by column name."""

    def __new__(cls, mapping):
        row = super().__new__(cls, tuple(mapping.values()))
        row.columns = dict(mapping)
        return row

    def __getitem__(self, key):
        return self.columns[key] if isinstance(key, str) else super().__getitem__(key)

    def keys(self):
        return self.columns.keys()


class _Connection:
    """A raw connection taking sqlite3-style `?` parameters on either backend."""

    def __init__(self, conn: sa.Connection):
        self.conn = conn

    def execute(self, statement: str, params=()) -> list[Row]:
        parts = statement.split("?")
        named = parts[0] + "".join(f":p{i}{part}" for i, part in enumerate(parts[1:]))
        result = self.conn.execute(sa.text(named), {f"p{i}": v for i, v in enumerate(params)})
        return [Row(r._mapping) for r in result] if result.returns_rows else []


class Attacker:
    """Someone editing access_log rows behind the application's back."""

    def __init__(self, url: str | Path, key_dir: Path):
        self.url = url if isinstance(url, str) else f"sqlite:///{url}"
        self.key_dir = key_dir

    @classmethod
    def of(cls, app) -> "Attacker":
        return cls(app.config["SQLALCHEMY_DATABASE_URI"], Path(app.config["KEY_DIR"]))

    @property
    def dialect(self) -> str:
        return sa.engine.make_url(self.url).get_backend_name()

    @contextmanager
    def _connect(self):
        """One transaction on a connection of its own, committed on success, then closed."""
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as conn:
                yield _Connection(conn)
        finally:
            engine.dispose()

    def sql(self, statement: str, *params) -> None:
        with self._connect() as conn:
            conn.execute(statement, params)

    def edit_body(self, seq: int, old: str, new: str) -> None:
        before = self.entry(seq)["body"]
        assert old in before, f"entry {seq} has no {old}"
        self.sql("UPDATE access_log SET body = ? WHERE seq = ?", before.replace(old, new), seq)

    def rows(self, table: str = "access_log", order: str = "seq, id") -> list[Row]:
        with self._connect() as conn:
            return conn.execute(f"SELECT * FROM {table} ORDER BY {order}")

    def entry(self, seq: int) -> Row:
        with self._connect() as conn:
            found = conn.execute("SELECT * FROM access_log WHERE seq = ?", (seq,))
            return found[0] if found else None

    def count(self) -> int:
        with self._connect() as conn:
            return conn.execute("SELECT count(*) FROM access_log")[0][0]

    def head(self) -> tuple[int, str]:
        with self._connect() as conn:
            return tuple(conn.execute("SELECT seq, head_hash FROM access_log_head")[0])

    def keys(self) -> KeyRing:
        return KeyRing.load(self.key_dir)

    def insert_like(self, template: Row, **changes) -> None:
        """Insert a new row copying `template` with some columns changed (gets a new row id)."""
        data = {k: template[k] for k in template.keys() if k != "id"}
        data.update(changes)
        cols = ", ".join(data)
        marks = ", ".join("?" for _ in data)
        self.sql(f"INSERT INTO access_log ({cols}) VALUES ({marks})", *data.values())

    def rechain(self, from_seq: int, *, with_mac_key: bool = False) -> None:
        """Recompute prev_hash/entry_hash from `from_seq` on and move the head row along,
        as a careful attacker would after an edit (and the MACs too if they hold the audit key)."""
        mac_key = self.keys().entry_mac_key if with_mac_key else None
        with self._connect() as conn:
            rows = conn.execute("SELECT id, seq, body, entry_hash FROM access_log ORDER BY seq, id")
            prev = chain.GENESIS
            for r in rows:
                if r["seq"] >= from_seq:
                    digest = chain.entry_hash(prev, r["body"], CRYPTO_SUITE)
                    conn.execute("UPDATE access_log SET prev_hash = ?, entry_hash = ? WHERE id = ?", (prev, digest, r["id"]))
                    if mac_key is not None:
                        conn.execute(
                            "UPDATE access_log SET entry_mac = ? WHERE id = ?", (chain.entry_mac(mac_key, digest, CRYPTO_SUITE), r["id"])
                        )
                    prev = digest
                else:
                    prev = r["entry_hash"]
            conn.execute("UPDATE access_log_head SET seq = ?, head_hash = ?", (rows[-1]["seq"] if rows else 0, prev))

    def resign_checkpoints(self) -> None:
        """With the signing key too: make every stored checkpoint agree with the current chain."""
        keys = self.keys()
        with self._connect() as conn:
            for cp in conn.execute("SELECT id, seq, statement FROM access_log_checkpoint"):
                seq, _, signed_at = chain.parse_checkpoint_statement(cp["statement"])
                digest = conn.execute("SELECT entry_hash FROM access_log WHERE seq = ?", (seq,))[0][0]
                statement = chain.checkpoint_statement(seq, digest, signed_at)
                signature = keys.signing_key.sign(statement.encode("utf-8")).hex()
                conn.execute(
                    "UPDATE access_log_checkpoint SET head_hash = ?, statement = ?, signature = ? WHERE id = ?",
                    (digest, statement, signature, cp["id"]),
                )


@pytest.fixture
def attacker(app) -> Attacker:
    return Attacker.of(app)
