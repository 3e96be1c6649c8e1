"""Benchmark of a task's pool computation over a large target directory (SPEC §3; Art 6, 7).

Run:  .venv/bin/python -m bench.plan_pools [--targets N] [--repeat R]

Builds a throwaway instance (real SQLite, real keys, migrated schema) with
N targets of one department — about 8% special-supervision, 30% small/micro,
a few cancelled — and times, best of R:
  - `pool_sizes`: the grouped count behind the task page's live preview;
  - `eligible_pools`: the full per-stratum code lists the draw ceremony freezes;
The floor is a bare DB-API fetch of the same rows' codes, measured in the
same run, so figures on a busy machine can be read relative to it. Setup
(inserting the directory) is not timed. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.draw import synthetic_credit_codes


def build(instance: Path, n: int, rng: random.Random):
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from ssj import create_app
    from ssj.audit.service import ensure_head
    from ssj.extensions import db
    from ssj.keys import create_keys
    from ssj.models import Department, Inspector, Section, Stratum, Target, Task, User

    create_keys(instance / "keys")
    app = create_app({"TESTING": True}, instance_path=str(instance))
    with app.app_context():
        upgrade()
        ensure_head()
        dept = Department(code="RSJ", name="人社局")
        section = Section(department=dept, code="JCDD", name="劳动保障监察大队")
        user = User(username="bench", display_name="bench", password_hash="x", department=dept, section=section)
        db.session.add_all([dept, section, user])
        db.session.flush()
        codes = synthetic_credit_codes(n, rng)
        rows = []
        for code in codes:
            r = rng.random()
            rows.append(
                {
                    "department_id": dept.id,
                    "credit_code": code,
                    "name": "单位" + code[-6:],
                    "industry": rng.choice(("制造业", "建筑业", "餐饮业", "批发零售业")),
                    "is_small_micro": rng.random() < 0.30,
                    "status": "cancelled" if r < 0.02 else "operating",
                    "complaint_count": 3 if r > 0.95 else 0,
                    "serious_violation": 0.93 < r <= 0.95,
                    "credit_grade": "D" if 0.92 < r <= 0.93 else "A",
                }
            )
        for start in range(0, n, 10_000):
            db.session.execute(insert(Target), rows[start : start + 10_000])
        for i in range(60):
            db.session.add(
                Inspector(
                    staff_no=f"J{i:03d}", name=f"检查员{i}", department_id=dept.id, section_id=section.id,
                    cert_no=f"C{i}", cert_expiry=date.today() + timedelta(days=300 if i % 10 else -1),
                )
            )
        task = Task(section_id=section.id, year=date.today().year, name="bench", organizer_id=user.id)
        task.strata = [
            Stratum(position=1, name="重点监管对象", kind="special", ratio_percent="5"),
            Stratum(position=2, name="小微企业", kind="small_micro", ratio_percent="0.5"),
            Stratum(position=3, name="一般对象", kind="general", ratio_percent="1"),
        ]
        db.session.add(task)
        db.session.commit()
        return app, task.id, codes


def best_of(repeat: int, fn):
    best, result = None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(20210121)

    from ssj.extensions import db
    from ssj.models import Task
    from ssj.plans import service

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        app, task_id, codes = build(Path(tmp), args.targets, rng)
        print(f"setup: {args.targets} targets inserted in {time.perf_counter() - t0:.1f} s (not timed below)")
        with app.test_request_context():
            task = db.session.get(Task, task_id)
            scope = service.Scope.of_task(task)
            kinds = [s.kind for s in task.strata]
            cursor = db.session.connection().connection.dbapi_connection.cursor()

            def floor():
                # The bare DB-API fetch of the same rows, no strata: what any approach must pay.
                cursor.execute("SELECT credit_code FROM target WHERE department_id = 1 AND status = 'operating'")
                return cursor.fetchall()

            t_floor, rows = best_of(args.repeat, floor)
            print(f"floor: bare DB-API fetch of {len(rows)} codes: {t_floor * 1000:8.1f} ms")
            t, sizes = best_of(args.repeat, lambda: service.pool_sizes(scope, kinds))
            print(f"pool_sizes (preview count):        {t * 1000:8.1f} ms  {sizes}")
            t, (pools, inspectors) = best_of(args.repeat, lambda: service.eligible_pools(task, date.today()))
            print(
                f"eligible_pools (full code lists):  {t * 1000:8.1f} ms  ({t / t_floor:.1f}x floor)  "
                f"{ {s.kind: len(c) for s, c in pools} }, {len(inspectors)} inspectors"
            )
            t, preview = best_of(args.repeat, lambda: service.preview(task, date.today()))
            print(
                f"preview (page figures):            {t * 1000:8.1f} ms  "
                f"k = {[s.sample_size for s in preview.strata]}"
            )
            db.session.remove()
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
