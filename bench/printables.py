"""Benchmark of the inspection notice and checklist pages through their routes (SPEC §7; Art 8, 9, 12).

Run:  .venv/bin/python -m bench.printables [--targets N] [--inspectors M] [--positions P]

Builds a throwaway instance with bench.ceremony's directory, gives the task a
matter with nine content items and six documents to prepare, draws it
through the ceremony's routes (not timed), then, as the organizer, times for
P positions: the notice form (a logged sealed read of the assignment, the
prefill, the suggested number), saving it (a logged read, a seal, a log
entry), printing it (a logged read of the notice), and the checklist. The
inspection record page of the same position is timed beside them as the
baseline: an existing page with the same kind of sealed reads. Figures are
printed, never asserted.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.ceremony import build, ceremony, login

ITEMS = [
    "直接涉及劳动者切身利益的规章制度的制定程序和公示告知情况", "建立职工名册情况", "与劳动者订立书面劳动合同情况",
    "工资以货币形式按月足额支付给劳动者本人情况", "执行本地区最低工资标准情况", "考勤记录和工时制度执行情况",
    "加班工资支付情况", "为全部职工参加各项社会保险情况", "招用人员时核查身份证件情况",
]
DOCUMENTS = ["营业执照副本", "职工花名册", "劳动合同文本及签订台账", "近12个月工资支付台账及银行代发凭证",
             "近12个月考勤记录", "社会保险费缴费凭证"]


def _ms(fn, status=(200, 302)) -> float:
    t0 = time.perf_counter()
    r = fn()
    elapsed = (time.perf_counter() - t0) * 1000
    if r.status_code not in status:
        raise SystemExit(f"HTTP {r.status_code}\n{r.text[:2000]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--inspectors", type=int, default=200)
    parser.add_argument("--positions", type=int, default=40)
    args = parser.parse_args()
    rng = random.Random(20210121)

    from sqlalchemy import func, select

    from ssj.extensions import db
    from ssj.models import AccessLogEntry, Assignment, Matter, Section, TaskMatter

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        app, task_ids = build(Path(tmp), args.targets, args.inspectors, 0, rng)
        task_id = task_ids[-1]
        with app.app_context():
            section = db.session.execute(select(Section)).scalars().first()
            matter = Matter(code="RS-JC-B01", name="用人单位遵守劳动保障法律法规情况的检查",
                            legal_basis="《劳动保障监察条例》第十一条", content="\n".join(ITEMS),
                            documents="\n".join(DOCUMENTS), ratio_percent="1", frequency=3, method="both",
                            section_id=section.id)
            db.session.add(matter)
            db.session.flush()
            db.session.add(TaskMatter(task_id=task_id, matter_id=matter.id))
            db.session.commit()
        staff = app.test_client()
        token = login(staff, "bench_staff")
        ceremony(staff, token, task_id, {}, prefix="(setup) ")
        with app.app_context():
            drawn = db.session.scalar(select(func.max(Assignment.position)).where(Assignment.task_id == task_id))
        print(f"setup and draw: {args.targets} targets, {drawn} drawn, in {time.perf_counter() - t0:.1f} s (not timed)\n")

        times: dict[str, list[float]] = {k: [] for k in ("record page (baseline)", "notice form", "save notice",
                                                          "print notice", "print checklist")}
        base = f"/tasks/{task_id}/positions"
        positions = list(range(1, min(args.positions, drawn) + 1))
        for p in positions:
            times["record page (baseline)"].append(_ms(lambda: staff.get(f"{base}/{p}/record")))
            times["notice form"].append(_ms(lambda: staff.get(f"{base}/{p}/notice")))
            data = {"csrf_token": token, "number": f"劳动监察检通〔2026〕{p}号", "method": "onsite",
                    "inspect_date": "2026-12-15", "time_from": "09:00", "time_to": "11:30",
                    "place": f"商水县城关乡{p}号", "contact_person": "组织人", "contact_phone": "0394-5420000",
                    "documents": "\n".join(DOCUMENTS)}
            times["save notice"].append(_ms(lambda: staff.post(f"{base}/{p}/notice", data=data), status=(302,)))
            times["print notice"].append(_ms(lambda: staff.get(f"{base}/{p}/notice/print")))
            times["print checklist"].append(_ms(lambda: staff.get(f"{base}/{p}/checklist")))
        print(f"{'request':<26} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}   over {len(positions)} positions")
        for label, values in times.items():
            values.sort()
            p95 = values[max(0, round(0.95 * len(values)) - 1)]
            print(f"{label:<26} {statistics.median(values):9.1f} {p95:9.1f} {values[-1]:9.1f}")
        with app.app_context():
            reads = db.session.scalar(select(func.count()).select_from(AccessLogEntry)
                                      .where(AccessLogEntry.action.like("sealed_read:%notice%")
                                             | AccessLogEntry.action.like("sealed_read:print_%")))
            db.engine.dispose()
        print(f"\n{reads} logged sealed reads of notices, prints and checklists")


if __name__ == "__main__":
    main()
