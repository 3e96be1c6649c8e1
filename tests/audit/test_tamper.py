"""Editing the access log behind the app's back is named by `flask audit verify` (SPEC §5).

Each test makes real entries by signing in and browsing, changes rows in
the SQLite file directly, runs the real CLI and checks the first problem it
names: which entry, and whether it was altered, deleted, inserted,
reordered, truncated or rewritten.
"""
from __future__ import annotations

import json

from ssj.audit import chain

from .conftest import CHECKPOINT_EVERY, CRYPTO_SUITE, run


def forged_body(row, **changes) -> str:
    body = json.loads(row["body"])
    body.update(changes)
    return chain.canonical_json(body)


def test_an_untouched_log_verifies(app, traffic, attacker):
    code, out = run(app, "verify")
    assert code == 0, out
    seq, head = attacker.head()
    last_cp = traffic // CHECKPOINT_EVERY * CHECKPOINT_EVERY
    assert out.strip() == f"OK: {traffic} entries, head {head}, last signed checkpoint seq {last_cp}"
    assert seq == traffic


def test_an_edited_entry_is_altered(app, traffic, attacker):
    attacker.edit_body(7, '"outcome":"ok"', '"outcome":"denied"')
    code, out = run(app, "verify")
    assert code == 1
    assert "entry 7 altered" in out
    assert "第 7 条记录被篡改" in out


def test_an_edited_search_column_is_altered(app, traffic, attacker):
    # The console searches by these columns: hiding an entry from a search is tampering too.
    attacker.sql("UPDATE access_log SET username = 'nobody' WHERE seq = 9")
    code, out = run(app, "verify")
    assert code == 1
    assert "entry 9 altered" in out and "'username'" in out


def test_a_deleted_entry_is_named(app, traffic, attacker):
    attacker.sql("DELETE FROM access_log WHERE seq = 12")
    code, out = run(app, "verify")
    assert code == 1
    assert "entry 12 deleted" in out
    assert "第 12 条记录被删除" in out


def test_deleted_entries_hidden_by_renumbering_are_named(app, traffic, attacker):
    attacker.sql("DELETE FROM access_log WHERE seq IN (12, 13, 14)")
    attacker.sql("UPDATE access_log SET seq = seq - 3 WHERE seq > 14")
    attacker.sql("UPDATE access_log_head SET seq = seq - 3")
    code, out = run(app, "verify")
    assert code == 1
    assert "entry 12 deleted" in out and "12–14" in out


def test_a_forged_entry_with_a_taken_number_is_inserted(app, traffic, attacker):
    original = attacker.entry(15)
    body = forged_body(original, action="export:directories.targets")
    digest = chain.entry_hash(original["prev_hash"], body, CRYPTO_SUITE)
    attacker.insert_like(original, body=body, action="export:directories.targets", entry_hash=digest, entry_mac="0" * 64)
    code, out = run(app, "verify")
    assert code == 1
    assert "entry 15 inserted" in out and "two entries carry sequence number 15" in out


def test_a_forged_entry_slipped_in_by_renumbering_is_inserted(app, traffic, attacker):
    original = attacker.entry(15)
    attacker.sql("UPDATE access_log SET seq = seq + 1 WHERE seq >= 15")
    attacker.sql("UPDATE access_log_head SET seq = seq + 1")
    body = forged_body(original, action="read:main.todo", username="supervisor")
    digest = chain.entry_hash(original["prev_hash"], body, CRYPTO_SUITE)
    attacker.insert_like(original, body=body, username="supervisor", entry_hash=digest, entry_mac="ab" * 32)
    code, out = run(app, "verify")
    assert code == 1
    assert "entry 15 inserted" in out
    assert "第 15 条记录是被插入的" in out


def test_a_forged_entry_appended_at_the_end_is_inserted(app, traffic, attacker):
    last = attacker.entry(traffic)
    body = forged_body(last, seq=traffic + 1)
    digest = chain.entry_hash(last["entry_hash"], body, CRYPTO_SUITE)
    attacker.insert_like(last, seq=traffic + 1, body=body, prev_hash=last["entry_hash"], entry_hash=digest)
    attacker.sql("UPDATE access_log_head SET seq = ?, head_hash = ?", traffic + 1, digest)
    code, out = run(app, "verify")
    assert code == 1
    assert f"entry {traffic + 1} inserted" in out and "MAC" in out


def test_a_copied_entry_is_inserted(app, traffic, attacker):
    attacker.insert_like(attacker.entry(5))
    code, out = run(app, "verify")
    assert code == 1
    assert "entry 5 inserted" in out and "exact copy" in out


def test_a_genuine_entry_replayed_at_the_end_is_inserted(app, traffic, attacker):
    # Its MAC is genuine, but its hashed content says it is entry 5.
    attacker.insert_like(attacker.entry(5), seq=traffic + 1)
    code, out = run(app, "verify")
    assert code == 1
    assert f"entry {traffic + 1} inserted" in out and "copy of entry 5" in out


def test_swapped_entries_are_reordered(app, traffic, attacker):
    attacker.sql("UPDATE access_log SET seq = CASE seq WHEN 10 THEN 20 ELSE 10 END WHERE seq IN (10, 20)")
    code, out = run(app, "verify")
    assert code == 1
    assert "entry 10 reordered" in out and "written as entry 20" in out
    assert "第 10 条记录顺序被调换" in out


def test_neighbours_swapped_are_reordered(app, traffic, attacker):
    attacker.sql("UPDATE access_log SET seq = CASE seq WHEN 25 THEN 26 ELSE 25 END WHERE seq IN (25, 26)")
    code, out = run(app, "verify")
    assert code == 1
    assert "entry 25 reordered" in out


def test_an_edit_with_recomputed_hashes_is_caught_by_the_mac(app, traffic, attacker):
    attacker.edit_body(13, '"outcome":"ok"', '"outcome":"denied"')
    attacker.rechain(13)
    code, out = run(app, "verify")
    assert code == 1
    assert "entry 13 altered" in out and "MAC" in out


def test_an_edit_with_recomputed_macs_is_caught_by_a_signed_checkpoint(app, traffic, attacker):
    # The attacker holds the audit key as well: only the Ed25519 checkpoint still disagrees.
    attacker.edit_body(13, '"outcome":"ok"', '"outcome":"denied"')
    attacker.sql("UPDATE access_log SET outcome = 'denied' WHERE seq = 13")  # and its search column
    attacker.rechain(13, with_mac_key=True)
    code, out = run(app, "verify")
    assert code == 1
    assert "entry 20 rewritten" in out and "signed checkpoint" in out
    assert "entries 11–20" in out  # the checkpoint at 10 still matched, so the edit lies in 11–20


def test_a_rewrite_with_every_key_is_caught_only_by_the_exported_checkpoints(app, traffic, attacker, tmp_path):
    exported = tmp_path / "checkpoints.json"
    assert run(app, "export-checkpoints", "--output", str(exported))[0] == 0
    attacker.edit_body(13, '"outcome":"ok"', '"outcome":"denied"')
    attacker.sql("UPDATE access_log SET outcome = 'denied' WHERE seq = 13")  # and its search column
    attacker.rechain(13, with_mac_key=True)
    attacker.resign_checkpoints()

    # What the server holds is consistent again: this is the documented limit.
    code, out = run(app, "verify")
    assert code == 0, out

    code, out = run(app, "verify", "--against", str(exported))
    assert code == 1
    assert "entry 20 rewritten" in out and "exported checkpoint" in out


def test_cutting_off_the_newest_entries_is_caught_by_the_head_row(app, traffic, attacker):
    attacker.sql("DELETE FROM access_log WHERE seq > ?", traffic - 3)
    code, out = run(app, "verify")
    assert code == 1
    assert f"entry {traffic - 2} truncated" in out and "head row" in out
    assert f"访问日志从第 {traffic - 2} 条起的记录被截断" in out


def test_a_truncation_that_fixed_the_head_row_is_caught_by_an_exported_checkpoint(app, traffic, attacker, tmp_path):
    exported = tmp_path / "checkpoints.json"
    assert run(app, "export-checkpoints", "--sign-now", "--output", str(exported))[0] == 0
    keep = 25
    attacker.sql("DELETE FROM access_log WHERE seq > ?", keep)
    attacker.sql("UPDATE access_log_head SET seq = ?, head_hash = ?", keep, attacker.entry(keep)["entry_hash"])
    attacker.sql("DELETE FROM access_log_checkpoint WHERE seq > ?", keep)

    assert run(app, "verify")[0] == 0  # nothing left on the server to contradict it

    code, out = run(app, "verify", "--against", str(exported))
    assert code == 1
    assert f"entry {keep + 1} truncated" in out and "exported checkpoint" in out
    assert f"entries {keep + 1}–{traffic} were deleted" in out


def test_an_edited_checkpoint_is_named(app, traffic, attacker):
    attacker.sql("UPDATE access_log_checkpoint SET head_hash = ? WHERE seq = 20", "f" * 64)
    code, out = run(app, "verify")
    assert code == 1
    assert "checkpoint at entry 20 invalid" in out
    assert "第 20 条处的签名检查点无效" in out


def test_a_checkpoint_with_a_borrowed_signature_is_named(app, traffic, attacker):
    other = attacker.rows("access_log_checkpoint")[0]["signature"]
    attacker.sql("UPDATE access_log_checkpoint SET signature = ? WHERE seq = 30", other)
    code, out = run(app, "verify")
    assert code == 1
    assert "checkpoint at entry 30 invalid" in out and "signature does not verify" in out


def test_a_deleted_checkpoint_is_named_against_the_export(app, traffic, attacker, tmp_path):
    exported = tmp_path / "checkpoints.json"
    assert run(app, "export-checkpoints", "--output", str(exported))[0] == 0
    attacker.sql("DELETE FROM access_log_checkpoint WHERE seq = 30")
    code, out = run(app, "verify", "--against", str(exported))
    assert code == 1
    assert "checkpoint at entry 30 invalid" in out and "no longer stored" in out


def test_a_missing_head_row_is_named(app, traffic, attacker):
    attacker.sql("DELETE FROM access_log_head")
    code, out = run(app, "verify")
    assert code == 1
    assert "head row (access_log_head) wrong" in out


def test_an_edited_head_row_is_named(app, traffic, attacker):
    attacker.sql("UPDATE access_log_head SET head_hash = ?", "e" * 64)
    code, out = run(app, "verify")
    assert code == 1
    assert f"entry {traffic} rewritten" in out and "head row" in out


def test_verifying_changes_nothing(app, traffic, attacker):
    before = [tuple(r) for r in attacker.rows()]
    run(app, "verify")
    assert [tuple(r) for r in attacker.rows()] == before
