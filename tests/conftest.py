"""Fixtures: a migrated database with keys, copied fresh for each test.

Tests run against real SQLite files and real keys, with CSRF on.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from ssj import create_app
from ssj.extensions import db

from .browser_support import (  # noqa: F401  (fixtures, found by name)
    browser_context_args,
    browser_type_launch_args,
    live_instance,
    live_server,
    mark_browser_items,
)
from .factories import BY_ROLE, PASSWORD, seed_organisation

TEST_CONFIG = {"TESTING": True, "IMPORT_RUN_INLINE": True, "EXPORT_RUN_INLINE": True}

# SSJ_TEST_DATABASE=postgres runs the suite against PostgreSQL (see tests/postgres_support.py).
POSTGRES = os.environ.get("SSJ_TEST_DATABASE") == "postgres"
# SSJ_TEST_CRYPTO=sm builds the test instance with the 商用密码 suite (SM4-GCM, SM3; `flask init --crypto sm`).
CRYPTO_SUITE = os.environ.get("SSJ_TEST_CRYPTO", "intl")


def _build_template(path: Path) -> None:
    from flask_migrate import upgrade

    from ssj.audit.service import ensure_head
    from ssj.identity import adopt_identity
    from ssj.keys import create_keys

    create_keys(path / "keys", CRYPTO_SUITE)
    app = create_app(dict(TEST_CONFIG), instance_path=str(path))
    with app.app_context():
        upgrade()
        ensure_head()
        adopt_identity(path / "keys", app.extensions["ssj.keys"]())
        seed_organisation()
        db.session.commit()
        if not POSTGRES:
            db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres_cluster():
    if not POSTGRES:
        yield None
        return
    from .postgres_support import Cluster

    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def template_instance(tmp_path_factory, postgres_cluster) -> Path:
    path = tmp_path_factory.mktemp("template-instance")
    if postgres_cluster is None:
        _build_template(path)
        return path
    postgres_cluster.execute("CREATE DATABASE ssj_template")
    old = os.environ.get("SSJ_DATABASE_URL")
    os.environ["SSJ_DATABASE_URL"] = postgres_cluster.url("ssj_template")
    try:
        _build_template(path)
    finally:
        if old is None:
            os.environ.pop("SSJ_DATABASE_URL")
        else:
            os.environ["SSJ_DATABASE_URL"] = old
    return path


def cloned_database(postgres_cluster, template: str, monkeypatch):
    """A fresh PostgreSQL database cloned from `template` for one test (a generator for fixtures):
    SSJ_DATABASE_URL reaches every app the test creates, in this process or a spawned one."""
    name = postgres_cluster.take_clone(template)
    monkeypatch.setenv("SSJ_DATABASE_URL", postgres_cluster.url(name))
    yield name
    postgres_cluster.drop(name)


@pytest.fixture
def instance_path(template_instance, tmp_path, postgres_cluster, monkeypatch) -> Path:
    path = tmp_path / "instance"
    shutil.copytree(template_instance, path)
    if postgres_cluster is not None:
        for _ in cloned_database(postgres_cluster, "ssj_template", monkeypatch):
            yield path
        return
    yield path


@pytest.fixture
def database_bytes(instance_path, postgres_cluster):
    """database_bytes() -> what a copy of the database would hold: the SQLite file with its
    WAL, or a plain pg_dump of the test's PostgreSQL database (for grepping for secrets)."""

    def read() -> bytes:
        if postgres_cluster is None:
            return b"".join(p.read_bytes() for p in sorted(Path(instance_path).glob("*.sqlite3*")))
        return postgres_cluster.dump(os.environ["SSJ_DATABASE_URL"].rsplit("/", 1)[1])

    return read


@pytest.fixture
def app(instance_path):
    app = create_app(dict(TEST_CONFIG), instance_path=str(instance_path))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_of(client) -> str:
    """The CSRF token of the client's session (creating one with a GET if needed)."""
    with client.session_transaction() as s:
        token = s.get("csrf_token")
    if token is None:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return token


def login(client, username: str, password: str = PASSWORD):
    token = csrf_of(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def login_as(app):
    """login_as("staff") -> a test client signed in as the test user holding that role
    (or as the named user, e.g. login_as("staff_sb"))."""

    def make(who: str):
        c = app.test_client()
        username = BY_ROLE.get(who, who)
        r = login(c, username)
        assert r.status_code == 302, f"login as {username} failed"
        return c

    return make


def post(client, url: str, data: dict | None = None, **kw):
    """POST a plain form with the session's CSRF token."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_of(client))
    return client.post(url, data=data, **kw)


def loaded_version(client, url: str) -> str:
    """The row_version the form page at `url` carries ("" where it shows no form)."""
    found = re.search(r'name="row_version" value="(\d*)"', client.get(url).text)
    return found.group(1) if found else ""


def post_as_loaded(client, url: str, data: dict | None = None, **kw):
    """POST an edit form the way a person does: open the page first, send back its row_version."""
    return post(client, url, {"row_version": loaded_version(client, url), **(data or {})}, **kw)


def htmx_post(client, url: str, data: dict | None = None, **kw):
    """POST as htmx does: the token in the X-CSRF-Token header."""
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(client)}
    return client.post(url, data=data or {}, headers=headers, **kw)


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(reason): reads or edits the SQLite file itself; skipped on PostgreSQL")
    config.addinivalue_line("markers", "postgres_only(reason): the PostgreSQL variant of a sqlite_only test")


def pytest_collection_modifyitems(config, items):
    mark_browser_items(items)
    # Each backend skips the other's variant, saying why, so a pass never silently covers less.
    other = "postgres_only" if not POSTGRES else "sqlite_only"
    for item in items:
        marker = item.get_closest_marker(other)
        if marker is not None:
            why = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"{other.replace('_only', '')} only: {why}"))
