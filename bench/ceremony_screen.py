"""Benchmark: a witness entry with and without the projector view open (SPEC §3, §9; Art 5, 6).

Run:  .venv/bin/python -m bench.ceremony_screen [--entries N] [--screens S] [--v1]
      .venv/bin/python -m bench.ceremony_screen --browser [--projector window|tab] [--v1]

Builds a throwaway demo county (`flask init` + `flask demo`, real SQLite,
real keys), serves it as `make run` does (gunicorn, 2 workers × 4
threads) on a free port, and walks the demo's planned task through the
ceremony as people would: the organiser freezes and commits, then N
witnesses enter their digits on the ceremony screen, each confirming
with their own password. An entry is timed as a browser sees it: the
POST and the ceremony page it redirects to. Entries are timed first with
no projector view open, then with S projector views polling their htmx
fragment every 3 s (the page's own interval). `--v1` posts the old form
(the organiser typing a name and digits), for the figures before
witnesses typed their own. Figures are printed, never asserted.

Baseline (issue #9, before this change): 1.3–2.3 s per entry with the
projector open, 0.2–0.4 s without it.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
ORGANISER = "jc_staff"
TASK_NAME = "禁止使用童工专项抽查（谭庄镇）"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(base: str, username: str, password: str) -> tuple[requests.Session, str]:
    s = requests.Session()
    token = _token(s.get(base + "/login").text)
    r = s.post(base + "/login", data={"username": username, "password": password, "csrf_token": token})
    r.raise_for_status()
    return s, _token(s.get(base + "/todo").text)


def projector(base: str, username: str, password: str, task_id: int, stop: threading.Event, polls: list) -> None:
    """One projector view: the full page once, then its fragment every 3 s, as htmx does."""
    s, _ = sign_in(base, username, password)
    url = f"{base}/tasks/{task_id}/draw/screen"
    s.get(url).raise_for_status()
    while not stop.is_set():
        t0 = time.perf_counter()
        r = s.get(url, headers={"HX-Request": "true"})
        polls.append(time.perf_counter() - t0)
        r.raise_for_status()
        stop.wait(3.0)


def browser_entries(base, password, task_id, witnesses, entries, projector_mode, v1):
    """(without, with) entry times in Chromium; the projector opened as `projector_mode`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.goto(base + "/login")
        page.fill("#username", ORGANISER)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.goto(f"{base}/tasks/{task_id}/draw")
        page.get_by_role("button", name=re.compile("冻结名单")).click()
        page.get_by_role("button", name="生成服务器随机数并公示承诺").click()

        def entry(who: str) -> float:
            if v1:
                page.get_by_label("见证人姓名").fill(who)
                page.get_by_label("单位或科室").fill("纪检监察室")
                button = "录入该见证人的数字"
            else:
                page.get_by_label("见证人用户名").fill(who)
                page.get_by_label("见证人本人密码").fill(password)
                button = "见证人确认身份并录入数字"
            page.get_by_label("掷骰得到的数字").fill("35")
            t = time.perf_counter()
            page.get_by_role("button", name=button).click()
            page.wait_for_load_state("load")
            if page.locator(".flash-error").count():
                raise SystemExit(page.locator(".flash-error").inner_text())
            return time.perf_counter() - t

        quiet = [entry(w) for w in witnesses[:entries]]
        if projector_mode == "window":
            with context.expect_page() as opened:
                page.get_by_role("link", name=re.compile("投影大屏")).click()
            screen = opened.value
            if screen.evaluate("window.opener === null"):
                raise SystemExit("the projector view did not open in a window of its own")
        else:
            screen = context.new_page()  # a new tab, in front
            screen.goto(f"{base}/tasks/{task_id}/draw/screen")
        screen.wait_for_selector("#screen")
        time.sleep(3.5)  # open and polling
        busy = []
        for w in witnesses[entries : 2 * entries]:
            busy.append(entry(w))
            time.sleep(1.0)
        browser.close()
        return quiet, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=6, help="witness entries per phase")
    parser.add_argument("--screens", type=int, default=1, help="projector views open in the second phase")
    parser.add_argument("--v1", action="store_true", help="the old form: the organiser types name and digits")
    parser.add_argument("--browser", action="store_true", help="time entries in Chromium instead of over HTTP")
    parser.add_argument("--projector", choices=("window", "tab"), default="window",
                        help="--browser: open the projector view in its own window (the link) or as a tab in front")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from ssj.demo import DEMO_PASSWORD as password
    from ssj.demo import USERS as DEMO_USERS

    witnesses = [u.username for u in DEMO_USERS if u.username not in (ORGANISER, "admin")][: 2 * args.entries]
    tmp = Path(tempfile.mkdtemp(prefix="ssj-bench-screen-"))
    env = {**os.environ, "SSJ_INSTANCE_PATH": str(tmp / "instance")}
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    t0 = time.perf_counter()
    for cmd in (["init"], ["demo", "--if-empty"]):
        subprocess.run(flask + cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    print(f"setup: demo county in {time.perf_counter() - t0:.1f} s (not timed)")
    port = _free_port()
    log = open(tmp / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}", "app:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    polls: list[float] = []
    try:
        for _ in range(300):
            try:
                requests.get(base + "/login", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        staff, token = sign_in(base, ORGANISER, password)
        tasks = staff.get(base + "/tasks").text
        task_id = int(re.search(r'href="/tasks/(\d+)"[^>]*>[^<]*' + re.escape(TASK_NAME), tasks).group(1))
        if args.browser:
            quiet, busy = browser_entries(base, password, task_id, witnesses, args.entries, args.projector, args.v1)
        else:
            quiet, busy = http_entries(base, staff, token, password, task_id, witnesses, args, polls)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    def line(label, xs):
        ms = sorted(x * 1000 for x in xs)
        print(f"{label:<44} n={len(ms):<3} median {statistics.median(ms):7.1f} ms   min {ms[0]:7.1f}   max {ms[-1]:7.1f}")

    form = "v1 form (organiser types)" if args.v1 else "witness's own password"
    where = f"Chromium, projector as {args.projector}" if args.browser else "HTTP, POST + redirected page"
    print(f"witness entry, {form}; {where}")
    line("without the projector view", quiet)
    line("with the projector view open and polling", busy)
    if polls:
        line("projector fragment poll", polls)
    print("baseline (issue #9): 200–400 ms without, 1300–2300 ms with the projector view")


def http_entries(base, staff, token, password, task_id, witnesses, args, polls):
    """(without, with) entry times over plain HTTP; S projector views poll in threads."""
    draw = f"{base}/tasks/{task_id}/draw"
    for step, attempt in (("freeze", "new"), ("commit", "1")):
        r = staff.post(f"{draw}/{step}", data={"csrf_token": token, "attempt": attempt})
        assert r.status_code == 200 and "flash-error" not in r.text, r.text[:2000]

    def entry(who: str) -> float:
        data = {"csrf_token": token, "attempt": "1", "digits": "35"}
        if args.v1:
            data.update(name=who, affiliation="纪检监察室", external="on")
        else:
            data.update(username=who, password=password)
        t = time.perf_counter()
        r = staff.post(f"{draw}/witnesses", data=data)  # follows the redirect to the ceremony page
        elapsed = time.perf_counter() - t
        assert r.status_code == 200 and "flash-error" not in r.text, r.text[:3000]
        return elapsed

    quiet = [entry(w) for w in witnesses[: args.entries]]
    stop = threading.Event()
    screens = [
        threading.Thread(target=projector, args=(base, "leader", password, task_id, stop, polls), daemon=True)
        for _ in range(args.screens)
    ]
    for t in screens:
        t.start()
    time.sleep(3.5)  # the views are open and polling
    busy = []
    for w in witnesses[args.entries : 2 * args.entries]:
        busy.append(entry(w))
        time.sleep(1.0)  # people need a moment between witnesses
    stop.set()
    for t in screens:
        t.join()
    return quiet, busy


if __name__ == "__main__":
    main()
