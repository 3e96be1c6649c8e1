"""Hostile .xlsx files against the import: time to refusal and the worker's peak memory (issue #11).

Run:  .venv/bin/python -m bench.hostile_imports [--valid-rows N] [--skip-valid]

Anyone with a staff login can upload. Before the bounded reader, a 1.1 MB
file whose one cell inflated to 1.1 GB took a worker from 250 MB to 4.5 GB
in 16-28 s, and 3.4 MB of blank rows took 11 minutes of CPU. This builds
each kind of hostile file (tests/imports/hostile.py writes them straight as
zip + XML) and uploads it through the real route as a signed-in clerk, in a
fresh child process per file, so the peak RSS (VmHWM, reset after sign-in)
is that worker's own: the request, the background job and the refusal.
Beside them, a valid 100,000-row import as the baseline. Goal: every bomb
refused in < 5 s and < 300 MB peak. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

from . import common

TIME_GOAL_S = 5.0
MEMORY_GOAL_MB = 300
GB = 1 << 30


def builders(valid_rows: int) -> list[tuple[str, str, object]]:
    """(file name, description, builder) — builders run only when the file is not already built."""
    from tests.imports import hostile

    return [
        ("cell-bomb.xlsx", "cell bomb: one cell inflates to 1.1 GB", lambda: hostile.cell_bomb(int(1.1 * GB))),
        ("shared-strings-bomb.xlsx", "sharedStrings bomb: one string of 1.1 GB",
         lambda: hostile.shared_strings_bomb(int(1.1 * GB))),
        ("whitespace-bomb.xlsx", "whitespace bomb: 1.1 GB of spaces between rows",
         lambda: hostile.whitespace_bomb(int(1.1 * GB))),
        ("cell-bomb-lying.xlsx", "cell bomb, zip header claims the sheet is 1 KB",
         lambda: hostile.lie_about_size(hostile.cell_bomb(int(1.1 * GB)), "xl/worksheets/sheet1.xml", 1024)),
        ("whitespace-bomb-lying.xlsx", "whitespace bomb, zip header claims 1 KB",
         lambda: hostile.lie_about_size(hostile.whitespace_bomb(int(1.1 * GB)), "xl/worksheets/sheet1.xml", 1024)),
        ("blank-rows.xlsx", "blank-rows bomb: 1,400,000 empty <row>s", lambda: hostile.blank_rows(1_400_000)),
        ("rows-1m.xlsx", "1,000,000 valid rows", lambda: hostile.valid(1_000_000)),
        ("long-cells.xlsx", "10,000-character cells: 300 rows, varied text", lambda: hostile.long_cells(300, 10_000)),
        ("long-cells-repetitive.xlsx", "10,000-character cells: 3,000 rows, one character repeated",
         lambda: _repetitive_long_cells(3_000)),
        ("wide-rows.xlsx", "20,000 empty cells in each of 100 rows", lambda: hostile.wide_rows(100, 20_000)),
        ("xfd-cells.xlsx", "20,000 valid rows, each with a cell at column XFD", lambda: hostile.far_cell(20_000)),
        (f"valid-{valid_rows}.xlsx", f"baseline: valid {valid_rows:,}-row import", None),
    ]


def _repetitive_long_cells(rows: int) -> bytes:
    from tests.imports import hostile

    def sheet():
        yield hostile._HEAD + hostile.row_xml(1, hostile.HEADERS)
        for r in range(2, rows + 2):
            yield hostile.row_xml(r, hostile.target_values(r, "长" * 10_000))
        yield hostile._TAIL
    return hostile.package(sheet)


def phase_upload(path: Path, instance: Path) -> dict:
    """One upload in this (fresh) process: time until refused or imported, and peak RSS."""
    from sqlalchemy import select

    from ssj.extensions import db
    from ssj.imports import jobs
    from ssj.models import ImportJob

    app = common.app_for(instance)
    client, token = common.signed_in_client(app)
    body = path.read_bytes()
    common.reset_peak()
    base = common.peak_mb()
    cpu, start = common.cpu_seconds(), time.perf_counter()
    r = client.post("/imports/targets", data={"csrf_token": token, "file": (io.BytesIO(body), path.name)},
                    content_type="multipart/form-data")
    outcome: dict = {"status": r.status_code}
    if r.status_code == 303:
        r.close()  # as the WSGI server does after sending: this starts the background job
        jobs.wait_for_jobs()
    seconds, cpu = time.perf_counter() - start, common.cpu_seconds() - cpu
    peak = common.peak_mb()
    if r.status_code == 303:
        with app.app_context():
            job = db.session.execute(select(ImportJob).order_by(ImportJob.id.desc())).scalars().first()
            outcome.update(state=job.state, message=(job.message or "")[:70], rows=job.rows_done,
                           created=job.created, bad_rows=job.error_count)
            db.engine.dispose()
    else:
        import re

        flash = re.search(r'class="flash flash-error"[^>]*>([^<]+)<', r.text)
        outcome.update(state="refused at upload", message=(flash.group(1) if flash else r.text[:70])[:70])
    return {"seconds": seconds, "cpu": cpu, "base_mb": base, "peak_mb": peak, **outcome}


def main(valid_rows: int, skip_valid: bool, only: str = "") -> None:
    folder = common.OUT / "hostile"
    folder.mkdir(parents=True, exist_ok=True)
    instance = common.OUT / "hostile-instance"
    common.fresh_instance(instance)
    rows = []
    for name, what, build in builders(valid_rows):
        path = folder / name
        if only and only not in name:
            continue
        if build is None:
            if skip_valid:
                continue
            if not path.exists():
                print(f"generating {valid_rows:,} targets into {path} ...", flush=True)
                common.write_targets_xlsx(path, valid_rows)
        elif not path.exists():
            print(f"building {name} ...", flush=True)
            path.write_bytes(build())
        result = common.run_phase("bench.hostile_imports", "upload", str(path), str(instance))
        result.update(name=name, what=what, size_mb=path.stat().st_size / (1 << 20))
        rows.append(result)
        print(json.dumps(result, ensure_ascii=False), flush=True)

    print()
    print(f"Hostile imports (load average {common.loadavg()}); goal for every bomb: refused in < {TIME_GOAL_S:g} s, "
          f"peak < {MEMORY_GOAL_MB} MB")
    print("| file | .xlsx MB | outcome | wall s | CPU s | RSS before MB | peak RSS MB | goal |")
    print("|---|---:|---|---:|---:|---:|---:|---|")
    for r in rows:
        baseline = r["name"].startswith("valid-") or r["name"].startswith("xfd-")
        met = "baseline" if baseline else (
            "met" if r["seconds"] < TIME_GOAL_S and r["peak_mb"] < MEMORY_GOAL_MB and r["state"] != "done" else "MISSED")
        outcome = r["state"] if r["state"] != "done" else f"imported {r.get('created', 0):,}"
        print(f"| {r['what']} | {r['size_mb']:.1f} | {outcome}: {r.get('message', '')[:40]} | {r['seconds']:.2f} | "
              f"{r['cpu']:.2f} | {r['base_mb']:.0f} | {r['peak_mb']:.0f} | {met} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--valid-rows", type=int, default=100_000)
    parser.add_argument("--skip-valid", action="store_true", help="leave out the 100,000-row baseline")
    parser.add_argument("--only", default="", help="run only the files whose name contains this")
    opts = parser.parse_args()
    if opts.phase:
        kind, *rest = opts.args
        if kind == "upload":
            common.emit(phase_upload(Path(rest[0]), Path(rest[1])))
    else:
        main(opts.valid_rows, opts.skip_valid, opts.only)
