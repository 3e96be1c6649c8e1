"""Benchmark of the oversight dashboard 监管看板 over a realistic county year (SPEC §8; Art 7, 9, 19).

Run:  .venv/bin/python -m bench.dashboard [--targets N] [--matters M] [--tasks T] [--repeat R]

Builds a throwaway instance (real SQLite, real keys, migrated schema) with a
year's worth of work: N targets over 23 townships, M matters in an approved
plan, T sealed tasks with their public draw figures, two inspectors per drawn
position, inspection records (most submitted, some late), rectification
orders, a third of the tasks published with their results, and training
sessions. Sealed blobs hold placeholder bytes: the dashboard never opens
them, which is the point. Setup is not timed. Then, best of R:

  - `dashboard.build`: every figure of the page (the fixed set of queries);
  - the whole page through the real route (access check, template, SVG, log entry);
  - baseline: the one unavoidable scan, a bare DB-API count of the
    department's operating targets per township, measured in the same run,
    so the figures can be read relative to it on a busy machine.

Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bench.common import TOWNSHIPS
from bench.draw import synthetic_credit_codes

PASSWORD = "Bench-password-1"


def build(instance: Path, n_targets: int, n_matters: int, n_tasks: int, rng: random.Random):
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from ssj import create_app
    from ssj.audit.service import ensure_head
    from ssj.auth.passwords import hash_password
    from ssj.extensions import db
    from ssj.inspections.service import RESULT_CATEGORIES
    from ssj.keys import create_keys
    from ssj.models import (
        AnnualPlan, Assignment, Department, DrawAttempt, FollowUp, InspectionRecord, Inspector, Matter,
        PlanItem, PublicationRequest, PublishedResult, PublishedTask, Section, Target, Task, TaskMatter,
        Township, TrainingAttendance, TrainingSession, User,
    )

    create_keys(instance / "keys")
    app = create_app({"TESTING": True}, instance_path=str(instance))
    year = date.today().year
    with app.app_context():
        upgrade()
        ensure_head()
        dept = Department(code="RSJ", name="商水县人力资源和社会保障局")
        jc = Section(department=dept, code="JCDD", name="劳动保障监察大队")
        bgs = Section(department=dept, code="BGS", name="办公室")
        staff = User(username="bench_staff", display_name="工作人员", password_hash="x", department=dept, section=jc)
        leader = User(username="bench_leader", display_name="局领导", password_hash=hash_password(PASSWORD),
                      department=dept, section=bgs)
        leader.set_roles(["supervisor"])
        staff.set_roles(["staff"])
        db.session.add_all([dept, jc, bgs, staff, leader])
        db.session.flush()
        towns = []
        for i, name in enumerate(TOWNSHIPS[:-2]):  # two townships left empty: the Art 19 highlight
            t = Township(code=f"{i + 1:02d}", name=name)
            db.session.add(t)
            towns.append(t)
        db.session.add_all([Township(code="98", name=TOWNSHIPS[-2]), Township(code="99", name=TOWNSHIPS[-1])])
        db.session.flush()
        codes = synthetic_credit_codes(n_targets, rng)
        rows = [
            {"department_id": dept.id, "credit_code": c, "name": "单位" + c[-6:], "industry": "制造业",
             "township_id": rng.choice(towns).id if rng.random() > 0.01 else None,
             "status": "operating" if rng.random() > 0.05 else "cancelled"}
            for c in codes
        ]
        for start in range(0, n_targets, 10_000):
            db.session.execute(insert(Target), rows[start:start + 10_000])
        inspectors = []
        for i in range(40):
            insp = Inspector(staff_no=f"J{i:03d}", name=f"检查员{i}", department_id=dept.id, section_id=jc.id,
                             cert_no=f"C{i}", cert_expiry=date.today() + timedelta(days=300))
            db.session.add(insp)
            inspectors.append(insp)
        matters = []
        for i in range(n_matters):
            m = Matter(code=f"JC-{i + 1:03d}", name=f"劳动保障监察事项{i + 1}", legal_basis="《劳动保障监察条例》",
                       content="工资支付情况", ratio_percent="1", frequency=3, method="onsite", section_id=jc.id)
            db.session.add(m)
            matters.append(m)
        db.session.flush()
        plan = AnnualPlan(section_id=jc.id, year=year, status="approved", decided_by_id=leader.id,
                          shortfall_reason="部分事项本年度安排两次")
        plan.items = [PlanItem(matter_id=m.id, rounds=rng.choice((2, 3, 4)), ratio_percent=rng.choice(("0.8", "1", "2")),
                               reason="人员不足") for m in matters]
        db.session.add(plan)
        db.session.flush()
        now = datetime.now(timezone.utc)
        ordered = sorted(codes)
        for n in range(n_tasks):
            start = date(year, 1, 1) + timedelta(days=rng.randrange(0, 300))
            status = rng.choice(("sealed", "inspecting", "reported", "published", "published", "planned"))
            out = n % 10 == 9
            task = Task(section_id=jc.id, plan_id=plan.id, year=year, name=f"{year}年第{n + 1}轮专项抽查",
                        status=status, organizer_id=staff.id, planned_start=start, planned_end=start + timedelta(days=30),
                        publish_date=start + timedelta(days=60), out_of_plan=out,
                        out_of_plan_reason="上级交办" if out else "")
            task.matters = [TaskMatter(matter_id=m.id) for m in rng.sample(matters, rng.choice((1, 2)))]
            db.session.add(task)
            db.session.flush()
            if status == "planned":
                continue
            pool = rng.randrange(3_000, 20_000)
            k = -(-pool // 100)
            attempt = DrawAttempt(
                task_id=task.id, number=1, state="sealed", operator_id=staff.id, pools_sealed=b"sealed",
                pool_summary_json=json.dumps({"strata": [{"name": "一般对象", "kind": "general", "rule": "1%",
                                                          "size": pool, "sha256": "0" * 64, "sample_size": k}]}),
                nonce_sha256="0" * 64, entropy="1" * 20, drawn_at=now, result_sealed=b"sealed",
                result_commitment="0" * 64, sample_summary_json=json.dumps([{"name": "一般对象", "sample_size": k}]),
            )
            db.session.add(attempt)
            db.session.flush()
            assignments, records, followups = [], [], []
            for position in range(1, k + 1):
                for insp in rng.sample(inspectors, 2):
                    assignments.append({"task_id": task.id, "attempt_id": attempt.id, "position": position,
                                        "inspector_id": insp.id, "target_sealed": b"sealed", "active": True})
                if status != "sealed" and rng.random() < 0.9:
                    ended = start + timedelta(days=rng.randrange(0, 30))
                    sent = ended + timedelta(days=rng.choice((1, 2, 3, 5, 12)))
                    records.append({"task_id": task.id, "position": position, "state": "submitted", "version": 1,
                                    "sealed": b"sealed", "ended_on": ended,
                                    "submitted_at": datetime(sent.year, sent.month, sent.day, 2, tzinfo=timezone.utc),
                                    "updated_at": now})
                    if rng.random() < 0.2:
                        followups.append({"task_id": task.id, "position": position, "sealed": b"sealed",
                                          "deadline": ended + timedelta(days=15), "closed": rng.random() < 0.6,
                                          "created_by_id": staff.id, "created_at": now})
            db.session.execute(insert(Assignment), assignments)
            if records:
                db.session.execute(insert(InspectionRecord), records)
            if followups:
                db.session.execute(insert(FollowUp), followups)
            if status == "published":
                req = PublicationRequest(task_id=task.id, state="approved", requested_by_id=staff.id, approved_by_id=leader.id)
                db.session.add(req)
                db.session.flush()
                db.session.add(PublishedTask(task_id=task.id, name=task.name, year=year, department=dept.name,
                                             section=jc.name, matters_json="[]", publish_date=task.publish_date,
                                             attempt_number=1, bundle_json="{}", bundle_sha256="0" * 64,
                                             request_id=req.id))
                db.session.flush()
                db.session.execute(insert(PublishedResult), [
                    {"task_id": task.id, "position": p, "stratum": "一般对象", "credit_code": c, "unit_name": "单位",
                     "inspectors": "检查员", "result": rng.choice(RESULT_CATEGORIES), "handling": ""}
                    for p, c in enumerate(rng.sample(ordered, k), start=1)
                ])
        for month in (3, 9):
            s = TrainingSession(department_id=dept.id, title="业务培训", date=date(year, month, 10), section_id=jc.id,
                                hours="2", trainer="专家", content="细则", created_by_id=staff.id)
            s.attendance = [TrainingAttendance(name=f"学员{i}", affiliation="监察大队") for i in range(20)]
            db.session.add(s)
        db.session.commit()
    return app, year


def best_of(repeat: int, fn):
    best, result = None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def main(n_targets: int = 100_000, n_matters: int = 20, n_tasks: int = 30, repeat: int = 5) -> dict:
    from sqlalchemy import select

    from ssj.extensions import db
    from ssj.models import User
    from ssj.oversight import dashboard as dash

    rng = random.Random(20261128)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        app, year = build(Path(tmp), n_targets, n_matters, n_tasks, rng)
        print(f"setup: {n_targets} targets, {n_matters} matters, {n_tasks} tasks in {time.perf_counter() - t0:.1f} s "
              "(not timed below)", flush=True)
        figures = {}
        with app.test_request_context():
            leader = db.session.execute(select(User).where(User.username == "bench_leader")).scalar_one()
            scope = dash.scope_for(leader, None)
            cursor = db.session.connection().connection.dbapi_connection.cursor()

            def baseline():
                cursor.execute("SELECT township_id, count(*) FROM target WHERE department_id = 1 AND status = 'operating' "
                               "GROUP BY township_id")
                return cursor.fetchall()

            t_base, _ = best_of(repeat, baseline)
            t_build, d = best_of(repeat, lambda: dash.build(scope, year))
            figures.update(baseline_ms=t_base * 1000, build_ms=t_build * 1000)
            print(f"baseline: bare DB-API count of targets per township:  {t_base * 1000:8.1f} ms")
            print(f"dashboard.build (every figure):                       {t_build * 1000:8.1f} ms  "
                  f"({t_build / t_base:.1f}x baseline)")
            print(f"  {len(d.matters)} matters ({d.matters_below} below Art 7), {d.drawn_tasks} drawn tasks, "
                  f"{d.reports.total} reports ({d.reports.on_time} on time, {d.reports.late_total} late), "
                  f"{d.results.published_units} published results, {len(d.rectifications.overdue)} overdue rectifications, "
                  f"{len(d.out_of_plan)} out of plan, {d.coverage.total} targets in {len(d.coverage.townships)} townships "
                  f"({d.coverage.zero_count} empty)")
            db.session.remove()
        client = app.test_client()
        page = client.get("/login")
        import re
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        client.post("/login", data={"username": "bench_leader", "password": PASSWORD, "csrf_token": token})

        def whole_page():
            r = client.get(f"/oversight/dashboard?year={year}")
            assert r.status_code == 200, r.status_code
            return len(r.data)

        t_page, size = best_of(repeat, whole_page)
        figures["page_ms"] = t_page * 1000
        print(f"GET /oversight/dashboard (route, template, SVG, log): {t_page * 1000:8.1f} ms  "
              f"({t_page / t_base:.1f}x baseline), {size // 1024} KiB of HTML")
        with app.app_context():
            db.engine.dispose()
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--matters", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    a = parser.parse_args()
    main(a.targets, a.matters, a.tasks, a.repeat)
