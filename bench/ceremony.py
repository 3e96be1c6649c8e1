"""Benchmark of the draw ceremony through its routes over a large directory (SPEC §3, §4; Art 5, 6, 12, 16).

Run:  .venv/bin/python -m bench.ceremony [--targets N] [--inspectors M] [--earlier T]

Builds a throwaway instance (real SQLite, real keys, migrated schema) with
N targets of one department, M inspectors and T earlier sealed tasks whose
results the Art 16 set E must decrypt, then walks one ceremony through
the real routes with Flask's test client and times each request:
freeze (pools, sealing), commit, a witness, the draw (ssj-draw-v2 with E,
sealed result, one sealed assignment per team member), the organizer's
sealed list, its .xlsx export and an inspector's own page. For scale, the
bare algorithm (`run_draw` on the same pools) is timed in the same run.
Setup is not timed. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.draw import synthetic_credit_codes

PASSWORD = "Bench-password-1"


def build(instance: Path, n: int, inspectors: int, earlier: int, rng: random.Random):
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from ssj import create_app
    from ssj.audit.service import ensure_head
    from ssj.auth.passwords import hash_password
    from ssj.extensions import db
    from ssj.keys import create_keys
    from ssj.models import Department, Inspector, Section, Stratum, Target, Task, User, UserRole

    create_keys(instance / "keys")
    app = create_app({"TESTING": True}, instance_path=str(instance))
    with app.app_context():
        upgrade()
        ensure_head()
        dept = Department(code="RSJ", name="人社局")
        section = Section(department=dept, code="JCDD", name="劳动保障监察大队")
        hashed = hash_password(PASSWORD)
        staff = User(username="bench_staff", display_name="组织人", password_hash=hashed, department=dept, section=section)
        staff.role_rows = [UserRole(role="staff")]
        insp_user = User(username="bench_insp", display_name="检查员", password_hash=hashed, department=dept, section=section)
        insp_user.role_rows = [UserRole(role="inspector")]
        db.session.add_all([dept, section, staff, insp_user])
        db.session.flush()
        codes = synthetic_credit_codes(n, rng)
        rows = [
            {
                "department_id": dept.id,
                "credit_code": code,
                "name": f"商水县单位{i:06d}有限公司",
                "address": f"商水县城关乡{i}号",
                "complaint_count": 3 if rng.random() < 0.05 else 0,
            }
            for i, code in enumerate(codes)
        ]
        for start in range(0, n, 10_000):
            db.session.execute(insert(Target), rows[start : start + 10_000])
        for i in range(inspectors):
            db.session.add(
                Inspector(
                    staff_no=f"J{i:04d}", name=f"检查员{i}", department_id=dept.id, section_id=section.id,
                    cert_no=f"C{i}", cert_expiry=date.today() + timedelta(days=300),
                    user_id=insp_user.id if i == 0 else None,
                )
            )
        start_day = date.today() + timedelta(days=7)
        tasks = []
        for t in range(earlier + 1):
            task = Task(
                section_id=section.id, year=start_day.year, name=f"bench-{t}", organizer_id=staff.id,
                team_size=2, cap_per_inspector=None, exclusion_days=180,
                planned_start=start_day, planned_end=start_day + timedelta(days=30),
            )
            task.strata = [
                Stratum(position=1, name="重点监管对象", kind="special", ratio_percent="5"),
                Stratum(position=2, name="一般对象", kind="general", ratio_percent="1"),
            ]
            db.session.add(task)
            tasks.append(task)
        db.session.commit()
        return app, [t.id for t in tasks]


def login(client, username: str):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302, "login failed"
    # Signing in starts a new session with a new token.
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/todo").text).group(1)


def timed(label: str, fn, figures: dict):
    t0 = time.perf_counter()
    r = fn()
    elapsed = time.perf_counter() - t0
    if r.status_code not in (200, 302):
        raise SystemExit(f"{label}: HTTP {r.status_code}\n{r.text[:2000]}")
    figures[label] = elapsed
    print(f"{label:<42} {elapsed * 1000:9.1f} ms", flush=True)
    return r


def ceremony(client, token: str, task_id: int, figures: dict, prefix: str = "") -> None:
    base = f"/tasks/{task_id}/draw"

    def post(path, **data):
        return lambda: client.post(base + path, data={"csrf_token": token, **data})

    timed(prefix + "freeze (pools, seal)", post("/freeze", attempt="new"), figures)
    timed(prefix + "commit (nonce sealed, commitment)", post("/commit", attempt="1"), figures)
    timed(prefix + "witness (dice digits)", post("/witnesses", attempt="1", name="见证人", affiliation="纪检监察室",
                                                 external="on", digits="31415926535897932384"), figures)
    timed(prefix + "draw (run, seal result and assignments)", post("/run", attempt="1"), figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--inspectors", type=int, default=200)
    parser.add_argument("--earlier", type=int, default=10, help="earlier sealed tasks for the Art 16 set E")
    args = parser.parse_args()
    rng = random.Random(20210121)

    from sqlalchemy import func, select

    from ssj.draws import algorithm as alg
    from ssj.extensions import db
    from ssj.models import Assignment, DrawAttempt
    from ssj.sealing.service import open_json

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        app, task_ids = build(Path(tmp), args.targets, args.inspectors, args.earlier, rng)
        print(f"setup: {args.targets} targets, {args.inspectors} inspectors in {time.perf_counter() - t0:.1f} s (not timed)")
        staff = app.test_client()
        token = login(staff, "bench_staff")
        t0 = time.perf_counter()
        for task_id in task_ids[:-1]:
            ceremony(staff, token, task_id, {}, prefix="(earlier) ")
        if args.earlier:
            print(f"(earlier tasks drawn in {time.perf_counter() - t0:.1f} s; the figures below are for the last one)\n")
        task_id = task_ids[-1]
        figures: dict = {}
        ceremony(staff, token, task_id, figures)
        timed("sealed list (organizer, logged read)", lambda: staff.get(f"/tasks/{task_id}/list"), figures)
        timed("sealed list .xlsx (watermarked)", lambda: staff.get(f"/tasks/{task_id}/list.xlsx"), figures)
        inspector = app.test_client()
        login(inspector, "bench_insp")
        timed("inspector's own page (one read per assignment)", lambda: inspector.get("/my/inspections"), figures)

        with app.app_context():
            attempt = db.session.execute(select(DrawAttempt).where(DrawAttempt.task_id == task_id)).scalar_one()
            pools = open_json(task_id, "pools", attempt.id, attempt.pools_sealed)
            excluded = open_json(task_id, "exclusion", attempt.id, attempt.exclusion_sealed)
            nonce_hex = open_json(task_id, "nonce", attempt.id, attempt.nonce_sealed)
            assignments = db.session.scalar(select(func.count()).select_from(Assignment).where(Assignment.task_id == task_id))
            mine = db.session.scalar(
                select(func.count()).select_from(Assignment).where(Assignment.task_id == task_id, Assignment.inspector_id == 1)
            )
        strata = [alg.Stratum(s["name"], s["pool"], s["ratio"], s["count"]) for s in pools["strata"]]
        seed = alg.make_seed(nonce_hex, attempt.entropy)
        t0 = time.perf_counter()
        result = alg.run_draw(
            strata, pools["inspectors"], seed, pools["team_size"], pools["cap"], pools["conflicts"], excluded
        )
        bare = time.perf_counter() - t0
        sizes = ", ".join(f"{s.name} {len(s.pool)}" for s in strata)
        print(f"\npools: {sizes}; Art 16 E: {len(excluded)}, skipped: {sum(len(r.skipped) for r in result.strata)}; "
              f"{assignments} assignments sealed ({mine} for the benchmark inspector)")
        print(f"bare run_draw on the same pools: {bare * 1000:.1f} ms; "
              f"the draw request is {figures['draw (run, seal result and assignments)'] / bare:.1f}x that")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
