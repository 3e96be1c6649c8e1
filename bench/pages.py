"""Benchmark of the main pages under load, beside the minimal audited request (issue #15).

Run:  .venv/bin/python -m bench.pages [--seconds 5] [--rounds 3] [--connections 32] [--backend sqlite|postgres|both]

For each backend: a throw-away instance (real keys, `flask init`, the demo
county of `flask demo`, so every page has real data behind it), served by
gunicorn exactly as `make run` serves it (2 workers × 4 threads, on a free
port) from `bench.pages_app` — the app plus `/bench/minimal`, the floor:
session lookup, one hash-chained log entry, commit, a small template. Each
URL is driven by `wrk` with 32 connections as the section head 张伟
(jc_head, who may read the sealed list and the records). The pages are
/todo, a task page, the sealed list, an inspection record and a directory
search. Printed: requests/s of each, and its ratio to the minimal request
measured in the same run (goal ≥ 0.5). PostgreSQL runs on a throw-away
cluster (tests/postgres_support.py). Nothing is asserted.

The machine may be shared: the ratios, measured back to back, say more
than the absolute figures. After `wrk`, `bench/pages_cpu.py` asks the same
pages in one process and prints the CPU time each request costs (its own
process only, so other programs' load does not count) and its SQL
statements: on a machine shared with other work, that ratio is the steady
one.

Measured (issue #15), `.venv/bin/python -m bench.pages --backend both`, on
the idle 2-core machine (load 1-4, the bench's own), at 3cbf235:

  page               SQLite req/s (× min)   CPU ms (× min)   PostgreSQL req/s (× min)   CPU ms (× min)
  minimal            63.0                    11.2             43.2                        14.9
  /todo              57.5 (0.91)             21.7 (0.52)      43.7 (1.01)                 30.2 (0.49)
  task page          60.9 (0.97)             19.0 (0.59)      45.5 (1.05)                 25.5 (0.58)
  sealed list        62.9 (1.00)             19.8 (0.57)      48.5 (1.12)                 26.0 (0.57)
  inspection record  56.1 (0.89)             22.1 (0.51)      39.9 (0.92)                 30.3 (0.49)
  directory search   53.4 (0.85)             28.5 (0.39)      31.3 (0.72)                 30.5 (0.49)

Every page serves at ≥ 0.5 × the floor's requests/s on both engines. In
this run the floor and the pages landed near the same rate; served by hand
(gunicorn 2 × 4 on another demo instance, wrk 8 s) the floor reached 86-111
req/s and /todo 43-50, in proportion to their CPU. The rates depend on the
run: read the ratios of one run, not rates across runs. One process's CPU
per request is the stricter figure: the directory search (a substring count
over the county's 3,000 targets, the filter menus) costs 2.5 × the floor
on SQLite, where the database's work is in the same process.

Before the rounds were interleaved (one 10 s run per page, the floor first),
two runs of the same code gave the floor 104 and 125 req/s and /todo 0.32
and 0.58 of it: a slow spell of the machine fell on one page's only figure.
Earlier figures, at load 12-17: docs/performance.md.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
USER = "jc_head"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(env: dict, *args: str) -> None:
    subprocess.run([str(VENV / "flask"), "--app", "bench.pages_app", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def page_urls(env: dict) -> dict[str, str]:
    """The pages to measure, with real ids from the demo county."""
    code = r"""
import json
from sqlalchemy import select
from ssj import create_app
from ssj.extensions import db
from ssj.models import InspectionRecord, Section, Task
app = create_app()
with app.app_context():
    jc = db.session.execute(select(Section.id).where(Section.code == "JCDD")).scalar_one()
    rec = db.session.execute(select(InspectionRecord).join(Task, InspectionRecord.task_id == Task.id)
                             .where(Task.section_id == jc, Task.status == "inspecting")
                             .order_by(InspectionRecord.id)).scalars().first()
    print(json.dumps({"task": rec.task_id, "position": rec.position}))
"""
    out = subprocess.run([str(VENV / "python"), "-c", code], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout.strip().splitlines()[-1]
    ids = json.loads(out)
    t, p = ids["task"], ids["position"]
    return {
        "minimal audited request": "/bench/minimal",
        "/todo": "/todo",
        "task page": f"/tasks/{t}",
        "sealed list": f"/tasks/{t}/list",
        "inspection record": f"/tasks/{t}/positions/{p}/record",
        "directory search": "/targets?q=" + urllib.parse.quote("商水县"),
    }


def sign_in(base: str) -> str:
    """A session cookie for USER, through the real login form (CSRF included)."""
    from ssj.demo import DEMO_PASSWORD

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"username": USER, "password": DEMO_PASSWORD, "csrf_token": token}).encode()
    opener.open(base + "/login", data)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(url: str, cookie: str, seconds: int, connections: int) -> tuple[float, int]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", f"Cookie: {cookie}", url],
        capture_output=True, text=True, check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rate, int(bad.group(1)) if bad else 0


def wait_for(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            urllib.request.urlopen(base + "/login", timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer")


def run_backend(name: str, database_url: str | None, seconds: int, connections: int,
                rounds: int) -> list[tuple[str, float, int, float, float, float, int]]:
    tmp = Path(tempfile.mkdtemp(prefix=f"ssj-bench-pages-{name}-"))
    env = {**os.environ, "SSJ_INSTANCE_PATH": str(tmp), "PYTHONPATH": str(ROOT)}
    if database_url:
        env["SSJ_DATABASE_URL"] = database_url
    try:
        t = time.perf_counter()
        flask(env, "init")
        flask(env, "demo")
        print(f"[{name}] instance with the demo county ready in {time.perf_counter() - t:.0f} s")
        urls = page_urls(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(VENV / "gunicorn"), "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}",
             "bench.pages_app:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            wait_for(base, server)
            cookie = sign_in(base)
            for path in urls.values():
                wrk(base + path, cookie, 2, connections)  # warm up: templates compiled, caches filled
            # Round after round, every page and the floor in turn: a slow spell of the
            # machine then costs one sample of each page, not one page's only figure.
            rates: dict[str, list[float]] = {label: [] for label in urls}
            bad = dict.fromkeys(urls, 0)
            for _ in range(rounds):
                for label, path in urls.items():
                    rate, failed = wrk(base + path, cookie, seconds, connections)
                    rates[label].append(rate)
                    bad[label] += failed
            results = [(label, statistics.median(rates[label]), bad[label], min(rates[label]), max(rates[label]))
                       for label in urls]
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        from ssj.demo import DEMO_PASSWORD

        out = subprocess.run([str(VENV / "python"), "-m", "bench.pages_cpu", json.dumps(urls), USER, DEMO_PASSWORD],
                             cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
        cpu = json.loads(out.strip().splitlines()[-1])
        return [(label, rate, failed, low, high, *cpu[label]) for label, rate, failed, low, high in results]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(name: str, results: list[tuple[str, float, int, float, float, float, int]]) -> None:
    floor, floor_cpu = results[0][1], results[0][5]
    print(f"\n{name}: requests/s with {ARGS.connections} connections, 2 workers × 4 threads, the median of "
          f"{ARGS.rounds} rounds of {ARGS.seconds} s (lowest–highest); CPU ms per request in one process "
          f"(bench/pages_cpu.py) (goal: each page ≥ 0.5 × the minimal audited request)")
    print(f"  {'page':<26}{'req/s':>9}{'(range)':>15}{'× minimal':>11}{'non-2xx':>9}{'CPU ms':>9}{'× minimal':>11}"
          f"{'SQL':>5}")
    for label, rate, bad, low, high, cpu, sql in results:
        mark = "" if label == results[0][0] else ("  ok" if rate >= 0.5 * floor else "  BELOW GOAL")
        spread = f"{low:.0f}–{high:.0f}"
        print(f"  {label:<26}{rate:>9.1f}{spread:>15}{rate / floor:>11.2f}{bad:>9}{cpu:>9.1f}{floor_cpu / cpu:>11.2f}"
              f"{sql:>5}{mark}")


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each page, interleaved")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    ARGS = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    if ARGS.backend in ("sqlite", "both"):
        report("SQLite", run_backend("sqlite", None, ARGS.seconds, ARGS.connections, ARGS.rounds))
    if ARGS.backend in ("postgres", "both"):
        sys.path.insert(0, str(ROOT))
        from tests.postgres_support import Cluster, pg_bin

        if pg_bin() is None:
            print("PostgreSQL not installed: skipping its run")
            return
        cluster = Cluster()
        try:
            cluster.execute("CREATE DATABASE ssj_bench_pages")
            report("PostgreSQL", run_backend("postgres", cluster.url("ssj_bench_pages"), ARGS.seconds,
                                             ARGS.connections, ARGS.rounds))
        finally:
            cluster.stop()


ARGS: argparse.Namespace

if __name__ == "__main__":
    main()
