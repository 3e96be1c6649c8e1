"""Exporting checkpoints for the discipline office, and checking a file it brings back (SPEC §5)."""
from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .conftest import CHECKPOINT_EVERY, run


def export(app, *args):
    result = app.test_cli_runner().invoke(args=["audit", "export-checkpoints", *args])
    return result


def test_the_export_holds_every_checkpoint_and_a_key_that_verifies_them(app, traffic, attacker):
    result = export(app)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["format"] == "ssj-audit-checkpoints-v1" and doc["algorithm"] == "Ed25519"
    assert [c["seq"] for c in doc["checkpoints"]] == list(range(CHECKPOINT_EVERY, traffic + 1, CHECKPOINT_EVERY))
    # Checked with the public key from the file alone, as the discipline office would.
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(doc["public_key"]))
    for c in doc["checkpoints"]:
        key.verify(bytes.fromhex(c["signature"]), c["statement"].encode("utf-8"))
        assert c["key_id"] == doc["key_id"]
        assert c["head_hash"] == attacker.entry(c["seq"])["entry_hash"]
    assert set(doc["checkpoints"][0]) == {"seq", "head_hash", "signed_at", "statement", "signature", "key_id"}


def test_sign_now_covers_the_log_up_to_now(app, traffic, attacker, tmp_path):
    out = tmp_path / "cp.json"
    result = export(app, "--sign-now", "--output", str(out))
    assert result.exit_code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["checkpoints"][-1]["seq"] == traffic == doc["log_entries_at_export"]
    code, text = run(app, "verify", "--against", str(out))
    assert code == 0, text
    assert f"matches {len(doc['checkpoints'])} exported checkpoints up to seq {traffic}" in text


def test_an_existing_export_is_never_overwritten(app, traffic, tmp_path):
    out = tmp_path / "cp.json"
    out.write_text("the office's only copy", encoding="utf-8")
    result = export(app, "--output", str(out))
    assert result.exit_code == 2
    assert "已存在" in result.output
    assert out.read_text(encoding="utf-8") == "the office's only copy"


def test_a_damaged_checkpoint_is_left_out_of_the_export_and_reported(app, traffic, attacker):
    attacker.sql("UPDATE access_log_checkpoint SET signature = ? WHERE seq = 20", "00" * 64)
    result = export(app)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert 20 not in [c["seq"] for c in doc["checkpoints"]] and 10 in [c["seq"] for c in doc["checkpoints"]]
    assert "未导出" in result.output


def test_a_file_that_is_not_an_export_is_refused_with_what_to_do(app, traffic, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("检查记录", encoding="utf-8")
    code, out = run(app, "verify", "--against", str(bad))
    assert code == 2
    assert "不是 JSON 格式" in out and "export-checkpoints" in out
    code, out = run(app, "verify", "--against", str(tmp_path / "missing.json"))
    assert code == 2 and "无法读取文件" in out


def test_an_edited_export_is_refused_rather_than_trusted(app, traffic, tmp_path):
    out = tmp_path / "cp.json"
    assert export(app, "--output", str(out)).exit_code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    doc["checkpoints"][0]["head_hash"] = "0" * 64
    out.write_text(json.dumps(doc), encoding="utf-8")
    code, text = run(app, "verify", "--against", str(out))
    assert code == 2
    assert "验证不通过" in text


def test_checkpoint_command_signs_the_head(app, traffic, attacker):
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0
    assert f"seq={traffic}" in result.output
    code, out = run(app, "verify")
    assert code == 0 and out.strip().endswith(f"last signed checkpoint seq {traffic}")
