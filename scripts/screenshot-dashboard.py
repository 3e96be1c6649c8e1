"""Take docs/dashboard.png: the oversight dashboard 监管看板 of the demo county, as its leader sees it (SPEC §8).

Run:  .venv/bin/python scripts/screenshot-dashboard.py [--out docs/dashboard.png] [--year 2026]

Everything is real and thrown away afterwards: a fresh temporary instance
(`flask init` + `flask demo`, its own keys and SQLite file), gunicorn on a
free port, and Chromium (/usr/bin/chromium) driven by Playwright, signing in
as the demo's 局领导 with the demo password. The page is captured whole at
1280 px wide.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SSJ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flask(env: dict, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def _leader() -> tuple[str, str]:
    sys.path.insert(0, str(ROOT))
    from ssj.demo import DEMO_PASSWORD, demo_logins

    username = next(u for u, role, _where in demo_logins() if role == "局领导")
    return username, DEMO_PASSWORD


def _wait_for(base: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(base + "/login", timeout=1)
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "dashboard.png"))
    parser.add_argument("--year", type=int, help="the dashboard's year (default: the current year)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    username, password = _leader()
    tmp = Path(tempfile.mkdtemp(prefix="ssj-screenshot-"))
    env = {**os.environ, "SSJ_INSTANCE_PATH": str(tmp / "instance")}
    env.pop("SSJ_DATABASE_URL", None)  # always a fresh SQLite file, never someone's database
    proc = None
    try:
        started = time.perf_counter()
        _flask(env, "init")
        _flask(env, "demo")
        print(f"demo loaded into {tmp} in {time.perf_counter() - started:.0f} s", flush=True)
        port = _free_port()
        log = tmp / "server.log"
        with open(log, "wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "2",
                 "--bind", f"127.0.0.1:{port}", "app:app"],
                cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        _wait_for(base, proc, log)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                    timezone_id="Asia/Shanghai")
            page.goto(base + "/login")
            page.get_by_label("用户名").fill(username)
            page.get_by_label("密码").fill(password)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url(base + "/todo")
            url = base + "/oversight/dashboard" + (f"?year={args.year}" if args.year else "")
            response = page.goto(url)
            if response is None or response.status != 200:
                raise SystemExit(f"the dashboard answered {response.status if response else 'nothing'}")
            page.wait_for_selector("#dashboard svg.chart")
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
            browser.close()
        print(f"saved {out} (signed in as {username})")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
