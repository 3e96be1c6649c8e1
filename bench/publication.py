"""Benchmark of publication through its routes (SPEC §4, §6, §7; Art 9, 13, 16).

Run:  .venv/bin/python -m bench.publication [--targets N] [--inspectors M]

Builds a throwaway instance with bench.ceremony's directory, draws one task
through the ceremony's routes (not timed), moves its publish date into the
past, then times each publication request with Flask's test client: the
request, the supervisor's approval (password check, logged decryption,
commitment check, bundle, plaintext notice), the public notice, the bundle
download, both exports and the archive package (each a background job:
ask, wait, download). Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.ceremony import PASSWORD, build, ceremony, login, timed


def through_job(client, token: str, url: str):
    """Exports are background jobs (ssj.exports): ask, wait for the thread, download."""
    from ssj.exports import jobs

    asked = client.post(url, data={"csrf_token": token})
    asked.close()  # as the WSGI server does after sending: this starts the job
    jobs.wait_for_jobs()
    return client.get(asked.headers["Location"] + "/file")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--inspectors", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(20210121)

    from sqlalchemy import select

    from ssj.auth.passwords import hash_password
    from ssj.extensions import db
    from ssj.models import Department, Task, User, UserRole

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        app, task_ids = build(Path(tmp), args.targets, args.inspectors, 0, rng)
        task_id = task_ids[-1]
        with app.app_context():
            dept = db.session.execute(select(Department)).scalars().first()
            boss = User(username="bench_boss", display_name="局领导", password_hash=hash_password(PASSWORD),
                        department_id=dept.id)
            boss.role_rows = [UserRole(role="supervisor")]
            db.session.add(boss)
            db.session.commit()
        staff = app.test_client()
        token = login(staff, "bench_staff")
        ceremony(staff, token, task_id, {})
        with app.app_context():
            db.session.get(Task, task_id).publish_date = date.today() - timedelta(days=1)
            db.session.commit()
        print(f"setup and draw: {args.targets} targets in {time.perf_counter() - t0:.1f} s (not timed)\n")

        figures: dict = {}
        base = f"/tasks/{task_id}/publication"
        timed("request publication", lambda: staff.post(base + "/request", data={"csrf_token": token, "note": "bench"}), figures)
        boss_client = app.test_client()
        boss_token = login(boss_client, "bench_boss")
        timed("approve (unseal, check, bundle, notice)",
              lambda: boss_client.post(base + "/approve", data={"csrf_token": boss_token, "password": PASSWORD}), figures)
        public = app.test_client()
        page = timed("public notice page", lambda: public.get(f"/public/results/{task_id}"), figures)
        bundle = timed("public bundle.json", lambda: public.get(f"/public/results/{task_id}/bundle.json"), figures)
        timed("results .csv (job, then download)", lambda: through_job(staff, token, base + "/results.csv"), figures)
        timed("results .xlsx (job, then download)", lambda: through_job(staff, token, base + "/results.xlsx"), figures)
        package = timed("archive .zip (job, then download)", lambda: through_job(staff, token, base + "/archive.zip"),
                        figures)
        units = len(re.findall(r'<td class="mono">', page.text))
        print(f"\n{units} units published; bundle {len(bundle.data) / 1e6:.1f} MB; archive {len(package.data) / 1e6:.1f} MB")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
