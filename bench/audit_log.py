"""Benchmark of the access log (SPEC §5; Art 9): appending, verifying, exporting.

Run:  .venv/bin/python -m bench.audit_log [--entries N] [--batch B]
      .venv/bin/python -m bench.audit_log --entries 1000000 --bulk   (the 1,000,000-entry verify)

Builds a throw-away instance in a temporary directory (real keys, real
SQLite file, the real migration), appends N entries through `audit.record`
committing every B entries (B=1 is what a request does), then times
`verify_log()` over the whole log and the checkpoint export. With --bulk,
the first 1,000 entries go through `audit.record` and the rest are chained
by the same functions (canonical JSON, SHA-256, the HMAC under the real
key, the head row moved on) and inserted in batches, so a million-entry
log is built in minutes instead of hours; the walk sees exactly what it
would see after a million requests. Verify time is printed as wall clock
and as CPU time (the process's own, unaffected by other load on the
machine). A pure walk over N in-memory entries gives the floor without
the database. Figures are printed, never asserted.

Goal (issue #15): 1,000,000 entries verified in under 10 s. `--keep DIR`
builds the log once and verifies it again on later runs; `--plain` also
times the plain walk (verify_log(fast=False), the reference) beside the
fast one; `--processes P [P ...]` times the fast walk with each AUDIT_VERIFY_PROCESSES; `--crypto sm` builds
a 商用密码 instance; `--postgres` runs on a throw-away PostgreSQL cluster
(tests/postgres_support.py). CPU time counts the forked children too.
Figures: docs/audit-log.md, "Verifying a long log quickly".
"""
from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench.common import cpu_seconds, loadavg


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


def bulk_fill(n: int, batch: int = 20000) -> None:
    """Chain n more entries after the current head, shaped like the last one, and insert them in batches."""
    import json
    from datetime import timedelta

    from sqlalchemy import insert, select, update

    from ssj.audit import chain
    from ssj.audit.service import _iso, keyring
    from ssj.extensions import db
    from ssj.models import AccessLogEntry, AuditChainHead

    key, suite = keyring().entry_mac_key, keyring().crypto_suite
    last = db.session.execute(select(AccessLogEntry).order_by(AccessLogEntry.seq.desc()).limit(1)).scalar_one()
    template, prev, at0 = json.loads(last.body), last.entry_hash, last.at
    rows = []
    for seq in range(last.seq + 1, last.seq + n + 1):
        at = at0 + timedelta(milliseconds=seq)
        body = {**template, "seq": seq, "at": _iso(at), "objects": {"i": seq, "task": seq % 50}}
        canonical = chain.canonical_json(body)
        digest = chain.entry_hash(prev, canonical, suite)
        rows.append({
            "seq": seq, "at": at, "user_id": body["user_id"], "username": body["username"],
            "action": body["action"], "outcome": body["outcome"], "task_id": body["task_id"],
            "department": body.get("department"), "body": canonical, "prev_hash": prev, "entry_hash": digest,
            "entry_mac": chain.entry_mac(key, digest, suite),
        })
        prev = digest
        if len(rows) == batch:
            db.session.execute(insert(AccessLogEntry), rows)
            rows = []
    if rows:
        db.session.execute(insert(AccessLogEntry), rows)
    db.session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(seq=last.seq + n, head_hash=prev))
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=1, help="entries per commit (1 = one per request)")
    parser.add_argument("--bulk", action="store_true", help="append 1,000 entries, chain the rest in bulk")
    parser.add_argument("--crypto", choices=("intl", "sm"), default="intl",
                        help="the instance's crypto suite (sm: SM3 chain, HMAC-SM3 MACs; `flask init --crypto sm`)")
    parser.add_argument("--keep", metavar="DIR",
                        help="build the instance in DIR and keep it; if DIR already holds one, only verify it")
    parser.add_argument("--postgres", action="store_true",
                        help="use a throw-away PostgreSQL cluster (tests/postgres_support.py) instead of SQLite")
    parser.add_argument("--plain", action="store_true",
                        help="also time the plain walk (verify_log(fast=False), the reference) before the fast one")
    parser.add_argument("--processes", type=int, nargs="*", default=[],
                        help="AUDIT_VERIFY_PROCESSES for the fast walk, one run each (default: one per available CPU)")
    args = parser.parse_args()

    n, batch = args.entries, max(1, args.batch)
    if args.keep is None or not (Path(args.keep) / "keys").exists():
        pure_n = min(n, 200_000)  # held in memory: a million would take gigabytes
        walked = pure_walk(pure_n)
        print(f"pure walk of {pure_n} in-memory entries: {walked:.3f} s ({pure_n / walked:,.0f} entries/s)")

    cluster = None
    if args.postgres:
        import os

        from tests.postgres_support import Cluster

        if args.keep:
            raise SystemExit("--keep is for SQLite instances: the cluster is thrown away at the end")
        cluster = Cluster()
        cluster.execute("CREATE DATABASE ssj_bench")
        os.environ["SSJ_DATABASE_URL"] = cluster.url("ssj_bench")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(args.keep or tmp), n, batch, args.bulk, args.crypto, args.plain, args.processes)
    finally:
        if cluster is not None:
            cluster.stop()


def child_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # children waited for: the verify's forked ones
    return usage.ru_utime + usage.ru_stime


def run(path: Path, n: int, batch: int, bulk: bool, suite: str, plain: bool, processes: list[int]) -> None:
    from flask_migrate import upgrade

    from ssj import audit, create_app
    from ssj.audit.service import ensure_head
    from ssj.audit.verify import export_checkpoints, verify_log
    from ssj.extensions import db
    from ssj.identity import adopt_identity
    from ssj.keys import create_keys

    reuse = (path / "keys").exists()
    if not reuse:
        create_keys(path / "keys", suite)
    app = create_app({"TESTING": True}, instance_path=str(path))
    with app.app_context():
        backend = db.engine.dialect.name
        if not reuse:
            upgrade()
            ensure_head()
            adopt_identity(path / "keys", app.extensions["ssj.keys"]())
            db.session.commit()
            appended_n = min(n, 1000) if bulk else n
            t = time.perf_counter()
            for i in range(appended_n):
                audit.record("bench:append", objects={"i": i, "task": i % 50}, username="bench")
                if (i + 1) % batch == 0:
                    db.session.commit()
            db.session.commit()
            appended = time.perf_counter() - t
            print(f"append {appended_n} entries, commit every {batch}: {appended:.2f} s "
                  f"({appended_n / appended:,.0f} entries/s, {appended / appended_n * 1000:.2f} ms each)")
            if n > appended_n:
                t = time.perf_counter()
                bulk_fill(n - appended_n)
                print(f"chained and inserted {n - appended_n} more in bulk: {time.perf_counter() - t:.1f} s")
            if backend == "postgresql":
                db.session.execute(db.text("ANALYZE access_log"))
                db.session.commit()
            else:
                # The bulk build leaves the whole log in the write-ahead file, which SQLite
                # folds into the database only when no reader is left; a server in use
                # checkpoints every 1,000 pages. Read through a 600 MB WAL, the first walk
                # took 12-15 s instead of 9 s: measure the steady state.
                db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))

        suite = app.extensions["ssj.keys"]().crypto_suite
        load = loadavg()
        runs = [("plain walk (verify_entries, the baseline)", {"fast": False})] if plain else []
        runs += [(f"fast walk, {p or 'one per CPU'} process(es)", {"processes": p}) for p in processes or [None]]
        for name, kwargs in runs:
            app.config["AUDIT_VERIFY_PROCESSES"] = kwargs.pop("processes", None)
            t, cpu, children = time.perf_counter(), cpu_seconds(), child_cpu_seconds()
            report = verify_log(**kwargs)
            verified = time.perf_counter() - t
            cpu, children = cpu_seconds() - cpu, child_cpu_seconds() - children
            print(f"verify_log, {name}, over {report.checked} entries ({backend}, suite {suite}): "
                  f"{verified:.2f} s wall, {cpu + children:.2f} s CPU ({children:.2f} s of it in child processes); "
                  f"ok={report.ok} (goal: 1,000,000 in < 10 s; load before {load}, after {loadavg()})")
            load = loadavg()
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
        if backend == "sqlite":
            size = (path / "ssj.sqlite3").stat().st_size
            print(f"database file: {size / 1e6:.1f} MB ({size / max(report.checked, 1):.0f} bytes per entry "
                  "incl. indexes)")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
