"""Appends from several worker processes queue on the head row and never fork the chain (SPEC §5)."""
from __future__ import annotations

import json
import multiprocessing

from .conftest import AUDIT_CONFIG, Attacker, run
from .workers import append_entries

WORKERS, EACH = 4, 50


def test_four_processes_appending_at_once_leave_one_unbroken_chain(app, traffic):
    attacker = Attacker.of(app)
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [
        ctx.Process(target=append_entries, args=(app.instance_path, AUDIT_CONFIG, w, EACH, start))
        for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    start.set()
    # Verifying while others append must not mistake a fresh entry for tampering.
    checks = []
    while any(p.is_alive() for p in procs):
        checks.append(run(app, "verify"))
    for p in procs:
        p.join(120)
    assert checks and all(code == 0 for code, _ in checks), [out for code, out in checks if code]
    assert [p.exitcode for p in procs] == [0] * WORKERS

    rows = attacker.rows()
    assert len(rows) == traffic + WORKERS * EACH
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    new = [json.loads(r["body"]) for r in rows[traffic:]]
    assert all(b["action"] == "concurrency_test" for b in new)
    per_worker = {w: [b["objects"]["i"] for b in new if b["objects"]["worker"] == w] for w in range(WORKERS)}
    # Each worker's own entries keep their order; nothing was lost or doubled.
    assert per_worker == {w: list(range(EACH)) for w in range(WORKERS)}
    assert attacker.head() == (len(rows), rows[-1]["entry_hash"])

    code, out = run(app, "verify")
    assert code == 0, out
    assert out.startswith(f"OK: {len(rows)} entries")
