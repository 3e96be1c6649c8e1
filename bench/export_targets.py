"""Benchmark of the 100,000-row target export as a background job, beside the old in-request export (SPEC §9).

Run:  .venv/bin/python -m bench.export_targets [--rows N]

Until the export became a job, GET /exports/targets.xlsx built the whole
workbook with openpyxl's write-only mode inside the request (about 36 s for
100,000 rows on the project's 2-core machine, the browser waiting all along,
and a plaintext copy of the sheet in a temporary file). Now the request only
creates a job; a thread streams the rows into ssj.exports.xlsxstream, through
the AES-256-GCM file writer, into instance/exports/, and the owner downloads
it once it is done.

Phases, each in its own process so its peak memory (VmHWM) is its own, on a
fresh SQLite instance holding N targets:
- "old in-request": the previous route's work (openpyxl write_only into a
  temporary file), run directly;
- "job": POST /exports/targets -> 303, the thread runs to the end, then the
  download of the decrypted file through the real route (hash check, log
  entry, streaming). Figures for the request itself, the job and the
  download are printed separately. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from . import common


def _load_targets(instance: Path, rows: int) -> None:
    """N synthetic targets written straight into the fresh instance (the import is benchmarked elsewhere)."""
    from sqlalchemy import insert, select

    from ssj.extensions import db
    from ssj.models import Department, Target, Township

    app = common.app_for(instance)
    with app.app_context():
        dept = db.session.execute(select(Department)).scalars().first()
        towns = dict(db.session.execute(select(Township.name, Township.id)).all())
        batch = []
        for t in common.targets(rows):
            t = dict(t)
            t["township_id"] = towns[t.pop("township")]
            batch.append({**t, "department_id": dept.id})
            if len(batch) == 5000:
                db.session.execute(insert(Target), batch)
                batch.clear()
        if batch:
            db.session.execute(insert(Target), batch)
        db.session.commit()
        db.engine.dispose()


def phase_old(instance: Path) -> dict:
    """The previous route's work: write_export with openpyxl write_only into a temporary file."""
    import tempfile

    from sqlalchemy import select

    from ssj.extensions import db
    from ssj.imports.kinds import KINDS, Scope
    from ssj.imports.xlsx import write_export
    from ssj.models import User

    app = common.app_for(instance)
    with app.test_request_context("/"):
        user = db.session.execute(select(User).where(User.username == common.STAFF)).scalar_one()
        common.reset_peak()
        cpu, start = common.cpu_seconds(), time.perf_counter()
        with tempfile.TemporaryFile() as body:
            rows = write_export(KINDS["targets"](Scope.of(user)), body)
            size = body.tell()
        seconds, cpu = time.perf_counter() - start, common.cpu_seconds() - cpu
    return {"seconds": seconds, "cpu": cpu, "peak_mb": common.peak_mb(), "rows": rows, "bytes": size}


def phase_job(instance: Path) -> dict:
    from ssj.exports import jobs

    app = common.app_for(instance)
    client, token = common.signed_in_client(app)
    common.reset_peak()
    cpu0, start = common.cpu_seconds(), time.perf_counter()
    r = client.post("/exports/targets", data={"csrf_token": token})
    if r.status_code != 303:
        raise SystemExit(f"export refused: {r.status_code}")
    asked = time.perf_counter() - start
    job_token = r.headers["Location"].rsplit("/", 1)[1]
    r.close()  # as the WSGI server does after sending: this starts the background job
    jobs.wait_for_jobs()
    built = time.perf_counter() - start
    cpu_built = common.cpu_seconds() - cpu0
    page = client.get(f"/my/exports/{job_token}").text
    done = re.search(r"已生成，共 (\d+) 行", page)
    t_download = time.perf_counter()
    d = client.get(f"/my/exports/{job_token}/file")
    size = len(d.get_data())
    downloaded = time.perf_counter() - t_download
    stored = sum(p.stat().st_size for p in (instance / "exports").glob("*.enc"))
    return {"request_s": asked, "job_s": built - asked, "total_s": built, "cpu": cpu_built,
            "download_s": downloaded, "peak_mb": common.peak_mb(), "rows": int(done.group(1)) if done else None,
            "status": d.status_code, "bytes": size, "stored_bytes": stored}


def main(rows: int) -> dict:
    instance = common.OUT / "export-instance"
    print(f"fresh instance with {rows:,} targets in {instance} ...", flush=True)
    common.fresh_instance(instance)
    _load_targets(instance, rows)
    me = "bench.export_targets"
    old = common.run_phase(me, "old", str(instance))
    job = common.run_phase(me, "job", str(instance))
    print()
    print(f"Target export, {rows:,} rows, fresh SQLite instance")
    print(f"{'':<52}{'wall s':>9}{'CPU s':>9}{'peak MB':>10}")
    print(f"{'old: in the request (openpyxl write_only, temp file)':<52}{old['seconds']:>9.2f}{old['cpu']:>9.2f}"
          f"{old['peak_mb']:>10.0f}")
    print(f"{'job: ask -> job done (stream, encrypt at rest)':<52}{job['total_s']:>9.2f}{job['cpu']:>9.2f}"
          f"{job['peak_mb']:>10.0f}")
    print(f"{'   of which the request until its 303':<52}{job['request_s']:>9.2f}")
    print(f"{'   download (check hash, log, decrypt, stream)':<52}{job['download_s']:>9.2f}")
    print()
    print(f"rows in the job's file {job['rows']:,}; download {job['status']}, {job['bytes'] / 1e6:.1f} MB "
          f"(old workbook {old['bytes'] / 1e6:.1f} MB); at rest {job['stored_bytes'] / 1e6:.1f} MB encrypted")
    print("reference: the in-request export measured about 36 s for 100,000 rows before this change")
    print(f"(load average at the end: {common.loadavg()}; on a busy machine wall times vary, CPU times less so)")
    return {"old": old, "job": job}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)  # internal: one measured phase
    args = parser.parse_args()
    if args.phase:
        name, path = args.phase
        common.emit((phase_old if name == "old" else phase_job)(Path(path)))
    else:
        main(args.rows)
