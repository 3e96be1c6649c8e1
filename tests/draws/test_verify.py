"""The published bundle and the standalone verifier ssj/verify.py (SPEC §3, Art 9, 13)."""
from __future__ import annotations

import ast
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ssj import verify as standalone
from ssj.draws.algorithm import (
    DrawError,
    Stratum,
    build_bundle,
    make_seed,
    nonce_commitment,
    pool_sha256,
    replace_inspector,
    run_draw,
)

ROOT = Path(__file__).resolve().parents[2]
VERIFY_PY = ROOT / "ssj" / "verify.py"

NONCE = bytes.fromhex("8f" * 16 + "1c" * 16)
ENTROPY = "6214 3526 1145 6632 5124 31"
GENERAL = [f"91411623MA{n:07d}X" for n in range(300)]
SPECIAL = [f"92411623MA{n:07d}Y" for n in range(40)]
INSPECTORS = [f"RS{n:04d}" for n in range(14)]


@pytest.fixture(scope="module")
def bundle() -> dict:
    seed = make_seed(NONCE.hex(), ENTROPY)
    strata = [Stratum("重点监管", SPECIAL, ratio="5"), Stratum("一般", GENERAL, count=4)]
    plain = run_draw(strata, INSPECTORS, seed, 2, 2, [])
    # A frozen conflict that matters (the first team's top inspector) and one
    # about a target that was not drawn, which must not be published.
    first = plain.teams[0]
    undrawn = next(t for t in GENERAL if t not in {x.target for x in plain.teams})
    conflicts = [(first.target, first.inspectors[0]), (undrawn, INSPECTORS[0])]
    result = run_draw(strata, INSPECTORS, seed, 2, 2, conflicts)
    team = result.teams[1]
    rep = replace_inspector(
        result.teams, [], team.target, team.inspectors[1], "曾在该单位任职",
        inspectors=INSPECTORS, seed=seed, cap=2, conflicts=conflicts,
    )
    return build_bundle(
        task="2026-JC-003", attempt=1, nonce=NONCE, entropy=ENTROPY, result=result,
        inspectors=INSPECTORS, team_size=2, cap=2, conflicts=conflicts, replacements=[rep],
    )


@pytest.fixture(scope="module")
def lone_verifier(tmp_path_factory) -> Path:
    """verify.py copied alone into an empty directory, as an outsider would."""
    path = tmp_path_factory.mktemp("outsider") / "verify.py"
    shutil.copy(VERIFY_PY, path)
    return path


def _run(args: list[str], data, tmp_path: Path, cwd: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "bundle.json"
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return subprocess.run(
        [sys.executable, *args, str(path)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _outsider(lone_verifier: Path, data, tmp_path: Path) -> subprocess.CompletedProcess:
    return _run([str(lone_verifier)], data, tmp_path, lone_verifier.parent)


# --- The bundle itself --------------------------------------------------------------


def test_bundle_has_the_fixed_fields(bundle):
    assert list(bundle) == [
        "format", "task", "attempt", "nonce_sha256", "nonce", "entropy", "seed", "strata",
        "inspectors", "team_size", "cap_per_inspector", "conflicts", "teams", "replacements",
    ]
    assert bundle["format"] == "ssj-draw-v1"
    assert bundle["nonce_sha256"] == nonce_commitment(NONCE)
    assert bundle["entropy"] == "62143526114566325124" "31"
    special, general = bundle["strata"]
    assert (special["ratio"], special["count"], special["sample_size"]) == ("5", None, 2)
    assert (general["ratio"], general["count"], general["sample_size"]) == (None, 4, 4)
    assert general["pool_sha256"] == pool_sha256(GENERAL)
    assert set(general) == {"name", "ratio", "count", "pool", "pool_sha256", "sample_size", "selected"}
    assert set(general["selected"][0]) == {"id", "ticket"}
    assert bundle["inspectors"]["pool_sha256"] == pool_sha256(INSPECTORS)
    assert set(bundle["replacements"][0]) == {"target", "out", "in", "reason"}
    json.dumps(bundle)  # JSON-ready as built


def test_only_conflicts_touching_drawn_targets_are_published(bundle):
    drawn = {t["target"] for t in bundle["teams"]}
    assert len(bundle["conflicts"]) == 1
    assert all(t in drawn for t, _ in bundle["conflicts"])


def test_bundle_refuses_a_result_from_another_seed():
    seed = make_seed(NONCE.hex(), ENTROPY)
    result = run_draw([Stratum("一般", GENERAL, count=2)], INSPECTORS, seed, 2, None, [])
    with pytest.raises(DrawError):
        build_bundle(
            task=1, attempt=1, nonce=bytes(32), entropy=ENTROPY, result=result,
            inspectors=INSPECTORS, team_size=2, cap=None, conflicts=[],
        )


# --- Round trip ------------------------------------------------------------------------


def test_python_m_ssj_verify_says_verified(bundle, tmp_path):
    done = _run(["-m", "ssj.verify"], bundle, tmp_path, ROOT)
    assert (done.returncode, done.stdout.strip()) == (0, "verified"), done.stdout + done.stderr


def test_the_single_copied_file_verifies_too(bundle, lone_verifier, tmp_path):
    done = _outsider(lone_verifier, bundle, tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "verified"), done.stdout + done.stderr


def test_entropy_as_typed_with_spaces_also_verifies(bundle, lone_verifier, tmp_path):
    typed = dict(bundle, entropy=ENTROPY)
    assert _outsider(lone_verifier, typed, tmp_path).returncode == 0


# --- Tampering ---------------------------------------------------------------------------


def _swap_selected(b):
    general = b["strata"][1]
    chosen = {s["id"] for s in general["selected"]}
    general["selected"][0]["id"] = next(i for i in general["pool"] if i not in chosen)


def _change_ticket(b):
    t = b["strata"][1]["selected"][2]["ticket"]
    b["strata"][1]["selected"][2]["ticket"] = t[:-1] + ("1" if t[-1] != "1" else "2")


def _add_to_pool(b):
    b["strata"][1]["pool"].append("91411623MA9999999X")


def _pool_hash(b):
    b["inspectors"]["pool_sha256"] = "0" * 64


def _nonce(b):
    b["nonce"] = "00" + b["nonce"][2:]


def _entropy(b):
    b["entropy"] = b["entropy"][:-1] + ("1" if b["entropy"][-1] != "1" else "2")


def _team_member(b):
    team = b["teams"][2]
    team["inspectors"][1] = next(i for i in b["inspectors"]["pool"] if i not in team["inspectors"])


def _violate_conflict(b):
    team = b["teams"][3]
    b["conflicts"].append([team["target"], team["inspectors"][0]])


def _replacement(b):
    rep = b["replacements"][0]
    team = next(t for t in b["teams"] if t["target"] == rep["target"])
    rep["in"] = next(i for i in b["inspectors"]["pool"] if i not in team["inspectors"] and i != rep["in"])


def _sample_size(b):
    b["strata"][0]["sample_size"] = 1
    del b["strata"][0]["selected"][1:]


def _cap(b):
    b["cap_per_inspector"] = 1


@pytest.mark.parametrize(
    "tamper, english, chinese",
    [
        (_swap_selected, "selected #1 is", "第 1 个抽中对象为"),
        (_change_ticket, "ticket of selected #3", "的抽签号为"),
        (_add_to_pool, "pool_sha256 is", "公布的名单哈希为"),
        (_pool_hash, "inspectors: pool_sha256", "执法检查人员名单"),
        (_nonce, "nonce commitment", "随机数承诺不符"),
        (_entropy, "seed is", "随机种子为"),
        (_team_member, "team #3", "第 3 组"),
        (_violate_conflict, "has a declared conflict", "有回避关系"),
        (_replacement, "replacement #1", "第 1 条回避替换"),
        (_sample_size, "sample_size is 1, expected 2", "抽取数量为 1"),
        (_cap, "over the cap of 1", "超过每人 1 户的上限"),
    ],
)
def test_tampering_is_caught_with_the_right_message(bundle, lone_verifier, tmp_path, tamper, english, chinese):
    bad = copy.deepcopy(bundle)
    tamper(bad)
    done = _outsider(lone_verifier, bad, tmp_path)
    assert done.returncode == 1, done.stdout
    assert "verified" not in done.stdout
    assert english in done.stdout and chinese in done.stdout, done.stdout


def test_tampering_is_caught_through_python_m_too(bundle, tmp_path):
    bad = copy.deepcopy(bundle)
    _swap_selected(bad)
    done = _run(["-m", "ssj.verify"], bad, tmp_path, ROOT)
    assert done.returncode == 1 and "MISMATCH" in done.stdout


# --- Malformed input ---------------------------------------------------------------------


def test_malformed_json_gets_a_clear_message(lone_verifier, tmp_path):
    done = _outsider(lone_verifier, '{"format": "ssj-draw-v1",', tmp_path)
    assert done.returncode == 2
    assert "malformed JSON" in done.stdout and "不是有效的 JSON" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_missing_field_is_named(bundle, lone_verifier, tmp_path):
    bad = copy.deepcopy(bundle)
    del bad["teams"]
    done = _outsider(lone_verifier, bad, tmp_path)
    assert done.returncode == 2
    assert "'teams' is missing" in done.stdout and "缺少字段“teams”" in done.stdout


def test_a_field_of_the_wrong_type_is_named(bundle, lone_verifier, tmp_path):
    bad = copy.deepcopy(bundle)
    bad["strata"][0]["sample_size"] = "2"
    done = _outsider(lone_verifier, bad, tmp_path)
    assert done.returncode == 2 and "'sample_size' must be int" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_missing_file_is_reported(tmp_path):
    done = subprocess.run(
        [sys.executable, str(VERIFY_PY), str(tmp_path / "nope.json")], capture_output=True, text=True
    )
    assert done.returncode == 2 and "无法读取文件" in done.stdout


def test_in_process_verify_accepts_the_bundle(bundle):
    standalone.verify(copy.deepcopy(bundle))  # raises on any mismatch


# --- Standalone means standalone ---------------------------------------------------------


def test_verifier_imports_only_the_standard_library():
    tree = ast.parse(VERIFY_PY.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            modules.add(node.module.split(".")[0])
    assert "ssj" not in modules
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}, modules - set(sys.stdlib_module_names)


def test_verifier_is_python_38_syntax():
    ast.parse(VERIFY_PY.read_text(encoding="utf-8"), feature_version=(3, 8))
