"""The fast verify (raw rows, pre-keyed MAC, ranges in forked processes) says what the plain walk says.

`verify_log(fast=False)` walks StoredEntry objects with chain.verify_entries,
the reference; `verify_log()` walks the driver's raw rows with
chain.verify_rows, one process or several. For every kind of tampering
test_tamper.py checks, at an early entry and at the entry where the second
process's range starts, all of them must give the same report: the same
first broken entry, kind and wording, entries checked and head.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import os
from datetime import datetime, timedelta, timezone

import pytest

from ssj.audit import chain, service
from ssj.audit.verify import parse_export, verify_log
from ssj.suites import digest_hex, mac_hex

from .conftest import CRYPTO_SUITE, run


@pytest.mark.parametrize("suite", ["intl", "sm"])
@pytest.mark.parametrize("key_len", [16, 32, 64, 65, 100])
def test_the_fast_hash_and_mac_are_the_plain_ones(suite, key_len):
    new_hash = chain.fast_hash(suite)
    assert new_hash is not None  # hashlib has SM3 on this machine's OpenSSL
    key = bytes(range(key_len))
    mac = chain.keyed_mac(new_hash, key)
    for text in ("", chain.GENESIS, "入口" * 300, hashlib.sha256(b"x").hexdigest()):
        data = text.encode("utf-8")
        assert new_hash(data).hexdigest() == digest_hex(suite, data)
        assert mac(data) == mac_hex(suite, key, data)
        if suite == "intl":
            assert mac(data) == hmac.new(key, data, hashlib.sha256).hexdigest()


def test_at_is_spelled_as_the_plain_reader_spells_it(app):
    with app.app_context():
        spell = service.at_speller()
        naive = datetime(2026, 12, 3, 4, 5, 6, 789)
        if service.db.engine.dialect.name == "sqlite":
            # SQLite's own spelling and near misses of it: a week date, an offset, a comma, 24:00.
            raws = ["2026-12-03 04:05:06.000789", "2026-12-03 04:05:06", "2026-12-03T04:05:06+08:00",
                    "2026-12-03 04:05:06.5-05:30", "2026-W49-4 04:05:06.000789", "2026-12-03 04:05:06.123+08",
                    "2026-12-03 04:05:06,000789", "2026-12-03T04:05:06.000789", "2026-12-03 24:00:00.000000",
                    "2026-12-03 04:05:06.00078x", None]
        else:
            raws = [naive, naive.replace(microsecond=0), naive.replace(tzinfo=timezone(timedelta(hours=8))), None]
        for raw in raws:
            assert _spelled(spell, raw) == _spelled(spell.whole_way, raw), raw


def _spelled(spell, raw):
    try:
        return spell(raw)
    except ValueError as exc:
        return f"refused: {exc}"


def _edit(attacker, seq: int) -> None:
    attacker.edit_body(seq, '"client":"', '"client":"10.')


def _rewrite_with_keys(attacker, seq: int) -> None:
    _edit(attacker, seq)
    attacker.rechain(seq, with_mac_key=True)


def _forged(attacker, seq: int) -> None:
    original = attacker.entry(seq)
    body = json.loads(original["body"])
    body["action"] = "export:directories.targets"
    body = chain.canonical_json(body)
    digest = chain.entry_hash(original["prev_hash"], body, CRYPTO_SUITE)
    attacker.insert_like(original, body=body, action="export:directories.targets", entry_hash=digest,
                         entry_mac="0" * 64)


def _renumbered(attacker, seq: int) -> None:
    attacker.sql("DELETE FROM access_log WHERE seq IN (?, ?, ?)", seq, seq + 1, seq + 2)
    attacker.sql("UPDATE access_log SET seq = seq - 3 WHERE seq > ?", seq + 2)
    attacker.sql("UPDATE access_log_head SET seq = seq - 3")


TAMPERINGS = {
    "untouched": lambda a, s, n: None,
    "rewritten entry": lambda a, s, n: _edit(a, s),
    "edited search column": lambda a, s, n: a.sql("UPDATE access_log SET username = 'nobody' WHERE seq = ?", s),
    "edited time column": lambda a, s, n: a.sql(
        "UPDATE access_log SET at = ? WHERE seq = ?", datetime(2020, 1, 1), s),
    "broken link": lambda a, s, n: a.sql("UPDATE access_log SET prev_hash = ? WHERE seq = ?", "ab" * 32, s),
    "deleted row": lambda a, s, n: a.sql("DELETE FROM access_log WHERE seq = ?", s),
    "deleted and renumbered": lambda a, s, n: _renumbered(a, s),
    "forged with a taken number": lambda a, s, n: _forged(a, s),
    "exact copy": lambda a, s, n: a.insert_like(a.entry(s)),
    "replayed at the end": lambda a, s, n: a.insert_like(a.entry(s), seq=n + 1),
    "copy numbered 0": lambda a, s, n: a.insert_like(a.entry(s), seq=0),
    "reordered": lambda a, s, n: a.sql(
        "UPDATE access_log SET seq = CASE seq WHEN ? THEN ? ELSE ? END WHERE seq IN (?, ?)", s, s + 5, s, s, s + 5),
    "neighbours reordered": lambda a, s, n: a.sql(
        "UPDATE access_log SET seq = CASE seq WHEN ? THEN ? ELSE ? END WHERE seq IN (?, ?)", s, s + 1, s, s, s + 1),
    "rehashed without the MAC key": lambda a, s, n: (_edit(a, s), a.rechain(s)),
    "rehashed with the MAC key": lambda a, s, n: _rewrite_with_keys(a, s),
    "truncated": lambda a, s, n: a.sql("DELETE FROM access_log WHERE seq >= ?", s),
    "forged head": lambda a, s, n: a.sql("UPDATE access_log_head SET head_hash = ?", "e" * 64),
}


def _reports(app, against=None):
    """The plain report, then the fast one in one process, two and three (forced to split the small log)."""
    out = []
    for fast, processes in ((False, 1), (True, 1), (True, 2), (True, 3)):
        app.config.update(AUDIT_VERIFY_PROCESSES=processes, AUDIT_VERIFY_PARALLEL_FROM=0)
        with app.app_context():
            out.append(verify_log(against, fast=fast))
    return out


@pytest.mark.parametrize("where", ["early", "boundary"])
@pytest.mark.parametrize("kind", list(TAMPERINGS))
def test_every_walk_names_the_same_first_broken_entry(app, traffic, attacker, kind, where):
    seq = 7 if where == "early" else 1 + traffic // 2  # where the second of two processes starts
    TAMPERINGS[kind](attacker, seq, traffic)
    plain, *fast = _reports(app)
    assert plain.ok == (kind == "untouched"), plain.problem
    for report in fast:
        assert report == plain


def test_a_rewrite_with_every_key_is_named_alike_against_the_exported_file(app, traffic, attacker, tmp_path):
    exported = tmp_path / "checkpoints.json"
    assert run(app, "export-checkpoints", "--output", str(exported))[0] == 0
    _rewrite_with_keys(attacker, 1 + traffic // 2)
    attacker.resign_checkpoints()
    against = parse_export(exported.read_text())
    plain, *fast = _reports(app, against)
    assert not plain.ok and plain.problem.kind == "rewritten"
    assert all(report == plain for report in fast)


class _CountingContext:
    """multiprocessing with the processes started counted (the split must really happen)."""

    def __init__(self):
        self.started = 0

    def get_context(self, method):
        real = multiprocessing.get_context(method)
        counter = self

        class Process(real.Process):
            def start(self):
                counter.started += 1
                super().start()

        class Context:
            Pipe = staticmethod(real.Pipe)

        Context.Process = Process
        return Context


def test_a_long_log_is_split_across_processes_and_a_dead_child_changes_nothing(app, traffic, attacker, monkeypatch):
    counting = _CountingContext()
    monkeypatch.setattr(service, "multiprocessing", counting)
    _edit(attacker, traffic - 2)
    plain, _, two, three = _reports(app)
    assert counting.started == 1 + 2
    assert two == three == plain and plain.problem.seq == traffic - 2

    # A child that dies before it reports: its range is walked by the parent instead.
    monkeypatch.setattr(service, "_scan_child", lambda *args: os._exit(3))
    app.config.update(AUDIT_VERIFY_PROCESSES=3)
    with app.app_context():
        assert verify_log() == plain
    assert counting.started == 3 + 2
