"""Migrations that upgrade: the models and the migrations agree, and an instance at the
previous revision (or made before 0001 was frozen) upgrades to head keeping its data.

`0001` is the released baseline and is never edited; every schema change is a new
revision (docs/architecture.md, "Changing the schema").
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import func, inspect, select, text

from ssj import create_app
from ssj.extensions import db

from ..conftest import TEST_CONFIG, login

HERE = Path(__file__).parent


def schema_diff() -> list:
    """What `flask db migrate` would write: the models against the database as migrated.

    Types and server defaults are compared too. Nothing is filtered out: on both
    backends the migrations reproduce the models exactly, so any entry is a real
    disagreement (a model changed without a migration, or a migration that does
    something the models do not say)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, db.metadata)


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def test_models_and_migrations_agree(app):
    with app.app_context():
        assert schema_diff() == []


def test_one_head_and_baseline_untouched(app):
    with app.app_context():
        script = script_directory()
        assert len(script.get_heads()) == 1, "two revisions share a parent: re-point yours to main's head"
        base = script.get_revision("0001")
        assert base.down_revision is None
        for rev in script.walk_revisions():
            assert rev.revision == "0001" or re.fullmatch(r"\d{4}_[a-z0-9_]+", rev.revision), rev.revision


def _fresh_app(path: Path, postgres_cluster, monkeypatch, name: str):
    from ssj.keys import create_keys

    if postgres_cluster is not None:
        postgres_cluster.execute(f"CREATE DATABASE {name}")
        monkeypatch.setenv("SSJ_DATABASE_URL", postgres_cluster.url(name))
    create_keys(path / "keys")
    return create_app(dict(TEST_CONFIG), instance_path=str(path))


def _row_counts() -> dict[str, int]:
    names = inspect(db.engine).get_table_names()
    return {n: db.session.scalar(select(func.count()).select_from(db.metadata.tables[n]))
            for n in names if n in db.metadata.tables}


@pytest.mark.slow
def test_previous_revision_with_data_upgrades_to_head(tmp_path, postgres_cluster, monkeypatch):
    """The demo county (every stage of a task) written at head, taken down to the revision
    before head, then upgraded again: every row is still there, the log chain verifies, pages work.

    Written against whatever the previous revision is, so it keeps testing the newest one."""
    from flask_migrate import downgrade, upgrade

    from ssj.audit.service import ensure_head
    from ssj.demo import load_demo

    app = _fresh_app(tmp_path / "inst", postgres_cluster, monkeypatch, "ssj_upgrade")
    with app.app_context():
        upgrade()
        ensure_head()
        load_demo(target_count=200)
        db.session.commit()
        before = _row_counts()
        head = script_directory().get_current_head()
        previous = script_directory().get_revision(head).down_revision
        assert previous is not None
        db.session.remove()
        downgrade(revision=previous)
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == previous
        upgrade()
        after = _row_counts()
        assert after == before
        assert schema_diff() == []
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 0, result.output
        db.session.remove()

    pages = {
        "jc_staff": ["/", "/todo", "/tasks", "/matters", "/targets", "/inspectors", "/conflicts", "/my/exports"],
        "jc_head": ["/todo", "/plans", "/inspections"],
        "jc_insp1": ["/my/inspections"],
        "leader": ["/oversight/dashboard"],
        "jijian": ["/discipline", "/discipline/flags"],
        "admin": ["/admin/users"],
    }
    from ssj.demo import DEMO_PASSWORD

    for username, urls in pages.items():
        client = app.test_client()
        assert login(client, username, DEMO_PASSWORD).status_code == 302
        for url in urls:
            r = client.get(url, follow_redirects=True)
            assert r.status_code == 200, (username, url, r.status_code)
        if username == "jc_staff":
            tasks = sorted(set(re.findall(r'href="(/tasks/\d+)"', client.get("/tasks").text)))
            assert tasks
            for url in tasks:
                assert client.get(url).status_code == 200, url
    with app.app_context():
        db.engine.dispose()


def _run_pre_baseline_0001(conn) -> None:
    spec = importlib.util.spec_from_file_location("pre_baseline_0001", HERE / "pre_baseline_0001_60ab5fd.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with Operations.context(MigrationContext.configure(conn, opts={"render_as_batch": True})):
        module.upgrade()
    conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    conn.execute(text("INSERT INTO alembic_version VALUES ('0001')"))


def test_instance_made_before_the_baseline_was_frozen_upgrades(tmp_path, postgres_cluster, monkeypatch):
    """An instance made by commit 60ab5fd reports 0001 but lacks tables and columns that 0001
    now creates (the issue: `db upgrade` exited 0, then `no such table: export_job`).
    `flask init` completes it, keeping its rows."""
    app = _fresh_app(tmp_path / "old", postgres_cluster, monkeypatch, "ssj_prebaseline")
    stamp = "2026-11-27 22:00:00"
    with app.app_context():
        with db.engine.begin() as conn:
            _run_pre_baseline_0001(conn)
            conn.execute(text("INSERT INTO department (id, code, name) VALUES (1, 'RSJ', '县人社局')"))
            conn.execute(text("INSERT INTO section (id, department_id, code, name) VALUES (1, 1, 'JCDD', '监察大队')"))
            conn.execute(text(
                "INSERT INTO matter (id, code, name, legal_basis, content, ratio_percent, frequency, method,"
                " section_id, status, version, updated_at) VALUES (1, 'M-1', '工资支付检查', '条例', '内容', 5,"
                f" 1, 'onsite', 1, 'active', 3, '{stamp}')"))
            conn.execute(text(
                "INSERT INTO \"user\" (id, username, display_name, password_hash, department_id, section_id, enabled,"
                f" failed_logins, password_changed_at, created_at) VALUES (1, 'old', '老用户', 'x', 1, 1, true, 0,"
                f" '{stamp}', '{stamp}')"))
            conn.execute(text(
                "INSERT INTO import_job (id, token, kind, user_id, department_id, filename, file_sha256, state,"
                " rows_total, rows_done, created, updated, unchanged, errors_json, error_count, started_at,"
                f" finished_at) VALUES (1, 'tok', 'targets', 1, 1, 'a.xlsx', 'ab', 'done', 10, 10, 8, 0, 0,"
                f" '[[3, \"bad\"]]', 2, '{stamp}', '{stamp}')"))
        assert "export_job" not in inspect(db.engine).get_table_names()

        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output

        assert "export_job" in inspect(db.engine).get_table_names()
        row = db.session.execute(text("SELECT name, version, documents FROM matter WHERE id = 1")).one()
        assert tuple(row) == ("工资支付检查", 3, "")
        job = db.session.execute(text(
            "SELECT valid_rows, accept_valid_subset, updated_at, errors_json FROM import_job WHERE id = 1")).one()
        assert job.valid_rows == 8 and not job.accept_valid_subset
        assert str(job.updated_at).startswith("2026-11-27 22:00:00")
        assert job.errors_json == '[[3, "bad"]]'  # kept: nothing is dropped with data in it
        # The one difference left on purpose: the old column that still holds data.
        diff = schema_diff()
        assert [(d[0], d[2], d[3].name) for d in diff] == [("remove_column", "import_job", "errors_json")]
        db.session.remove()
        db.engine.dispose()
