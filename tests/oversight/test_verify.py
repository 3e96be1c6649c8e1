"""Chain verification in the console, and signed checkpoints kept outside the system (SPEC §5).

The office signs a checkpoint and downloads it through the console; then
someone with direct access to the database rewrites an old entry or cuts off the
newest ones. The console shows the log as broken, and the checkpoint file
it kept catches even the attacker who holds every key.
"""
from __future__ import annotations

import json
from io import BytesIO

import pytest

from ssj.audit.verify import parse_export
from tests.audit.conftest import Attacker
from tests.ceremony.conftest import text_of
from tests.conftest import post

from .conftest import log_rows

@pytest.fixture
def traffic(app, login_as):
    """A morning at the bureau: people sign in and read pages."""
    for who in ("staff_jc", "head_jc", "staff_sb", "inspector_jc"):
        client = login_as(who)
        for _ in range(4):
            assert client.get("/todo").status_code == 200
    login_as("staff_sb").get("/admin/users")


def kept_checkpoints(office) -> bytes:
    """What the office does monthly: sign now, then download the file to keep outside the system."""
    r = post(office, "/discipline/checkpoints/sign")
    assert r.status_code == 303 and r.headers["Location"].endswith("/discipline/verify")
    assert "已对第" in office.get("/discipline/verify").text
    r = office.get("/discipline/checkpoints.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert "attachment" in r.headers["Content-Disposition"] and "ssj-checkpoints-" in r.headers["Content-Disposition"]
    return r.data


def check_against(office, data: bytes, name: str = "kept.json"):
    return post(office, "/discipline/verify/against", {"checkpoints": (BytesIO(data), name)},
                content_type="multipart/form-data")


def verdict(html: str) -> str:
    start = html.index('<section class="verdict')
    return text_of(html[start:html.index("</section>", start)])


def test_an_untouched_log_verifies_and_the_page_shows_the_head_and_checkpoint(app, traffic, office):
    kept = kept_checkpoints(office)
    doc = parse_export(kept.decode("utf-8"))
    (cp,) = doc.checkpoints
    page = office.get("/discipline/verify").text
    assert "核验结果：完整" in verdict(page) and "访问日志完整" in verdict(page)
    shown = text_of(page)
    assert f"最近的检查点 第 {cp.seq} 条" in shown and "签名有效" in shown
    assert " ".join(cp.head_hash[i:i + 8] for i in range(0, 64, 8)) in shown
    r = check_against(office, kept)
    assert r.status_code == 200
    assert "与留存文件核对的结果：完整" in verdict(r.text) and "与导出文件中的 1 个检查点" in verdict(r.text)


def test_signing_downloading_printing_and_verifying_are_all_logged(app, traffic, office):
    kept = kept_checkpoints(office)
    printed = office.get("/discipline/checkpoints/print")
    assert printed.status_code == 200 and "经办人（签字）" in printed.text
    check_against(office, kept)
    actions = [e["action"] for e in log_rows(app, "oversight_")]
    assert actions == ["oversight_checkpoint_signed", "oversight_verified", "oversight_checkpoints_exported",
                       "oversight_checkpoints_printed", "oversight_verified"]
    signed, _, exported, _, against = log_rows(app, "oversight_")
    cp = json.loads(kept)["checkpoints"][-1]
    assert signed["objects"]["seq"] == cp["seq"] and exported["objects"]["last_seq"] == cp["seq"]
    assert against["objects"]["result"] == "ok" and against["objects"]["against"]["last_seq"] == cp["seq"]


def test_the_print_shows_the_latest_checkpoint_to_sign_and_keep(app, traffic, office):
    kept = json.loads(kept_checkpoints(office))
    cp = kept["checkpoints"][-1]
    page = text_of(office.get("/discipline/checkpoints/print").text)
    assert f"第 {cp['seq']} 条记录处" in page
    assert " ".join(cp["head_hash"][i:i + 8] for i in range(0, 64, 8)) in page
    assert kept["key_id"] in page and "不含任何保密内容" in page


def test_with_no_checkpoint_yet_the_download_says_to_sign_first(app, office):
    r = office.get("/discipline/checkpoints.json")
    assert r.status_code == 303
    assert "请先点击“立即签名检查点”" in office.get(r.headers["Location"]).text


def test_a_rewritten_old_entry_is_shown_as_broken(app, traffic, office):
    kept = kept_checkpoints(office)
    attacker = Attacker.of(app)
    old = next(r["seq"] for r in attacker.rows() if '"action":"read:main.todo"' in r["body"])
    attacker.edit_body(old, '"action":"read:main.todo"', '"action":"read:main.index"')
    page = office.get("/discipline/verify").text
    assert "核验结果：已被改动" in verdict(page)
    assert f"第 {old} 条记录被篡改" in verdict(page)
    assert f'href="/discipline/entries/{old}"' in page
    r = check_against(office, kept)
    assert "与留存文件核对的结果：已被改动" in verdict(r.text) and f"第 {old} 条记录被篡改" in verdict(r.text)
    assert log_rows(app, "oversight_verified")[-1]["objects"]["problem"] == {"seq": old, "kind": "altered"}


def test_a_rewrite_by_someone_holding_every_key_is_caught_by_the_kept_checkpoint(app, traffic, office):
    kept = kept_checkpoints(office)
    attacker = Attacker.of(app)
    # Where staff_sb was refused the users page, make it look as if they were elsewhere.
    old = next(r["seq"] for r in attacker.rows() if '"action":"read:admin.users"' in r["body"])
    attacker.edit_body(old, '"client":"127.0.0.1"', '"client":"10.8.8.8"')
    attacker.rechain(old, with_mac_key=True)
    attacker.resign_checkpoints()
    cp_seq = json.loads(kept)["checkpoints"][-1]["seq"]
    r = check_against(office, kept)
    shown = verdict(r.text)
    assert "已被改动" in shown and "导出保存的检查点" in shown
    assert f"第 {cp_seq} 条记录被改写（哈希已重新计算）" in shown and f"–{cp_seq} 条被改写并重新计算了哈希" in shown
    # Without the kept file, the console cannot tell: the limit docs/audit-log.md states.
    assert "核验结果：完整" in verdict(office.get("/discipline/verify").text)


def test_a_truncated_log_is_shown_as_broken(app, traffic, office):
    kept_checkpoints(office)
    attacker = Attacker.of(app)
    last = attacker.head()[0]
    attacker.sql("DELETE FROM access_log WHERE seq > ?", last - 3)
    page = office.get("/discipline/verify").text
    assert "核验结果：已被改动" in verdict(page)
    assert f"访问日志从第 {last - 2} 条起的记录被截断（删除）" in verdict(page)


def test_a_truncation_that_fixed_the_head_row_is_caught_by_the_kept_checkpoint(app, traffic, office):
    kept = kept_checkpoints(office)
    cp_seq = json.loads(kept)["checkpoints"][-1]["seq"]
    attacker = Attacker.of(app)
    cut = cp_seq - 2
    attacker.sql("DELETE FROM access_log WHERE seq > ?", cut)
    attacker.sql("DELETE FROM access_log_checkpoint WHERE seq > ?", cut)
    attacker.sql("UPDATE access_log_head SET seq = ?, head_hash = ?", cut, attacker.entry(cut)["entry_hash"])
    r = check_against(office, kept)  # the first request after the cut
    shown = verdict(r.text)
    assert "已被改动" in shown and "导出保存的检查点" in shown
    assert f"访问日志从第 {cut + 1} 条起的记录被截断（删除）" in shown and f"涵盖到第 {cp_seq} 条" in shown


def test_a_file_that_cannot_be_used_is_refused_with_what_to_do_and_logged(app, traffic, office):
    kept = json.loads(kept_checkpoints(office))
    r = check_against(office, b"not json at all")
    assert r.status_code == 422 and "该文件不是 JSON 格式" in r.text
    r = check_against(office, "表格".encode("gb18030"))
    assert r.status_code == 422 and "不是文本格式" in r.text
    forged = dict(kept, checkpoints=[dict(kept["checkpoints"][-1], head_hash="0" * 64)])
    r = check_against(office, json.dumps(forged).encode())
    assert r.status_code == 422 and "请使用留存的原始文件" in r.text
    r = post(office, "/discipline/verify/against", {}, content_type="multipart/form-data")
    assert r.status_code == 422 and "请选择以前在本页下载并留存" in r.text
    refused = log_rows(app, "oversight_verify_refused")
    assert len(refused) == 4 and all(e["outcome"] == "error" for e in refused)
    assert refused[0]["reason"].startswith("该文件不是 JSON 格式")


def test_verifying_changes_no_entry_and_adds_only_its_own(app, traffic, office):
    before = [(r["seq"], r["entry_hash"]) for r in Attacker.of(app).rows()]
    office.get("/discipline/verify")
    after = Attacker.of(app).rows()
    assert [(r["seq"], r["entry_hash"]) for r in after[: len(before)]] == before
    (own,) = after[len(before):]
    assert json.loads(own["body"])["action"] == "oversight_verified"
