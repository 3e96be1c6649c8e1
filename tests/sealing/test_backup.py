"""Backups restore everything (SPEC §4; issue 12): database, evidence and exports, never keys;
restored into a fresh instance the evidence downloads, the log verifies and a sealed list opens."""
from __future__ import annotations

import io
import os
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select

from ssj import create_app
from ssj.extensions import db
from ssj.models import EvidenceFile
from tests.conftest import POSTGRES, TEST_CONFIG, login, post
from tests.inspections.conftest import build_drawn, record_url, submit

PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + "备份测试照片-唯一内容-51c0".encode() * 40


def fresh_database(postgres_cluster, tmp: Path) -> str:
    """The URI of an empty database for a restored instance."""
    if postgres_cluster is None:
        return "sqlite:///" + str(tmp / "ssj.sqlite3")
    name = f"restored_{secrets.token_hex(4)}"
    postgres_cluster.execute(f"CREATE DATABASE {name}")
    return postgres_cluster.url(name)


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def upload_photo(app, login_as, drawn) -> tuple[int, str]:
    p = drawn.own_position()
    me = login_as("inspector_jc")
    submit(me, drawn, p)
    r = post(me, record_url(drawn.task_id, p, "evidence"), {"file": (io.BytesIO(PHOTO), "现场.png"), "note": ""},
             content_type="multipart/form-data")
    assert r.status_code == 302, r.text
    with app.app_context():
        return p, db.session.execute(select(EvidenceFile.id)).scalar_one()


@pytest.fixture
def drawn(app, login_as):
    return build_drawn(app, login_as)


@pytest.fixture
def backed_up(app, login_as, drawn, tmp_path):
    position, evidence_id = upload_photo(app, login_as, drawn)
    result = run(app, "backup", str(tmp_path / "backup"))
    assert result.exit_code == 0, result.output
    result = run(app, "keys", "export", str(tmp_path / "keys-offline"))
    assert result.exit_code == 0, result.output
    return tmp_path / "backup", tmp_path / "keys-offline", position, evidence_id


def test_backup_holds_database_evidence_and_manifest_but_no_key(app, backed_up, instance_path):
    backup, offline, _, _ = backed_up
    files = [p for p in backup.rglob("*") if p.is_file()]
    names = {p.relative_to(backup).as_posix().split("/")[0] for p in files}
    assert names == {"manifest.json", "database.pgdump" if POSTGRES else "database.sqlite3", "evidence"}
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files)
    assert all(p.stat().st_mode & 0o777 == 0o700 for p in [backup, *backup.rglob("*")] if p.is_dir())
    keys = [p.read_bytes() for p in (Path(instance_path) / "keys").iterdir()]
    everything = b"".join(p.read_bytes() for p in files)
    for key in keys:
        assert key not in everything
    # The offline key copy holds them all, privately.
    assert sorted(p.read_bytes() for p in offline.iterdir() if p.name != "manifest.json") == sorted(keys)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in offline.iterdir())


def test_restore_into_a_fresh_instance_restores_everything(app, backed_up, drawn, tmp_path, postgres_cluster):
    backup, offline, position, evidence_id = backed_up
    fresh = tmp_path / "fresh"
    config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": fresh_database(postgres_cluster, fresh)}
    restored = create_app(dict(config), instance_path=str(fresh))
    result = run(restored, "restore", str(backup), "--keys", str(offline))
    assert result.exit_code == 0, result.output
    # A new process, as after a restart: the restored keys and database.
    restored = create_app(dict(config), instance_path=str(fresh))

    result = run(restored, "audit", "verify")
    assert result.exit_code == 0 and result.output.startswith("OK"), result.output

    inspector = restored.test_client()
    assert login(inspector, "inspector_jc").status_code == 302
    r = inspector.get(record_url(drawn.task_id, position, f"evidence/{evidence_id}"))
    assert r.status_code == 200 and r.data == PHOTO

    staff = restored.test_client()
    assert login(staff, "staff_jc").status_code == 302
    page = staff.get(f"/tasks/{drawn.task_id}/list")
    assert page.status_code == 200
    assert drawn.name_of(position) in page.text
    with restored.app_context():
        db.engine.dispose()


def test_restore_refuses_a_database_with_data_and_writes_nothing(app, backed_up, instance_path):
    backup, _, _, _ = backed_up
    before = sorted(p.name for p in (Path(instance_path) / "evidence").iterdir())
    result = run(app, "restore", str(backup))
    assert result.exit_code == 2 and "已有数据" in result.output
    assert sorted(p.name for p in (Path(instance_path) / "evidence").iterdir()) == before


def test_backup_verify_passes_then_fails_on_one_altered_evidence_file(app, backed_up):
    backup, _, _, _ = backed_up
    result = run(app, "backup", "verify", str(backup))
    assert result.exit_code == 0, result.output
    assert "1/1 个证据文件" in result.output and "访问日志链完整" in result.output

    photo = next((backup / "evidence").iterdir())
    data = bytearray(photo.read_bytes())
    data[-1] ^= 1
    os.chmod(photo, 0o600)
    photo.write_bytes(bytes(data))
    result = run(app, "backup", "verify", str(backup))
    assert result.exit_code == 1
    assert f"evidence/{photo.name}" in result.output and "BROKEN" in result.output
    # Also when the manifest is rewritten to match: decrypting the file finds the change.
    import json

    manifest = json.loads((backup / "manifest.json").read_text())
    import hashlib

    manifest["files"][f"evidence/{photo.name}"]["sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    (backup / "manifest.json").write_text(json.dumps(manifest))
    result = run(app, "backup", "verify", str(backup))
    assert result.exit_code == 1 and "无法解密" in result.output, result.output


def test_backup_refuses_a_destination_that_is_not_empty(app, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x").write_text("kept")
    result = run(app, "backup", str(tmp_path / "old"))
    assert result.exit_code == 2 and "不为空" in result.output
    assert (tmp_path / "old" / "x").read_text() == "kept"
