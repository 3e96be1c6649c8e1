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
    AttemptRecord,
    DrawError,
    Stratum,
    WitnessEntry,
    build_bundle,
    build_bundle_v1,
    draw_targets,
    make_seed,
    nonce_commitment,
    pool_sha256,
    replace_inspector,
    run_draw,
)

ROOT = Path(__file__).resolve().parents[2]
VERIFY_PY = ROOT / "ssj" / "verify.py"

NONCE = bytes.fromhex("8f" * 16 + "1c" * 16)
VOID_NONCE = bytes.fromhex("3a" * 32)
WITNESSES = [WitnessEntry("王组织", "劳动保障监察大队", "6214 3526 11"), WitnessEntry("李见证", "纪检监察室", "45663 25124 31")]
ENTROPY = "6214 3526 1145 6632 5124 31"
GENERAL = [f"91411623MA{n:07d}X" for n in range(300)]
SPECIAL = [f"92411623MA{n:07d}Y" for n in range(40)]
INSPECTORS = [f"RS{n:04d}" for n in range(14)]
STRATA = [Stratum("重点监管", SPECIAL, ratio="5"), Stratum("一般", GENERAL, count=4)]


def _excluded(seed: str) -> dict[str, int]:
    """E for the test draw: the best-ranked general target (so it is skipped) and one ranked far down."""
    plain = draw_targets(STRATA, seed)
    first = plain[1].selected[0].id
    ranked_last = max(GENERAL, key=lambda i: draw_targets([Stratum("一般", [i], count=1)], seed)[0].selected[0].ticket)
    return {first: 41, ranked_last: 42}


def _v2_parts() -> tuple[AttemptRecord, AttemptRecord, list]:
    seed = make_seed(NONCE.hex(), ENTROPY)
    excluded = _excluded(seed)
    plain = run_draw(STRATA, INSPECTORS, seed, 2, 2, [], excluded)
    # A frozen conflict that matters (the first team's top inspector) and one
    # about a target that was not drawn, which must not be published.
    first = plain.teams[0]
    undrawn = next(t for t in GENERAL if t not in {x.target for x in plain.teams} and t not in excluded)
    conflicts = [(first.target, first.inspectors[0]), (undrawn, INSPECTORS[0])]
    result = run_draw(STRATA, INSPECTORS, seed, 2, 2, conflicts, excluded)
    team = result.teams[1]
    rep = replace_inspector(
        result.teams, [], team.target, team.inspectors[1], "曾在该单位任职",
        inspectors=INSPECTORS, seed=seed, cap=2, conflicts=conflicts,
    )
    final = AttemptRecord(
        number=2, strata=STRATA, inspectors=INSPECTORS, team_size=2, cap=2, conflicts=conflicts,
        nonce=NONCE, witnesses=WITNESSES, entropy=ENTROPY, seed=seed,
        selection=result.strata, teams=result.teams, replacements=[rep],
    )
    void_entropy = "1111122222333334444455"
    void_seed = make_seed(VOID_NONCE.hex(), void_entropy)
    void_result = run_draw(STRATA, INSPECTORS, void_seed, 2, 2, conflicts, excluded)
    void = AttemptRecord(
        number=1, strata=STRATA, inspectors=INSPECTORS, team_size=2, cap=2, conflicts=conflicts,
        nonce=VOID_NONCE, witnesses=[WitnessEntry("赵见证", "纪检监察室", void_entropy)], entropy=void_entropy,
        seed=void_seed, selection=void_result.strata, teams=void_result.teams,
        void_reason="冻结后发现一名执法人员已调离，经批准重新抽取", approved_by="局领导甲",
    )
    return final, void, [rep]


@pytest.fixture(scope="module")
def bundle() -> dict:
    final, void, _ = _v2_parts()
    return build_bundle(task=7, final=final, void=[void])


@pytest.fixture(scope="module")
def v1_bundle() -> dict:
    """A bundle as published before ssj-draw-v2: teams as drawn, recusals apart, no skips."""
    seed = make_seed(NONCE.hex(), ENTROPY, "ssj-draw-v1")
    result = run_draw(STRATA, INSPECTORS, seed, 2, 2, [])
    team = result.teams[1]
    rep = replace_inspector(
        result.teams, [], team.target, team.inspectors[1], "曾在该单位任职",
        inspectors=INSPECTORS, seed=seed, cap=2, conflicts=[],
    )
    return build_bundle_v1(
        task="2026-JC-003", attempt=1, nonce=NONCE, entropy=ENTROPY, result=result,
        inspectors=INSPECTORS, team_size=2, cap=2, conflicts=[], replacements=[rep],
    )


@pytest.fixture(scope="module")
def lone_verifier(tmp_path_factory) -> Path:
    """verify.py copied alone into an empty directory, as an outsider would."""
    path = tmp_path_factory.mktemp("outsider") / "verify.py"
    shutil.copy(VERIFY_PY, path)
    return path


def _run(args: list[str], data, tmp_path: Path, cwd: Path, others=()) -> subprocess.CompletedProcess:
    paths = []
    for n, item in enumerate([data, *others]):
        path = tmp_path / f"bundle{n}.json"
        path.write_text(item if isinstance(item, str) else json.dumps(item, ensure_ascii=False), encoding="utf-8")
        paths.append(str(path))
    return subprocess.run([sys.executable, *args, *paths], cwd=cwd, capture_output=True, text=True, timeout=120)


def _outsider(lone_verifier: Path, data, tmp_path: Path, others=()) -> subprocess.CompletedProcess:
    return _run([str(lone_verifier)], data, tmp_path, lone_verifier.parent, others)


# --- The bundle itself --------------------------------------------------------------


def test_bundle_has_the_fixed_fields(bundle):
    assert list(bundle) == [
        "format", "task", "attempt", "nonce_sha256", "nonce", "witnesses", "entropy", "seed", "strata",
        "inspectors", "team_size", "cap_per_inspector", "conflicts", "teams", "replacements", "void_attempts",
    ]
    assert bundle["format"] == "ssj-draw-v2"
    assert bundle["seed"].startswith("ssj-draw-v2|")
    assert bundle["nonce_sha256"] == nonce_commitment(NONCE)
    assert bundle["entropy"] == "62143526114566325124" "31"
    assert bundle["witnesses"] == [
        {"name": "王组织", "section": "劳动保障监察大队", "digits": "6214352611"},
        {"name": "李见证", "section": "纪检监察室", "digits": "456632512431"},
    ]
    special, general = bundle["strata"]
    assert (special["ratio"], special["count"], special["sample_size"]) == ("5", None, 2)
    assert (general["ratio"], general["count"], general["sample_size"]) == (None, 4, 4)
    assert general["pool_sha256"] == pool_sha256(GENERAL)
    assert set(general) == {"name", "ratio", "count", "pool", "pool_sha256", "sample_size", "selected", "skipped"}
    assert set(general["selected"][0]) == {"id", "ticket"}
    assert bundle["inspectors"]["pool_sha256"] == pool_sha256(INSPECTORS)
    assert set(bundle["replacements"][0]) == {"target", "out", "in", "reason"}
    [void] = bundle["void_attempts"]
    assert void["attempt"] == 1 and void["void_reason"] and void["approved_by"] == "局领导甲"
    assert set(void) == set(bundle) - {"format", "task", "void_attempts"} | {"void_reason", "approved_by"}
    json.dumps(bundle)  # JSON-ready as built


def test_only_the_skip_before_the_last_selected_is_listed(bundle):
    """E holds the best-ranked general target and one ranked far down: only the first affected the draw."""
    general = bundle["strata"][1]
    seed = make_seed(NONCE.hex(), ENTROPY)
    e = _excluded(seed)
    assert [(s["id"], s["by_task"]) for s in general["skipped"]] == [(min(e, key=e.get), 41)]
    assert general["skipped"][0]["ticket"] < general["selected"][0]["ticket"]
    assert len(general["selected"]) == 4  # k from the whole pool, filled from the walk
    assert bundle["strata"][0]["skipped"] == []


def test_teams_are_final_after_the_replacement(bundle):
    rep = bundle["replacements"][0]
    team = next(t for t in bundle["teams"] if t["target"] == rep["target"])
    assert rep["in"] in team["inspectors"] and rep["out"] not in team["inspectors"]


def test_only_conflicts_touching_drawn_targets_are_published(bundle):
    drawn = {t["target"] for t in bundle["teams"]}
    assert len(bundle["conflicts"]) == 1
    assert all(t in drawn for t, _ in bundle["conflicts"])


def test_bundle_refuses_a_result_from_another_seed():
    final, _, _ = _v2_parts()
    from dataclasses import replace

    with pytest.raises(DrawError):
        build_bundle(task=7, final=replace(final, number=1, nonce=bytes(32)))


def test_bundle_refuses_to_leave_out_a_void_attempt():
    final, _, _ = _v2_parts()
    with pytest.raises(DrawError):
        build_bundle(task=7, final=final, void=[])


def test_bundle_refuses_entropy_other_than_the_witnesses_digits():
    final, void, _ = _v2_parts()
    from dataclasses import replace

    with pytest.raises(DrawError):
        build_bundle(task=7, final=replace(final, witnesses=WITNESSES[:1]), void=[void])


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


def _witness_digits(b):
    d = b["witnesses"][1]["digits"]
    b["witnesses"][1]["digits"] = d[:-1] + ("1" if d[-1] != "1" else "2")
    b["entropy"] = "".join(w["digits"] for w in b["witnesses"])


def _seed(b):
    b["seed"] = b["seed"].replace("ssj-draw-v2|", "ssj-draw-v1|")


def _drop_replacements(b):
    b["replacements"] = []


def _teams_as_drawn(b):
    rep = b["replacements"][0]
    team = next(t for t in b["teams"] if t["target"] == rep["target"])
    team["inspectors"][team["inspectors"].index(rep["in"])] = rep["out"]


def _drop_skip(b):
    b["strata"][1]["skipped"] = []


def _skip_ticket(b):
    b["strata"][1]["skipped"][0]["ticket"] = "0." + "9" * 30


def _skip_an_unskipped(b):
    """Claim the first selected target was skipped: the walk then selects someone else."""
    general = b["strata"][1]
    first = general["selected"][0]
    general["skipped"].append({"id": first["id"], "ticket": first["ticket"], "by_task": 41})


def _void_team(b):
    team = b["void_attempts"][0]["teams"][0]
    team["inspectors"][0] = next(i for i in b["inspectors"]["pool"] if i not in team["inspectors"])


def _drop_void(b):
    b["void_attempts"] = []


def _void_reason(b):
    b["void_attempts"][0]["void_reason"] = " "


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
        (_entropy, "witnesses' digits in order give", "见证人依次录入的点数"),
        (_witness_digits, "seed is", "随机种子为"),
        (_seed, "seed is", "随机种子为"),
        (_drop_replacements, "expected", "依次替换后应为"),
        (_teams_as_drawn, "drawn, then every replacement applied", "依次替换后应为"),
        (_drop_skip, "selected #1 is", "第 1 个抽中对象为"),
        (_skip_ticket, "ticket of skipped #1", "跳过对象"),
        (_skip_an_unskipped, "selected #1 is", "第 1 个抽中对象为"),
        (_void_team, "void attempt 1", "作废的第 1 次抽取"),
        (_drop_void, "void_attempts hold attempts []", "作废的抽取应依次包含"),
        (_void_reason, "void_reason is empty", "未写明作废原因"),
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


# --- v1 bundles published before the upgrade -------------------------------------------


def test_a_v1_bundle_still_verifies(v1_bundle, lone_verifier, tmp_path):
    assert v1_bundle["format"] == "ssj-draw-v1" and "void_attempts" not in v1_bundle
    done = _outsider(lone_verifier, v1_bundle, tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "verified"), done.stdout


def test_a_v1_bundle_keeps_its_teams_as_drawn(v1_bundle, lone_verifier, tmp_path):
    bad = copy.deepcopy(v1_bundle)
    rep = bad["replacements"][0]
    team = next(t for t in bad["teams"] if t["target"] == rep["target"])
    team["inspectors"][team["inspectors"].index(rep["out"])] = rep["in"]
    assert _outsider(lone_verifier, bad, tmp_path).returncode == 1


# --- Cross-checking skips against the bundles of the tasks named in by_task -------------


def _other(task: int, selected: list[str]) -> dict:
    """A verifiable bundle of another task whose general stratum is a fixed count over `selected`'s pool."""
    seed = make_seed(bytes(range(32)).hex(), "12345678901234567890")
    strata = [Stratum("一般", selected, count=len(selected))]
    result = run_draw(strata, INSPECTORS, seed, 2, None, [])
    final = AttemptRecord(
        number=1, strata=strata, inspectors=INSPECTORS, team_size=2, cap=None, conflicts=[],
        nonce=bytes(range(32)), witnesses=[WitnessEntry("甲", "纪检监察室", "12345678901234567890")],
        entropy="12345678901234567890", seed=seed, selection=result.strata, teams=result.teams,
    )
    return build_bundle(task=task, final=final)


def test_skips_cross_check_against_the_bundle_of_the_task_named(bundle, lone_verifier, tmp_path):
    skipped = [s["id"] for s in bundle["strata"][1]["skipped"]]
    void_skipped = [s["id"] for st in bundle["void_attempts"][0]["strata"] for s in st["skipped"] if s["by_task"] == 41]
    good = _other(41, sorted(set(skipped + void_skipped)))
    done = _outsider(lone_verifier, bundle, tmp_path, [good])
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "verified", ""), done.stdout
    liar = _other(41, [GENERAL[-1] if GENERAL[-1] not in skipped else GENERAL[-2]])
    done = _outsider(lone_verifier, bundle, tmp_path, [liar])
    assert done.returncode == 1 and "did not select it" in done.stdout and "没有抽中它" in done.stdout


def test_without_the_other_bundle_the_verifier_says_what_it_did_not_check(bundle, lone_verifier, tmp_path):
    done = _outsider(lone_verifier, bundle, tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "verified")
    assert "task 41" in done.stderr and "未交叉核对" in done.stderr


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


# --- The worked example of docs/verify.md ------------------------------------------------


def test_the_worked_example_in_the_docs_verifies_and_matches_the_text(lone_verifier, tmp_path):
    """docs/verify.md walks an outsider through docs/verify-example/bundle.json by hand: the file
    must verify, and the figures the text quotes must be the file's (a stale doc fails here)."""
    example = json.loads((ROOT / "docs" / "verify-example" / "bundle.json").read_text(encoding="utf-8"))
    text = (ROOT / "docs" / "verify.md").read_text(encoding="utf-8")
    done = _outsider(lone_verifier, example, tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "verified"), done.stdout
    [stratum] = example["strata"]
    assert example["entropy"] in text and example["nonce"] in text and example["nonce_sha256"] in text
    assert stratum["pool_sha256"] in text
    for entry in stratum["selected"] + stratum["skipped"]:
        assert f"{entry['id']}  {entry['ticket'][:24]}" in text
    [rep] = example["replacements"]
    assert json.dumps(rep, ensure_ascii=False) in text
    for team in example["teams"]:
        assert json.dumps(team, ensure_ascii=False) in text
    # The text's claim that deleting the replacement is caught.
    hidden = dict(example, replacements=[])
    assert _outsider(lone_verifier, hidden, tmp_path).returncode == 1
