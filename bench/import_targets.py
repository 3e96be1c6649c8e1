"""Benchmark of a 100,000-row target import against the time of merely reading the file (SPEC §2, §9).

Run:  .venv/bin/python -m bench.import_targets [--rows N]

Art 19 wants the target directory to cover every employer of the county, so
whole-county files must import in one go. The floor is the time to read the
file with the very reader the import uses (ssj.imports.xlsx.SheetReader,
bounded and streaming, every value once). The import is measured end to end: the upload through the real route
as a signed-in staff member, the background job that checks every row and
stages it, and the single transaction that writes it into a fresh SQLite
instance. Each phase runs in its own process so its peak memory (VmHWM) is
its own. Goals: import within 3x the floor, peak under 300 MB. A second
import of the same file must change nothing; an export of the directory is
timed too. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

from . import common

TIME_GOAL = 3.0
MEMORY_GOAL_MB = 300


def phase_read(path: Path) -> dict:
    from ssj.imports.kinds import KINDS
    from ssj.imports.xlsx import SheetReader

    common.reset_peak()
    cpu, start = common.cpu_seconds(), time.perf_counter()
    rows = 0
    # The very reader the import uses (bounded, streaming), every value once.
    with SheetReader(path, KINDS["targets"]) as sheet:
        for _, values in sheet.rows():
            for _ in values:
                pass
            rows += 1
    return {"seconds": time.perf_counter() - start, "cpu": common.cpu_seconds() - cpu, "peak_mb": common.peak_mb(),
            "rows": rows}


def phase_import(path: Path, instance: Path) -> dict:
    from sqlalchemy import select

    from ssj.extensions import db
    from ssj.imports import jobs
    from ssj.models import ImportJob

    app = common.app_for(instance)
    client, token = common.signed_in_client(app)
    body = path.read_bytes()
    common.reset_peak()
    cpu, start = common.cpu_seconds(), time.perf_counter()
    r = client.post("/imports/targets", data={"csrf_token": token, "file": (io.BytesIO(body), path.name)},
                    content_type="multipart/form-data")
    if r.status_code != 303:
        raise SystemExit(f"upload refused: {r.status_code}")
    r.close()  # as the WSGI server does after sending: this starts the background job
    jobs.wait_for_jobs()
    seconds, cpu = time.perf_counter() - start, common.cpu_seconds() - cpu
    peak = common.peak_mb()
    with app.app_context():
        job = db.session.execute(select(ImportJob).order_by(ImportJob.id.desc())).scalars().first()
        result = {"seconds": seconds, "cpu": cpu, "peak_mb": peak, "state": job.state, "rows": job.rows_done,
                  "created": job.created, "updated": job.updated, "unchanged": job.unchanged,
                  "bad_rows": job.error_count}
        db.engine.dispose()
    return result


def phase_export(instance: Path) -> dict:
    app = common.app_for(instance)
    client, token = common.signed_in_client(app)
    common.reset_peak()
    cpu, start = common.cpu_seconds(), time.perf_counter()
    # The export is a background job now (bench.export_targets has the details): ask, wait, download.
    from ssj.exports import jobs

    asked = client.post("/exports/targets", data={"csrf_token": token})
    asked.close()
    jobs.wait_for_jobs()
    r = client.get(asked.headers["Location"] + "/file")
    size = len(r.data)
    seconds, cpu = time.perf_counter() - start, common.cpu_seconds() - cpu
    return {"seconds": seconds, "cpu": cpu, "peak_mb": common.peak_mb(), "status": r.status_code, "bytes": size}


def main(rows: int) -> dict:
    path = common.OUT / f"targets-{rows}.xlsx"
    if not path.exists():
        print(f"generating {rows:,} targets into {path} ...", flush=True)
        common.write_targets_xlsx(path, rows)
    instance = common.OUT / "import-instance"
    common.fresh_instance(instance)

    me = "bench.import_targets"
    read = common.run_phase(me, "read", str(path))
    first = common.run_phase(me, "import", str(path), str(instance))
    second = common.run_phase(me, "import", str(path), str(instance))
    export = common.run_phase(me, "export", str(instance))

    ratio = first["seconds"] / read["seconds"]
    cpu_ratio = first["cpu"] / read["cpu"]
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    size_mb = path.stat().st_size / 1e6
    print()
    print(f"Target import, {read['rows']:,} rows ({path.name}, {size_mb:.1f} MB), fresh SQLite instance")
    print(f"{'phase':<44}{'wall s':>9}{'CPU s':>9}{'peak MB':>10}")
    for label, r in (("read floor (the bounded reader, every value)", read),
                     ("full import (upload -> job -> one commit)", first),
                     ("second import of the same file (no-op)", second),
                     ("export of the directory (job, encrypted)", export)):
        print(f"{label:<44}{r['seconds']:>9.2f}{r['cpu']:>9.2f}{r['peak_mb']:>10.0f}")
    print()
    print(f"import / floor   {ratio:5.2f}x wall, {cpu_ratio:.2f}x CPU   goal <= {TIME_GOAL:.0f}x      "
          f"{ok(max(ratio, cpu_ratio) <= TIME_GOAL)}")
    print(f"import peak      {first['peak_mb']:5.0f} MB                 goal < {MEMORY_GOAL_MB} MB  "
          f"{ok(first['peak_mb'] < MEMORY_GOAL_MB)}")
    print(f"first import:  {first['state']}, created {first['created']:,}, updated {first['updated']:,}, "
          f"unchanged {first['unchanged']:,}, bad rows {first['bad_rows']:,}")
    print(f"second import: {second['state']}, created {second['created']:,}, updated {second['updated']:,}, "
          f"unchanged {second['unchanged']:,}  {ok(second['created'] == second['updated'] == 0)}")
    print(f"(load average at the end: {common.loadavg()}; on a busy machine wall times vary, CPU times less so)")
    return {"read": read, "import": first, "reimport": second, "export": export, "ratio": ratio,
            "cpu_ratio": cpu_ratio}



if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)  # internal: one measured phase
    args = parser.parse_args()
    if args.phase:
        name, *rest = args.phase
        if name == "read":
            common.emit(phase_read(Path(rest[0])))
        elif name == "import":
            common.emit(phase_import(Path(rest[0]), Path(rest[1])))
        elif name == "export":
            common.emit(phase_export(Path(rest[0])))
    else:
        main(args.rows)
