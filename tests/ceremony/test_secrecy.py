"""THE SECRECY TEST (SPEC §4; Art 12): a copy of the database and the instance
directory, taken before and after a full draw through the app's routes, does not
tell which targets were drawn.

What changes during the draw — new rows, the WAL, the log, every file under
instance/ — must not contain a drawn target's credit code or name (raw or
JSON-escaped), nor its row id in a column or log field about targets; the
target table itself must be byte-identical, so drawn and undrawn rows do not
differ in any column. The draw is followed by the reads and the recusal that
typically come next, since they write too (log entries, re-sealed rows).
And a task frozen over the same scope after the draw has exactly the pool
columns (sizes, hashes, sample sizes) of one frozen before it: under
ssj-draw-v2 the Art 16 skips happen inside the sealed draw, so the pools
cannot serve as a membership oracle.

On PostgreSQL the copy is what a backup job takes: a pg_dump of the database
with the instance directory, and the server's own log beside them.
"""
from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from ssj.extensions import db
from tests.conftest import post

from .conftest import active_assignments, build_world, drawn_codes, freeze, full_draw

DB_NAME = "ssj.sqlite3"


def _snapshot(instance: Path, dest: Path) -> Path:
    """Copy instance/ as a backup script would: the database with its -wal and -shm, and the keys."""
    shutil.copytree(instance, dest)
    return dest


def _all_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _forms(value: str) -> list[bytes]:
    """How a string can sit in a file: UTF-8 as is, or escaped by a JSON encoder."""
    escaped = json.dumps(value)[1:-1]
    return sorted({value.encode("utf-8"), escaped.encode("ascii")})


def _count(blobs: dict[str, bytes], value: str) -> int:
    return sum(b.count(form) for b in blobs.values() for form in _forms(value))


def _dump(db_path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, read from a copy (SQLite applies the copied WAL on open)."""
    work = db_path.parent / "dump-copy"
    work.mkdir()
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(db_path) + suffix)
        if src.exists():
            shutil.copy(src, work / (db_path.name + suffix))
    con = sqlite3.connect(work / db_path.name)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        dump = {t: con.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}
        dump["__fk_to_target__"] = [
            (t, fk[3]) for t in tables for fk in con.execute(f'PRAGMA foreign_key_list("{t}")') if fk[2] == "target"
        ]
        return dump
    finally:
        con.close()


def _walk(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, path + (k,))
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, path)
    else:
        yield path, value


def _rows(app) -> dict[str, list[tuple]]:
    """Every row of every table read through the app's engine, in key order, like `_dump` (PostgreSQL)."""
    with app.app_context():
        inspector = inspect(db.engine)
        tables = sorted(inspector.get_table_names())
        dump = {}
        for t in tables:
            order = inspector.get_pk_constraint(t)["constrained_columns"] or [c["name"] for c in inspector.get_columns(t)]
            keys = ", ".join(f'"{c}"' for c in order)
            dump[t] = [tuple(r) for r in db.session.execute(text(f'SELECT * FROM "{t}" ORDER BY {keys}'))]
        dump["__fk_to_target__"] = [
            (t, col) for t in tables for fk in inspector.get_foreign_keys(t) if fk["referred_table"] == "target"
            for col in fk["constrained_columns"]
        ]
        db.session.remove()
        return dump


def _draw_and_what_follows(app, login_as, world) -> None:
    """The draw through the routes, then the reads and the recusal that typically come next (they write too)."""
    staff = login_as("staff")
    full_draw(staff, app, world.task_id)
    assert staff.get(f"/tasks/{world.task_id}/list").status_code == 200
    assert staff.get(f"/tasks/{world.task_id}/list.xlsx").status_code == 200
    inspector = login_as("inspector")
    assert inspector.get("/my/inspections").status_code == 200
    position = next(p for p, s in active_assignments(app, world.task_id) if s == "JC01")
    url = f"/tasks/{world.task_id}/positions/{position}/inspectors/{world.inspectors['JC01']}/recuse"
    assert post(inspector, url, {"reason": "本人配偶在该单位任职"}).status_code == 302


def _probe_tasks(app) -> tuple[int, int]:
    """Two more tasks over the same scope: one frozen before the draw, one after (SPEC §4 "no oracles")."""
    return (
        build_world(app, n_targets=0, jc_inspectors=0, tag="探前", cap=None).task_id,
        build_world(app, n_targets=0, jc_inspectors=0, tag="探后", cap=None).task_id,
    )


def _frozen_columns(app, task_id: int) -> dict:
    """Every plaintext column of the task's frozen attempt that describes its pools."""
    with app.app_context():
        row = db.session.execute(
            text("SELECT pool_summary_json, sample_summary_json, state FROM draw_attempt WHERE task_id = :t"), {"t": task_id}
        ).one()
        db.session.remove()
    summary = json.loads(row[0])
    return {"strata": summary["strata"], "inspectors": summary["inspectors"], "rest": (row[1], row[2])}


def _assert_pools_do_not_tell(app, login_as, before_task: int, after_task: int, drawn) -> None:
    """A task frozen over the same scope after the draw has the very pool columns of one frozen before it:
    the drawn targets are still in the pool, and nothing about them shows in sizes, hashes or k."""
    assert freeze(login_as("staff"), after_task).status_code == 302
    before, after = _frozen_columns(app, before_task), _frozen_columns(app, after_task)
    assert after == before
    assert before["strata"][0]["size"] >= len(drawn) > 0


def _quiet_sql_echo_and_capture_logs(caplog) -> None:
    # SQL statement logging stays as in production (off): with echo on, SQLAlchemy
    # would print query parameters, and the draw looks drawn codes up by value.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    caplog.set_level(logging.DEBUG)


def _assert_no_file_tells(before_bytes: dict[str, bytes], after_bytes: dict[str, bytes], world, drawn) -> None:
    """A drawn code or name occurs exactly as often as before the draw, like an undrawn one."""
    for code in world.targets:
        for value in (code, world.targets[code]):
            # Counted into a plain number first: an assertion message must not print key bytes.
            grew = _count(after_bytes, value) - _count(before_bytes, value)
            assert grew == 0, f"{'drawn' if code in drawn else 'undrawn'} target's {value!r}: {grew:+d} occurrences"


def _assert_no_row_tells(before: dict, after: dict, world, drawn) -> None:
    """The target table (and the other directories) are byte-identical, so no
    column tells drawn from undrawn; nothing new names a drawn target."""
    for table in ("target", "conflict", "inspector", "township"):
        assert after[table] == before[table], f"{table} changed during the draw"
    for table, column in after["__fk_to_target__"]:
        assert after[table] == before[table], f"{table}.{column} points at targets and gained rows"
    drawn_ids = {world.target_ids[c] for c in drawn}
    new_rows = {t: [r for r in rows if r not in set(before.get(t, []))] for t, rows in after.items() if t != "__fk_to_target__"}
    assert new_rows["draw_attempt"] and new_rows["assignment"] and new_rows["access_log"] and new_rows["recusal"]
    secrets = [v for c in drawn for v in (c, world.targets[c])]
    for table, rows in new_rows.items():
        for row in rows:
            for cell in row:
                raw = cell if isinstance(cell, bytes) else str(cell).encode("utf-8")
                for value in secrets:
                    assert not any(form in raw for form in _forms(value)), f"{table} has a new row naming a drawn target"
                if isinstance(cell, str) and cell[:1] in "{[":
                    try:
                        parsed = json.loads(cell)
                    except ValueError:
                        continue
                    for path, leaf in _walk(parsed):
                        if any("target" in str(k) and "ref" not in str(k) for k in path):
                            assert leaf not in drawn_ids, f"{table}: {'.'.join(map(str, path))} holds a drawn target's id"


def _assert_no_log_line_tells(caplog, world, drawn) -> None:
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for value in (v for c in drawn for v in (c, world.targets[c])):
        assert value not in logged


@pytest.mark.sqlite_only(reason="copies the SQLite file with its WAL; the PostgreSQL variant dumps the database")
def test_a_copy_of_the_database_and_instance_does_not_tell_which_targets_were_drawn(
    app, login_as, instance_path, tmp_path, caplog
):
    world = build_world(app, n_targets=30, tag="密", jc_inspectors=5, cap=None)
    probe_before, probe_after = _probe_tasks(app)
    assert freeze(login_as("staff"), probe_before).status_code == 302
    with app.app_context():
        # At rest: everything in the main file, an empty WAL.
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.commit()
    before_dir = _snapshot(instance_path, tmp_path / "before")
    _quiet_sql_echo_and_capture_logs(caplog)
    _draw_and_what_follows(app, login_as, world)
    drawn = drawn_codes(app, world.task_id)
    _assert_pools_do_not_tell(app, login_as, probe_before, probe_after, drawn)
    after_dir = _snapshot(instance_path, tmp_path / "after")

    undrawn = [c for c in world.targets if c not in drawn]
    assert len(drawn) == 11 and undrawn

    # 1. Raw bytes of every file (database, WAL, shared memory, keys, anything else).
    before_bytes, after_bytes = _all_bytes(before_dir), _all_bytes(after_dir)
    assert any(name.endswith("-wal") and len(b) > 0 for name, b in after_bytes.items())  # the draw did write
    _assert_no_file_tells(before_bytes, after_bytes, world, drawn)
    wal = b"".join(b for name, b in after_bytes.items() if name.endswith("-wal"))
    for code in drawn:
        assert not any(form in wal for value in (code, world.targets[code]) for form in _forms(value))

    # 2. Row by row, from the copies.
    _assert_no_row_tells(_dump(before_dir / DB_NAME), _dump(after_dir / DB_NAME), world, drawn)

    # 3. Log lines written while it all happened.
    _assert_no_log_line_tells(caplog, world, drawn)


@pytest.mark.postgres_only(reason="the SQLite variant copies the database file and its WAL")
def test_a_dump_of_the_postgresql_database_and_instance_does_not_tell_which_targets_were_drawn(
    app, login_as, instance_path, tmp_path, caplog, database_bytes, postgres_cluster
):
    world = build_world(app, n_targets=30, tag="密", jc_inspectors=5, cap=None)
    probe_before, probe_after = _probe_tasks(app)
    assert freeze(login_as("staff"), probe_before).status_code == 302

    def backup(dest: Path) -> dict[str, bytes]:
        # What a backup job holds: pg_dump's output and the instance directory (keys, files);
        # plus the server's log, where a failed statement's details would quote values.
        files = _all_bytes(_snapshot(instance_path, dest))
        files["pg_dump.sql"] = database_bytes()
        files["server.log"] = postgres_cluster.server_log()
        return files

    before_bytes, before_rows = backup(tmp_path / "before"), _rows(app)
    _quiet_sql_echo_and_capture_logs(caplog)
    _draw_and_what_follows(app, login_as, world)
    drawn = drawn_codes(app, world.task_id)
    _assert_pools_do_not_tell(app, login_as, probe_before, probe_after, drawn)
    after_bytes, after_rows = backup(tmp_path / "after"), _rows(app)

    assert len(drawn) == 11 and [c for c in world.targets if c not in drawn]
    assert len(after_bytes["pg_dump.sql"]) > len(before_bytes["pg_dump.sql"])  # the draw did write
    # Every target is in the dump once as a directory row, drawn or not, and no more often after the draw.
    assert all(_count(before_bytes, code) >= 1 for code in world.targets)
    _assert_no_file_tells(before_bytes, after_bytes, world, drawn)
    _assert_no_row_tells(before_rows, after_rows, world, drawn)
    _assert_no_log_line_tells(caplog, world, drawn)
