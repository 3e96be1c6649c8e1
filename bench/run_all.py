"""Run the directory benchmarks one after the other (`make bench`): import and search of 100,000 targets.

Run:  .venv/bin/python -m bench.run_all

Each benchmark prints its own table and goals; nothing is asserted. Other
benchmarks under bench/ (e.g. bench.draw, bench.audit_log) are run on their own.
"""
from __future__ import annotations

import time

from . import import_targets, search_targets


def main() -> None:
    started = time.perf_counter()
    print("== bench.import_targets ==", flush=True)
    imported = import_targets.main(100_000)
    print()
    print("== bench.search_targets ==", flush=True)
    searched = search_targets.main(100_000, 200)
    print()
    print("== summary ==")
    print(f"import {imported['import']['seconds']:.1f} s = {imported['ratio']:.2f}x the read floor "
          f"({imported['cpu_ratio']:.2f}x in CPU time) "
          f"(goal <= {import_targets.TIME_GOAL:.0f}x), peak {imported['import']['peak_mb']:.0f} MB "
          f"(goal < {import_targets.MEMORY_GOAL_MB} MB); re-import {imported['reimport']['seconds']:.1f} s")
    print(f"search p50 {searched['p50_ms']:.1f} ms, p95 {searched['p95_ms']:.1f} ms, max {searched['max_ms']:.1f} ms "
          f"(goal p95 < {search_targets.P95_GOAL_MS:.0f} ms); p95 of CPU time alone {searched['cpu_p95_ms']:.1f} ms")
    print(f"(all benchmarks took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
