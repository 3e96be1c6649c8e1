"""Fixtures for the access-log tests: real traffic, and an attacker with the database file.

The attacker works on the SQLite file directly with the sqlite3 module,
the way someone with a shell on the server would, never through the app.
"""
from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from ssj import create_app
from ssj.audit import chain
from ssj.extensions import db
from ssj.keys import KeyRing

from ..conftest import TEST_CONFIG, login

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


@pytest.fixture(scope="session")
def traffic_instance(template_instance, tmp_path_factory) -> Path:
    """An instance holding a few dozen real entries, built once (logins are slow by design)."""
    path = tmp_path_factory.mktemp("audit-traffic") / "instance"
    shutil.copytree(template_instance, path)
    app = create_app(dict(AUDIT_CONFIG), instance_path=str(path))
    _browse(app)
    with app.app_context():
        db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    return path


@pytest.fixture
def instance_path(traffic_instance, tmp_path) -> Path:
    path = tmp_path / "instance"
    shutil.copytree(traffic_instance, path)
    return path


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


class Attacker:
    """Someone editing access_log rows behind the application's back."""

    def __init__(self, db_path: Path, key_dir: Path):
        self.db_path = db_path
        self.key_dir = key_dir

    @classmethod
    def of(cls, app) -> "Attacker":
        instance = Path(app.instance_path)
        return cls(instance / "ssj.sqlite3", Path(app.config["KEY_DIR"]))

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path)
        conn.row_factory = sqlite3.Row
        return conn

    def sql(self, statement: str, *params) -> None:
        with closing(self._connect()) as conn, conn:
            conn.execute(statement, params)

    def edit_body(self, seq: int, old: str, new: str) -> None:
        before = self.entry(seq)["body"]
        assert old in before, f"entry {seq} has no {old}"
        self.sql("UPDATE access_log SET body = ? WHERE seq = ?", before.replace(old, new), seq)

    def rows(self, table: str = "access_log", order: str = "seq, id") -> list[sqlite3.Row]:
        with closing(self._connect()) as conn:
            return conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()

    def entry(self, seq: int) -> sqlite3.Row:
        with closing(self._connect()) as conn:
            return conn.execute("SELECT * FROM access_log WHERE seq = ?", (seq,)).fetchone()

    def count(self) -> int:
        with closing(self._connect()) as conn:
            return conn.execute("SELECT count(*) FROM access_log").fetchone()[0]

    def head(self) -> tuple[int, str]:
        with closing(self._connect()) as conn:
            return tuple(conn.execute("SELECT seq, head_hash FROM access_log_head").fetchone())

    def keys(self) -> KeyRing:
        return KeyRing.load(self.key_dir)

    def insert_like(self, template: sqlite3.Row, **changes) -> None:
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
        with closing(self._connect()) as conn, conn:
            rows = conn.execute("SELECT id, seq, body, entry_hash FROM access_log ORDER BY seq, id").fetchall()
            prev = chain.GENESIS
            for r in rows:
                if r["seq"] >= from_seq:
                    digest = chain.entry_hash(prev, r["body"])
                    conn.execute("UPDATE access_log SET prev_hash = ?, entry_hash = ? WHERE id = ?", (prev, digest, r["id"]))
                    if mac_key is not None:
                        conn.execute(
                            "UPDATE access_log SET entry_mac = ? WHERE id = ?", (chain.entry_mac(mac_key, digest), r["id"])
                        )
                    prev = digest
                else:
                    prev = r["entry_hash"]
            conn.execute("UPDATE access_log_head SET seq = ?, head_hash = ?", (rows[-1]["seq"] if rows else 0, prev))

    def resign_checkpoints(self) -> None:
        """With the signing key too: make every stored checkpoint agree with the current chain."""
        keys = self.keys()
        with closing(self._connect()) as conn, conn:
            for cp in conn.execute("SELECT id, seq, statement FROM access_log_checkpoint").fetchall():
                seq, _, signed_at = chain.parse_checkpoint_statement(cp["statement"])
                digest = conn.execute("SELECT entry_hash FROM access_log WHERE seq = ?", (seq,)).fetchone()[0]
                statement = chain.checkpoint_statement(seq, digest, signed_at)
                signature = keys.signing_key.sign(statement.encode("utf-8")).hex()
                conn.execute(
                    "UPDATE access_log_checkpoint SET head_hash = ?, statement = ?, signature = ? WHERE id = ?",
                    (digest, statement, signature, cp["id"]),
                )


@pytest.fixture
def attacker(app) -> Attacker:
    return Attacker.of(app)
