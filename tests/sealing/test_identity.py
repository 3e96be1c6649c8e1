"""Keys belong to one instance (SPEC §4; issue 12): another instance's keys, or one key file
from elsewhere, are refused with a clear message before anything is written."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ssj import create_app
from ssj.extensions import db
from ssj.identity import ForeignKeys
from ssj.keys import create_keys
from ssj.models import AccessLogEntry
from ssj.sealing.service import seal_json
from tests.ceremony.conftest import build_world
from tests.conftest import CRYPTO_SUITE, POSTGRES, TEST_CONFIG, login

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def used(app, instance_path, tmp_path):
    """An instance with log entries, a signed checkpoint and a task data key, engine closed."""
    world = build_world(app)
    c = app.test_client()
    assert login(c, "staff_jc").status_code == 302
    assert c.get("/", follow_redirects=True).status_code == 200
    with app.app_context():
        seal_json(world.task_id, "probe", 1, {"x": 1})
        db.session.commit()
    assert app.test_cli_runner().invoke(args=["audit", "checkpoint"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()
    other = tmp_path / "other-instance-keys"
    create_keys(other)
    return Path(instance_path) / "keys", other


@pytest.fixture
def snapshot(instance_path, database_bytes):
    """What the database holds now: the SQLite file and its WAL (not the -shm index readers touch), or a pg_dump."""
    def read() -> bytes:
        if POSTGRES:  # pg_dump's \restrict lines carry a fresh random token on every dump
            return b"\n".join(line for line in database_bytes().split(b"\n") if not line.startswith((b"\\restrict", b"\\unrestrict")))
        base = Path(instance_path) / "ssj.sqlite3"
        return b"".join(p.read_bytes() for p in (base, Path(f"{base}-wal")) if p.exists())

    return read


def swap(keys: Path, other: Path, names: tuple[str, ...] | None = None) -> None:
    for path in other.iterdir():
        if names is None or path.name in names:
            shutil.copyfile(path, keys / path.name)


def test_another_instances_keys_are_refused_and_nothing_is_written(used, instance_path, snapshot):
    keys, other = used
    before = snapshot()
    swap(keys, other)
    with pytest.raises(ForeignKeys) as err:
        create_app(dict(TEST_CONFIG), instance_path=str(instance_path))
    assert "属于另一个实例" in str(err.value) and "没有写入任何内容" in str(err.value)
    assert snapshot() == before

    # As an operator meets it: `flask audit verify` and `flask demo` exit with the message, writing nothing.
    env = {**os.environ, "SSJ_INSTANCE_PATH": str(instance_path)}
    for args in (["audit", "verify"], ["demo", "--if-empty"]):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode != 0 and "属于另一个实例" in done.stderr, done.stderr[-2000:]
    assert snapshot() == before


@pytest.mark.parametrize("name, says", [
    ("audit.key", "audit.key"),
    ("audit_signing.pem", "audit_signing.pem"),
    ("kek.key", "kek.key"),
])
def test_one_key_file_from_elsewhere_is_refused(used, instance_path, snapshot, name, says):
    keys, other = used
    before = snapshot()
    swap(keys, other, (name,))
    with pytest.raises(ForeignKeys) as err:
        create_app(dict(TEST_CONFIG), instance_path=str(instance_path))
    assert says in str(err.value)
    assert snapshot() == before


def test_the_right_keys_back_and_the_log_is_intact(used, instance_path):
    keys, other = used
    saved = {p.name: p.read_bytes() for p in keys.iterdir()}
    swap(keys, other)
    with pytest.raises(ForeignKeys):
        create_app(dict(TEST_CONFIG), instance_path=str(instance_path))
    for name, data in saved.items():
        (keys / name).write_bytes(data)
    app = create_app(dict(TEST_CONFIG), instance_path=str(instance_path))
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and result.output.startswith("OK"), result.output


def test_keys_swapped_under_a_running_app_are_refused_before_a_write(used, instance_path):
    keys, other = used
    app = create_app(dict(TEST_CONFIG), instance_path=str(instance_path))
    c = app.test_client()
    assert login(c, "staff_jc").status_code == 302
    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(AccessLogEntry)).scalar_one()
    swap(keys, other)
    r = c.get("/")
    assert r.status_code >= 500
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(AccessLogEntry)).scalar_one() == count
        db.engine.dispose()


@pytest.mark.skipif(CRYPTO_SUITE == "sm", reason="instances from before instance ids all use the intl suite")
def test_an_instance_from_before_instance_ids_is_adopted_by_init(used, app, instance_path):
    keys, _ = used
    with app.app_context():
        db.session.execute(db.text("DELETE FROM instance_identity"))
        db.session.commit()
        db.engine.dispose()
    (keys / "instance.json").unlink()
    app = create_app(dict(TEST_CONFIG), instance_path=str(instance_path))
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0 and "instance id ssj-" in result.output, result.output
    assert (keys / "instance.json").stat().st_mode & 0o777 == 0o600
    # From now on the pair is bound: the keys of another instance are refused.
    app = create_app(dict(TEST_CONFIG), instance_path=str(instance_path))
    assert app.config["SSJ_INSTANCE_ID"] in (keys / "instance.json").read_text()
    with app.app_context():
        db.engine.dispose()
