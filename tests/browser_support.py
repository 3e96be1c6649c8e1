"""Support for browser tests (fixtures re-exported by tests/conftest.py): real Chromium (Debian's /usr/bin/chromium) driving a real
server (gunicorn, two worker processes) on a free port.

Without Chromium the tests are skipped with a loud message, unless
SSJ_REQUIRE_BROWSER=1 (set by .ci/run), where its absence is a failure.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SSJ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def mark_browser_items(items) -> None:
    """Called from tests/conftest.py: skip loudly without Chromium, or fail in CI."""
    browser_items = [
        i for i in items
        if "tests/browser/" in str(i.fspath).replace(os.sep, "/") or i.get_closest_marker("browser")
    ]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    if browser_items and not Path(CHROMIUM).exists():
        if os.environ.get("SSJ_REQUIRE_BROWSER") == "1":
            raise pytest.UsageError(f"SSJ_REQUIRE_BROWSER=1 but Chromium is missing at {CHROMIUM}")
        message = (
            f"\n{'!' * 72}\n!! Chromium not found at {CHROMIUM}: SKIPPING {len(browser_items)} BROWSER TESTS.\n"
            f"!! Install it with: apt-get install -y chromium\n{'!' * 72}\n"
        )
        warnings.warn(message)
        sys.stderr.write(message)
        skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}")
        for item in browser_items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_instance(template_instance, tmp_path) -> Path:
    """The instance directory the live server will use; seed it before asking for live_server."""
    instance = tmp_path / "live-instance"
    shutil.copytree(template_instance, instance)
    return instance


@pytest.fixture
def live_server(live_instance, tmp_path):
    """A gunicorn server on a copy of the test instance; yields its base URL."""
    instance = live_instance
    port = _free_port()
    env = {**os.environ, "SSJ_INSTANCE_PATH": str(instance)}
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4",
         "--bind", f"127.0.0.1:{port}", "app:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # generous: a loaded CI machine starts gunicorn slowly
        while True:
            try:
                urllib.request.urlopen(base + "/login", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError((tmp_path / "server.log").read_text(errors="replace"))
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(base + "/todo")
