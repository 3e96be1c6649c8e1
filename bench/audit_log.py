"""Benchmark of the access log (SPEC §5; Art 9): appending, verifying, exporting.

Run:  .venv/bin/python -m bench.audit_log [--entries N] [--batch B]

Builds a throw-away instance in a temporary directory (real keys, real
SQLite file, the real migration), appends N entries through `audit.record`
committing every B entries (B=1 is what a request does), then times
`verify_log()` over the whole log and the checkpoint export. A pure walk
over N in-memory entries gives the floor without the database. Figures are
printed, never asserted.
"""
from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path


def pure_walk(n: int) -> float:
    from ssj.audit import chain

    key = b"k" * 32
    entries, prev = [], chain.GENESIS
    for seq in range(1, n + 1):
        body = chain.canonical_json({"seq": seq, "action": "read:main.todo", "username": "staff_jc", "outcome": "ok"})
        digest = chain.entry_hash(prev, body)
        entries.append(chain.StoredEntry(seq, seq, body, prev, digest, chain.entry_mac(key, digest)))
        prev = digest
    t = time.perf_counter()
    result = chain.verify_entries(entries, key)
    elapsed = time.perf_counter() - t
    assert result.problem is None
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=1, help="entries per commit (1 = one per request)")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from ssj import audit, create_app
    from ssj.audit.service import ensure_head
    from ssj.audit.verify import export_checkpoints, verify_log
    from ssj.extensions import db
    from ssj.keys import create_keys

    n, batch = args.entries, max(1, args.batch)
    walked = pure_walk(n)
    print(f"pure walk of {n} in-memory entries: {walked:.3f} s ({n / walked:,.0f} entries/s)")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        create_keys(path / "keys")
        app = create_app({"TESTING": True}, instance_path=str(path))
        with app.app_context():
            upgrade()
            ensure_head()
            db.session.commit()

            t = time.perf_counter()
            for i in range(n):
                audit.record("bench:append", objects={"i": i, "task": i % 50}, username="bench")
                if (i + 1) % batch == 0:
                    db.session.commit()
            db.session.commit()
            appended = time.perf_counter() - t
            print(f"append {n} entries, commit every {batch}: {appended:.2f} s ({n / appended:,.0f} entries/s, "
                  f"{appended / n * 1000:.2f} ms each)")

            t = time.perf_counter()
            report = verify_log()
            verified = time.perf_counter() - t
            print(f"verify_log over {report.checked} entries: {verified:.2f} s ({report.checked / verified:,.0f} "
                  f"entries/s); ok={report.ok}")
            # A second, untimed run under tracemalloc: the walk streams, so this should not grow with N.
            tracemalloc.start()
            verify_log()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"verify_log peak Python memory: {peak / 1e6:.1f} MB")

            t = time.perf_counter()
            doc, problems = export_checkpoints()
            print(f"export {len(doc['checkpoints'])} checkpoints: {time.perf_counter() - t:.3f} s; "
                  f"left out {len(problems)}")
            size = (path / "ssj.sqlite3").stat().st_size
            print(f"database file: {size / 1e6:.1f} MB ({size / n:.0f} bytes per entry incl. indexes)")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
