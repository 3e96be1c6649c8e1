"""ssj: the "双随机、一公开" random-inspection system of a county HRSS bureau."""
from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from flask import Flask, g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .config import Defaults
from .extensions import db, login_manager, migrate
from .filemodes import restrict_process
from .keys import KeyError_, KeyRing, missing_keys
from .security.uploads import InMemoryUploadRequest

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    # Before anything is written: every file this process creates is 0600, every directory 0700 (SPEC §4).
    restrict_process()
    app = Flask(
        __name__,
        instance_path=instance_path or os.environ.get("SSJ_INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.request_class = InMemoryUploadRequest  # uploads never touch the temp dir
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)

    # An explicit database in test_config wins over the environment: `backup verify`
    # restores into a temporary database from a process configured for the live one.
    if os.environ.get("SSJ_DATABASE_URL") and not (test_config or {}).get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["SSJ_DATABASE_URL"]
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "ssj.sqlite3")
    key_dir = Path(
        app.config.get("KEY_DIR") or os.environ.get("SSJ_KEY_DIR") or Path(app.instance_path) / "keys"
    )
    app.config["KEY_DIR"] = str(key_dir)

    _init_keys(app, key_dir)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    login_manager.session_protection = None  # our own server-side sessions do this job

    from . import models  # noqa: F401  (register the tables)
    from .audit import hooks as audit_hooks
    from .security import access, csrf, headers

    # Order matters: after_request functions run in reverse order of registration,
    # so the security headers are added last, also to a fail-closed error page.
    app.after_request(headers.set_security_headers)
    audit_hooks.init_app(app)
    app.before_request(csrf.protect)
    app.before_request(access.enforce)

    from . import errors

    errors.init_app(app)

    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .calendar_admin import bp as holidays_bp
    from .ceremony import bp as ceremony_bp
    from .directories import bp as directories_bp
    from .exports import bp as exports_bp
    from .imports import bp as imports_bp
    from .inspections import bp as inspections_bp
    from .main import bp as main_bp
    from .oversight import bp as oversight_bp
    from .plans import bp as plans_bp
    from .publication import bp as publication_bp
    from .public import bp as public_bp
    from .training import bp as training_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(directories_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(ceremony_bp)
    app.register_blueprint(inspections_bp)
    app.register_blueprint(public_bp, url_prefix="/public")
    app.register_blueprint(publication_bp)
    app.register_blueprint(oversight_bp)
    app.register_blueprint(holidays_bp)
    app.register_blueprint(training_bp)
    app.register_blueprint(exports_bp)

    from .custody import bp as custody_bp
    from .custody.routes import gate as sealed_gate

    app.register_blueprint(custody_bp)
    # First of all before_request functions: a sealed instance answers before
    # CSRF, access rules or any view can touch a key.
    app.before_request_funcs.setdefault(None, []).insert(0, sealed_gate)

    from . import cli, templating

    cli.init_app(app)
    templating.init_app(app)

    access.check_every_route_declared(app)
    from .oversight.flags import register_sealed_pages

    register_sealed_pages(access.sealed_pages(app))
    with app.app_context():
        if not _refuse_to_start_without_keys(app, key_dir):
            from .identity import refuse_foreign_keys

            ring = app.extensions["ssj.keys"]()
            # Sealed: the KEK is not here yet; it is checked against the data when unsealed.
            app.config["SSJ_INSTANCE_ID"] = refuse_foreign_keys(ring, str(key_dir), check_kek=not ring.sealed)
            if ring.sealed and os.environ.get("SSJ_CUSTODY_FD"):
                _receive_handover(app, ring)
                db.session.remove()
                db.engine.dispose()  # gunicorn --preload forks next: no connection may cross the fork
    return app


def _init_keys(app: Flask, key_dir: Path) -> None:
    @cache
    def load_version(version: tuple) -> KeyRing:
        ring = KeyRing.load(key_dir)
        expected = app.config.get("SSJ_INSTANCE_ID")
        if expected and ring.instance_id != expected:
            # Keys swapped under running workers: refuse before they sign or seal anything.
            from .identity import ForeignKeys

            raise ForeignKeys(
                f"密钥目录 {key_dir} 已被换成另一个实例（{ring.instance_id}）的密钥，本实例是 {expected}。"
                "请换回本实例的密钥并重启服务。"
            )
        return ring

    def load() -> KeyRing:
        # Reloaded when the key directory changes (a rotation by `flask keys rotate`
        # in another process), so running workers pick up the new KEK. Looked at once
        # per request: a page that logs a reference per drawn target asked the file
        # system every time.
        ring = g.get("_ssj_keyring") if has_request_context() else None
        if ring is None:
            try:
                version = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in key_dir.iterdir()))
            except FileNotFoundError:
                version = ()
            ring = load_version(version)
            if has_request_context():
                g._ssj_keyring = ring
        opened = app.extensions.get("ssj.unsealed")  # sealed mode: held in this process's memory only
        return ring.unsealed(opened) if ring.sealed and opened is not None else ring

    app.extensions["ssj.keys"] = load
    secret = key_dir / "secret_key"
    if app.config.get("SECRET_KEY") is None and secret.is_file():
        app.config["SECRET_KEY"] = secret.read_bytes()


def _receive_handover(app: Flask, ring: KeyRing) -> None:
    """`flask serve` unsealed in one process, then exec'd gunicorn (--preload) with the opened
    keys in an inherited pipe: read them once here, in the master, so every forked worker has
    them in memory and no file ever held them."""
    from .custody.service import receive

    fd = int(os.environ.pop("SSJ_CUSTODY_FD"))
    with os.fdopen(fd, "rb") as pipe:
        data = pipe.read()
    receive(app, ring, data)


def _refuse_to_start_without_keys(app: Flask, key_dir: Path) -> bool:
    """Data without keys is an installation error, never a reason to make new keys; True if keys are absent."""
    absent = missing_keys(key_dir)
    if not absent:
        return False
    from sqlalchemy import inspect, text

    try:
        if not inspect(db.engine).has_table("access_log"):
            return True
        has_data = db.session.execute(text("SELECT 1 FROM access_log LIMIT 1")).first() is not None
    finally:
        db.session.remove()
    if has_data:
        raise KeyError_(
            f"数据库中已有数据，但密钥文件缺失：{', '.join(absent)}（目录 {key_dir}）。"
            "请从备份恢复密钥后再启动；系统不会生成新密钥，否则已加密的数据和访问日志将无法核验。"
        )
    return True


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # WAL lets readers go on while one writer appends; busy_timeout makes
    # concurrent writers (several worker processes) wait instead of failing.
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
