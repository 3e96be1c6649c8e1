"""The pure hash-chain functions, without Flask or a database (SPEC §5)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ssj.audit import chain, verify
from ssj.audit.chain import GENESIS, Anchor, StoredEntry, canonical_json, entry_hash, verify_entries

KEY = b"k" * 32


def build(n: int, mac_key: bytes = KEY) -> list[StoredEntry]:
    entries, prev = [], GENESIS
    for seq in range(1, n + 1):
        body = canonical_json({"seq": seq, "action": "read:main.todo", "username": "张三", "outcome": "ok"})
        digest = entry_hash(prev, body)
        entries.append(StoredEntry(seq, seq, body, prev, digest, chain.entry_mac(mac_key, digest), {"username": "张三"}))
        prev = digest
    return entries


def first(entries, **kw) -> chain.Problem:
    problem = verify_entries(entries, KEY, **kw).problem
    assert problem is not None
    return problem


# --- canonical JSON -------------------------------------------------------------------


def test_canonical_json_sorts_keys_at_every_level_and_has_no_spaces():
    assert canonical_json({"b": 1, "a": {"d": [2, {"z": 0, "y": None}], "c": True}}) == (
        '{"a":{"c":true,"d":[2,{"y":null,"z":0}]},"b":1}'
    )


def test_canonical_json_keeps_chinese_as_utf8():
    text = canonical_json({"name": "劳动保障监察大队"})
    assert text == '{"name":"劳动保障监察大队"}'
    assert "\\u" not in text


@pytest.mark.parametrize(
    "body",
    [{"x": 1.5}, {"x": [1, 2.0]}, {"x": {"y": float("nan")}}, {"x": (0.1,)}],
)
def test_canonical_json_rejects_floats_anywhere(body):
    with pytest.raises(TypeError):
        canonical_json(body)


def test_canonical_json_rejects_non_string_keys_and_unencodable_text():
    with pytest.raises(TypeError):
        canonical_json({1: "a"})
    with pytest.raises(UnicodeEncodeError):
        canonical_json({"x": "\ud800"})


def test_the_same_content_always_has_the_same_text():
    assert canonical_json({"a": 1, "b": "二"}) == canonical_json(dict(reversed(list({"a": 1, "b": "二"}.items()))))


# --- hashing -----------------------------------------------------------------------------


def test_entry_hash_is_sha256_of_previous_hash_bytes_then_utf8_text():
    body = canonical_json({"seq": 1, "who": "李四"})
    expected = hashlib.sha256(bytes(32) + body.encode("utf-8")).hexdigest()
    assert entry_hash(GENESIS, body) == expected


def test_each_hash_depends_on_everything_before_it():
    a, b = build(3), build(3)
    b[0] = replace(b[0], body=b[0].body.replace("张三", "王五"))
    # The same third body gives another hash once anything earlier differs.
    assert entry_hash(entry_hash(GENESIS, b[0].body), a[1].body) != a[1].entry_hash


def test_checkpoint_statement_round_trips_and_only_in_canonical_form():
    statement = chain.checkpoint_statement(40, "a" * 64, "2026-01-05T01:02:03.000004Z")
    assert chain.parse_checkpoint_statement(statement) == (40, "a" * 64, "2026-01-05T01:02:03.000004Z")
    spaced = json.dumps(json.loads(statement), indent=1)
    with pytest.raises(ValueError):
        chain.parse_checkpoint_statement(spaced)


# --- the walk ----------------------------------------------------------------------------


def test_an_intact_chain_verifies():
    entries = build(12)
    result = verify_entries(entries, KEY)
    assert result.problem is None
    assert (result.checked, result.last_seq, result.head_hash) == (12, 12, entries[-1].entry_hash)


def test_an_empty_chain_verifies_with_the_genesis_head():
    result = verify_entries([], KEY)
    assert result.problem is None and result.head_hash == GENESIS and result.checked == 0


def test_edited_content_is_altered():
    entries = build(6)
    entries[3] = replace(entries[3], body=entries[3].body.replace("ok", "denied"))
    p = first(entries)
    assert (p.seq, p.kind) == (4, "altered")


def test_a_missing_entry_is_deleted():
    entries = build(6)
    del entries[2]
    p = first(entries)
    assert (p.seq, p.kind) == (3, "deleted")


def test_a_missing_first_entry_is_deleted():
    p = first(build(4)[1:])
    assert (p.seq, p.kind) == (1, "deleted") and "starts at entry 2" in p.detail


def test_a_forged_entry_at_the_end_is_inserted():
    entries = build(5)
    body = canonical_json({"seq": 6, "action": "export", "username": "张三", "outcome": "ok"})
    entries.append(StoredEntry(6, 6, body, entries[-1].entry_hash, entry_hash(entries[-1].entry_hash, body), "0" * 64,
                               {"username": "张三"}))
    p = first(entries)
    assert (p.seq, p.kind) == (6, "inserted")


def test_a_swap_is_reordered():
    entries = build(6)
    entries[1], entries[4] = replace(entries[4], seq=2), replace(entries[1], seq=5)
    p = first(entries)
    assert (p.seq, p.kind) == (2, "reordered")


def rehashed_edit(entries: list[StoredEntry], seq: int) -> list[StoredEntry]:
    """Edit one entry and recompute every hash from there on, keeping the old MACs."""
    prev, out = GENESIS, []
    for e in entries:
        body = e.body.replace("ok", "denied") if e.seq == seq else e.body
        digest = entry_hash(prev, body)
        out.append(replace(e, body=body, prev_hash=prev, entry_hash=digest))
        prev = digest
    return out


def test_a_rehashed_edit_without_the_mac_key_is_altered():
    p = first(rehashed_edit(build(6), 3))
    assert (p.seq, p.kind) == (3, "altered") and "MAC" in p.detail


def test_without_the_mac_a_rehashed_edit_is_caught_by_an_anchor():
    original = build(6)
    rewritten = rehashed_edit(original, 3)
    assert verify_entries(rewritten, None).problem is None
    anchors = [Anchor(2, original[1].entry_hash, "cp", "cp"), Anchor(4, original[3].entry_hash, "cp", "cp")]
    p = verify_entries(rewritten, None, anchors).problem
    assert (p.seq, p.kind) == (4, "rewritten") and "entries 3–4" in p.detail


def test_an_anchor_past_the_end_is_truncated():
    entries = build(5)
    p = verify_entries(entries[:3], KEY, [Anchor(5, entries[4].entry_hash, "the head row", "链头记录")]).problem
    assert (p.seq, p.kind) == (4, "truncated") and "4–5" in p.detail


def test_a_search_column_that_disagrees_with_the_body_is_altered():
    entries = build(4)
    entries[1] = replace(entries[1], copies={"username": "李四"})
    p = first(entries)
    assert (p.seq, p.kind) == (2, "altered") and "username" in p.detail


def test_problems_read_in_chinese():
    p = chain.Problem(7, "deleted", "entries 7 are missing", "缺少第 7 条")
    assert str(p) == "entry 7 deleted: entries 7 are missing"
    assert p.zh == "第 7 条记录被删除：缺少第 7 条"
    with pytest.raises(ValueError):
        chain.Problem(1, "lost", "", "")


# --- checkpoints and exported files (pure parts of verify.py) ----------------------------


def signed(key: Ed25519PrivateKey, seq: int, head: str) -> verify.SignedCheckpoint:
    at = "2026-03-01T00:00:00.000000Z"
    statement = chain.checkpoint_statement(seq, head, at)
    return verify.SignedCheckpoint(seq, head, at, statement, key.sign(statement.encode()).hex(),
                                   verify.key_id_of(key.public_key()))


def test_a_checkpoint_verifies_only_under_its_own_key_and_statement():
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    cp = signed(key, 10, "a" * 64)
    assert verify.checkpoint_fault(cp, key.public_key()) is None
    assert "key" in verify.checkpoint_fault(cp, other.public_key())[0]
    assert verify.checkpoint_fault(replace(cp, head_hash="b" * 64), key.public_key()) is not None
    forged = replace(cp, signature=signed(key, 11, "a" * 64).signature)
    assert "signature" in verify.checkpoint_fault(forged, key.public_key())[0]


def test_an_export_round_trips_and_a_changed_one_is_refused():
    key = Ed25519PrivateKey.generate()
    doc = verify.export_document([signed(key, 10, "a" * 64), signed(key, 20, "b" * 64)], key.public_key(),
                                 "2026-03-02T00:00:00Z")
    parsed = verify.parse_export(json.dumps(doc))
    assert [cp.seq for cp in parsed.checkpoints] == [10, 20]
    doc["checkpoints"][1]["head_hash"] = "c" * 64
    with pytest.raises(verify.ExportFileError) as err:
        verify.parse_export(json.dumps(doc))
    assert "第 20 条" in err.value.message_zh
    with pytest.raises(verify.ExportFileError):
        verify.parse_export("not json")
    with pytest.raises(verify.ExportFileError):
        verify.parse_export(json.dumps({"format": "something else"}))


def test_the_first_problem_is_the_earliest_in_the_log():
    late = chain.Problem(30, "checkpoint", "x", "x")
    early = chain.Problem(12, "deleted", "y", "y")
    assert verify.first_problem([late], [None, early]) is early
    assert verify.first_problem([None], []) is None
