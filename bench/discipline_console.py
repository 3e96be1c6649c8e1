"""Benchmark of the discipline office's console (SPEC §5): search, flags and verification on a long log.

Run:  .venv/bin/python -m bench.discipline_console [--entries N] [--days D] [--repeat R]

Builds a throw-away instance (real keys, real SQLite file, the real
migration) and a log of N entries spread over the last D days: page
reads, sealed reads naming enterprises by HMAC, refusals, exports,
logins at all hours. The entries are chained, hashed and MAC'd exactly as
`audit.record` does, but written in bulk with their own times (a real log
cannot be backdated; this one only needs to look like a month of work).
Then a signed-in discipline user calls the console's pages through the
real routes and the figures are printed (median of R calls), never
asserted.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.common import credit_code

PASSWORD = "Bench-password-1"
USERS = [f"user{n:02d}" for n in range(40)]
TASKS = 60  # sealed reads name these tasks; supervisors of their department read them (no flag)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _when(rng: random.Random, days: int) -> datetime:
    """Office hours on weekdays mostly; now and then an evening or a weekend."""
    zone = timezone(timedelta(hours=8))
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    while True:
        day = today - timedelta(days=rng.randrange(1, days))
        if day.weekday() < 5 or rng.random() < 0.05:
            break
    if rng.random() < 0.95:
        offset = timedelta(hours=8) + timedelta(seconds=rng.randrange(10 * 3600))
    else:
        offset = timedelta(seconds=rng.randrange(24 * 3600))
    return (day + offset).astimezone(timezone.utc)


def synthetic_log(n: int, days: int, reference_key: bytes, mac_key: bytes, seed: int = 2026):
    """Rows for access_log: a month of a county bureau's work, every entry properly chained."""
    import hashlib
    import hmac

    from ssj.audit import chain

    rng = random.Random(seed)
    codes = [credit_code(i) for i in range(2000)]

    def refs(task_id: int, k: int) -> list[str]:  # per-task references, as audit.sealed_ref writes them
        return sorted(hmac.new(reference_key, f"{task_id}|{c}".encode(), hashlib.sha256).hexdigest()
                      for c in rng.sample(codes, k))
    times = sorted(_when(rng, days) for _ in range(n))
    prev = chain.GENESIS
    for seq, at in enumerate(times, 1):
        user = rng.choice(USERS)
        roll = rng.random()
        objects, outcome, reason, task_id = {}, "ok", None, None
        if roll < 0.70:
            action = rng.choice(["read:main.todo", "read:directories.targets", "read:plans.tasks", "read:ceremony.draw"])
            objects = {"endpoint": action[5:], "method": "GET"}
        elif roll < 0.85:
            task_id = rng.randrange(1, TASKS + 1)
            positions = sorted(rng.sample(range(1, 40), rng.choice([1, 1, 1, 12])))
            action = "sealed_read:" + ("own_assignment" if len(positions) == 1 else "task_list")
            objects = {"kind": "result", "record": task_id, "positions": positions,
                       "target_refs": refs(task_id, len(positions))}
        elif roll < 0.93:
            action, outcome, reason = "read:admin.users", "denied", "role"
            objects = {"endpoint": "admin.users", "method": "GET"}
        elif roll < 0.96:
            action, objects = "export", {"kind": "targets", "rows": rng.choice([40, 300, 1200])}
        else:
            action = "login"
        roles = ["supervisor"] if action.startswith("sealed_read:") else ["staff"]
        body = {
            "seq": seq, "at": _iso(at), "user_id": USERS.index(user) + 100, "username": user,
            "roles": roles, "department": "RSJ", "section": "JCDD", "client": "10.0.0.8",
            "action": action, "objects": objects, "outcome": outcome, "reason": reason, "task_id": task_id,
        }
        canonical = chain.canonical_json(body)
        digest = chain.entry_hash(prev, canonical)
        yield {
            "seq": seq, "at": at, "user_id": body["user_id"], "username": user, "action": action,
            "outcome": outcome, "task_id": task_id, "department": "RSJ", "body": canonical, "prev_hash": prev,
            "entry_hash": digest, "entry_mac": chain.entry_mac(mac_key, digest),
        }
        prev = digest


def timed(client, url: str, repeat: int, **kw) -> tuple[float, int]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = client.get(url, **kw)
        times.append(time.perf_counter() - t)
        assert r.status_code == 200, (url, r.status_code)
    return statistics.median(times), len(r.data)


def main(entries: int = 100_000, days: int = 30, repeat: int = 3) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import insert, update

    from ssj import create_app
    from ssj.audit.service import ensure_head
    from ssj.auth.passwords import hash_password
    from ssj.extensions import db
    from ssj.keys import KeyRing, create_keys
    from ssj.models import AccessLogEntry, AuditChainHead, Department, Section, Task, User

    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        create_keys(path / "keys")
        keys = KeyRing.load(path / "keys")
        app = create_app({"TESTING": True}, instance_path=str(path))
        with app.app_context():
            upgrade()
            ensure_head()
            rsj = Department(code="RSJ", name="商水县人力资源和社会保障局")
            jj = Section(department=rsj, code="JJ", name="纪检监察室")
            office = User(username="bench_discipline", display_name="纪检", password_hash=hash_password(PASSWORD),
                          department=rsj, section=jj)
            office.set_roles(["discipline"])
            jc = Section(department=rsj, code="JCDD", name="劳动保障监察大队")
            db.session.add_all([rsj, jj, jc, office])
            db.session.flush()
            db.session.add_all(Task(section_id=jc.id, year=2026, name=f"第 {n} 轮抽查", organizer_id=office.id)
                               for n in range(1, TASKS + 1))
            db.session.commit()
            t = time.perf_counter()
            batch, last = [], None
            for row in synthetic_log(entries, days, keys.reference_key, keys.entry_mac_key):
                batch.append(row)
                if len(batch) == 5000:
                    db.session.execute(insert(AccessLogEntry), batch)
                    last, batch = batch[-1], []
            if batch:
                db.session.execute(insert(AccessLogEntry), batch)
                last = batch[-1]
            db.session.execute(update(AuditChainHead).where(AuditChainHead.id == 1)
                               .values(seq=last["seq"], head_hash=last["entry_hash"]))
            db.session.commit()
            print(f"built a log of {entries:,} entries over {days} days in {time.perf_counter() - t:.1f} s")

        client = app.test_client()
        page = client.get("/login")
        import re

        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        assert client.post("/login", data={"username": "bench_discipline", "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
        with app.app_context():
            from ssj.oversight.console import enterprise_token

            ent = enterprise_token(credit_code(17))
        cases = [
            ("search, no filter (newest 50 and the count)", "/discipline", {}),
            ("search by person", "/discipline?user=user07", {}),
            ("search by person and outcome, htmx page 3", "/discipline?user=user07&outcome=denied&page=3",
             {"headers": {"HX-Request": "true"}}),
            ("search by action prefix", "/discipline?action=sealed_read", {}),
            ("search by task (column and URL args)", "/discipline?task=17", {}),
            ("search by enterprise (published tasks: HMAC per task in the body)", f"/discipline?ent={ent}", {}),
            ("flags over the last 30 days", "/discipline/flags", {}),
            ("verify the whole log", "/discipline/verify", {}),
        ]
        print(f"{'page':48} {'median':>10} {'bytes':>9}")
        for label, url, kw in cases:
            seconds, size = timed(client, url, repeat, **kw)
            figures[label] = seconds
            print(f"{label:48} {seconds * 1000:8.0f} ms {size:9,d}")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    main(args.entries, args.days, args.repeat)
