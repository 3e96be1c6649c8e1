"""The instance directory, database, keys, uploads and exports are the service account's alone
(SPEC §4 "Files": 0700 directories, 0600 files; issue 10 found the database 0644 and instance/ 0755).
Backups: tests/sealing/test_backup.py checks theirs."""
from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from ssj import create_app
from tests.conftest import TEST_CONFIG, login, post
from tests.inspections.conftest import build_drawn, record_url, submit

PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"mode-test" * 50


def modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for p in root.rglob("*"):
        if not p.is_symlink():
            out[p.relative_to(root).as_posix()] = stat.S_IMODE(p.stat().st_mode)
    return out


def loose(root: Path) -> None:
    """What an older instance or an unpacked copy may look like."""
    os.chmod(root, 0o755)
    for p in root.rglob("*"):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)


@pytest.mark.sqlite_only("the SQLite file lives in the instance directory")
def test_init_restricts_an_existing_instance_to_the_service_account(instance_path):
    root = Path(instance_path)
    (root / "exports").mkdir(exist_ok=True)
    (root / "exports" / "old.xlsx").write_bytes(b"left from before")
    loose(root)
    assert modes(root)["ssj.sqlite3"] == 0o644
    app = create_app(dict(TEST_CONFIG), instance_path=str(root))
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    found = modes(root)
    wrong = {name: oct(mode) for name, mode in found.items()
             if mode != (0o700 if (root / name).is_dir() else 0o600)}
    assert not wrong, wrong
    assert "restricted" in result.output


def test_an_upload_and_the_database_it_changes_stay_private_whatever_the_starting_umask(instance_path):
    old = os.umask(0o022)  # a typical login shell's umask: files 0644 unless the app sees to it
    try:
        app = create_app(dict(TEST_CONFIG), instance_path=str(instance_path))

        def login_as(username):
            c = app.test_client()
            assert login(c, {"staff": "staff_jc"}.get(username, username)).status_code == 302
            return c

        drawn = build_drawn(app, login_as)
        p = drawn.own_position()
        me = login_as("inspector_jc")
        assert submit(me, drawn, p).status_code == 302
        r = post(me, record_url(drawn.task_id, p, "evidence"), {"file": (io.BytesIO(PHOTO), "现场.png"), "note": ""},
                 content_type="multipart/form-data")
        assert r.status_code == 302, r.text
    finally:
        os.umask(old)
    root = Path(instance_path)
    evidence = [p for p in (root / "evidence").rglob("*") if p.is_file()]
    assert evidence
    assert {stat.S_IMODE(p.stat().st_mode) for p in evidence} == {0o600}
    assert {stat.S_IMODE(d.stat().st_mode) for d in (root / "evidence").rglob("*") if d.is_dir()} <= {0o700}
    assert stat.S_IMODE((root / "evidence").stat().st_mode) == 0o700
    for db_file in root.glob("ssj.sqlite3*"):  # the database and SQLite's WAL and shared-memory files
        assert stat.S_IMODE(db_file.stat().st_mode) == 0o600, db_file.name
