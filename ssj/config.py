"""Configuration defaults. Local overrides live in instance/config.py.

Secrets never have a default here: the session secret and the keys are
created by `flask --app app init` under instance/ (mode 0600) or come from
the environment.
"""
from datetime import timedelta


class Defaults:
    # Database: SQLite in instance/ unless SSJ_DATABASE_URL or instance/config.py says otherwise.
    SQLALCHEMY_DATABASE_URI = None  # filled in by the factory
    # Bound parameters never reach error messages or SQL echo: the draw looks
    # drawn targets up by credit code, and a logged traceback must not name them.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"hide_parameters": True}

    # Sessions (SPEC §1): idle and absolute limits enforced server-side.
    IDLE_TIMEOUT = timedelta(minutes=30)
    ABSOLUTE_TIMEOUT = timedelta(hours=8)
    SESSION_COOKIE_NAME = "ssj_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Strict"
    SESSION_COOKIE_SECURE = False  # set True behind HTTPS in instance/config.py
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)

    # Login lockout.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT = timedelta(minutes=15)
    PASSWORD_MIN_LENGTH = 12  # characters; a Chinese character counts as one (SPEC §4)

    # Access log: sign a checkpoint every this many entries.
    AUDIT_CHECKPOINT_INTERVAL = 500
    # Verifying: a log of at least this many entries is split across up to
    # AUDIT_VERIFY_PROCESSES processes (None: one per available CPU), each
    # checking a range of it; the verdict is the same as one process's.
    AUDIT_VERIFY_PARALLEL_FROM = 200_000
    AUDIT_VERIFY_PROCESSES = None

    # Imports.
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    IMPORT_RUN_INLINE = False  # tests run imports in the request thread
    # Bounds on reading an uploaded .xlsx (fields of ssj.imports.bounded.Limits,
    # e.g. {"rows": 300_000}); the defaults refuse zip bombs within seconds.
    IMPORT_LIMITS: dict = {}
    # Imports reading at once, in all; one person has at most one running, the rest queue.
    IMPORT_MAX_RUNNING = 2
    # Finished import jobs and their row errors are deleted this long after they started.
    IMPORT_KEEP_JOBS = timedelta(days=30)

    # A JSON file uploaded for checking (the discipline office's checkpoint file).
    JSON_UPLOAD_MAX_BYTES = 16 * 1024 * 1024

    PAGE_SIZE = 25

    # Art 5: the 劳动保障监察大队 leads the draw of every section's task; its
    # section code in the task's department (ssj.ceremony.policy).
    DRAW_LEAD_SECTION_CODE = "JCDD"
    DISPLAY_TIMEZONE = "Asia/Shanghai"
