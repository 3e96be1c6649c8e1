"""Standalone verifier for ssj-draw-v1 bundles: re-run a published draw and compare.

Usage:  python verify.py BUNDLE.json        (or, inside ssj: python -m ssj.verify BUNDLE.json)

Art 13 (一抽查一通报) makes results public and Art 9 (全程留痕) asks that
every step be traceable; this file lets anyone outside the bureau check
that the published targets and inspection teams are exactly what the
public algorithm gives for the published pools, the secret nonce committed
before the dice were rolled, and the witnesses' dice. It uses only the
Python standard library (3.8 or later) and imports nothing from ssj, so it
can be copied alone; it is deliberately a plain, unoptimised restatement of
the definitions in SPEC §3 so that it is easy to read.

Exit status: 0 and "verified" when every check passes; 1 and the first
mismatch (English and Chinese) when one fails; 2 when the file cannot be
read or is not a well-formed bundle. Messages count strata, selected
targets, teams and replacements from 1, as a person reading the list would.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from fractions import Fraction

FORMAT = "ssj-draw-v1"
MIN_ENTROPY_DIGITS = 20
MIN_TEAM_SIZE = 2


class Mismatch(Exception):
    """The bundle is well formed but something in it is not what the algorithm gives."""

    def __init__(self, english: str, chinese: str) -> None:
        super().__init__(english)
        self.english = english
        self.chinese = chinese


class Malformed(Exception):
    """The bundle is missing a field or has one of the wrong type."""

    def __init__(self, english: str, chinese: str) -> None:
        super().__init__(english)
        self.english = english
        self.chinese = chinese


# --- The definitions (SPEC §3) -------------------------------------------------


def sha256_hex(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def ticket(id, seed):
    x = int(sha256_hex(sha256_hex(seed) + id), 16)
    return "0." + str(x).zfill(64)[::-1]


def canonical_pool_text(ids):
    return "".join(i + "\n" for i in sorted(ids))


def pool_sha256(ids):
    return hashlib.sha256(canonical_pool_text(ids).encode("utf-8")).hexdigest()


def sample_size(n, ratio, count):
    if ratio is not None:
        k = Fraction(n) * Fraction(ratio) / 100
        k = -((-k.numerator) // k.denominator)  # exact ceiling
    else:
        k = count
    return min(k, n)


def rank(ids, seed):
    """ids in ascending ticket order (ties, which need a SHA-256 collision, by id)."""
    return sorted(ids, key=lambda i: (ticket(i, seed), i))


# --- Reading the bundle -----------------------------------------------------------


def _need(obj, key, kind, where):
    if not isinstance(obj, dict) or key not in obj:
        raise Malformed(f"{where}: field '{key}' is missing", f"{where}：缺少字段“{key}”")
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = any(
        value is None if k is None else (isinstance(value, k) and not (k is int and isinstance(value, bool)))
        for k in kinds
    )
    if not ok:
        names = "/".join("null" if k is None else k.__name__ for k in kinds)
        raise Malformed(f"{where}: field '{key}' must be {names}", f"{where}：字段“{key}”的类型应为 {names}")
    return value


def _strings(value, where):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Malformed(f"{where} must be a list of strings", f"{where} 应为字符串列表")
    return value


def _check_pool(ids, pool_hash, where_en, where_zh):
    if len(set(ids)) != len(ids):
        raise Mismatch(f"{where_en}: an id appears more than once", f"{where_zh}：有编号重复出现")
    if any(i == "" or "\n" in i or "\r" in i for i in ids):
        raise Mismatch(f"{where_en}: an id is empty or contains a line break", f"{where_zh}：有编号为空或含换行符")
    actual = pool_sha256(ids)
    if actual != pool_hash:
        raise Mismatch(
            f"{where_en}: pool_sha256 is {pool_hash} but the pool hashes to {actual}",
            f"{where_zh}：公布的名单哈希为 {pool_hash}，按名单重新计算得到 {actual}",
        )


# --- The checks ---------------------------------------------------------------------


def verify(bundle):
    """Raise Mismatch or Malformed at the first problem; return None if all checks pass."""
    if not isinstance(bundle, dict):
        raise Malformed("the bundle must be a JSON object", "核验包应为 JSON 对象")
    fmt = _need(bundle, "format", str, "bundle")
    if fmt != FORMAT:
        raise Mismatch(f"format is '{fmt}', this verifier checks '{FORMAT}'", f"格式为“{fmt}”，本程序只核验“{FORMAT}”")
    _need(bundle, "task", (str, int), "bundle")
    _need(bundle, "attempt", int, "bundle")
    commitment = _need(bundle, "nonce_sha256", str, "bundle")
    nonce = _need(bundle, "nonce", str, "bundle")
    entropy = _need(bundle, "entropy", str, "bundle")
    seed = _need(bundle, "seed", str, "bundle")
    strata = _need(bundle, "strata", list, "bundle")
    inspectors_obj = _need(bundle, "inspectors", dict, "bundle")
    team_size = _need(bundle, "team_size", int, "bundle")
    cap = _need(bundle, "cap_per_inspector", (int, None), "bundle")
    conflicts = _need(bundle, "conflicts", list, "bundle")
    teams = _need(bundle, "teams", list, "bundle")
    replacements = _need(bundle, "replacements", list, "bundle")

    # 1. The nonce is the one committed to before the dice were rolled.
    if not re.fullmatch(r"[0-9a-f]{64}", nonce):
        raise Mismatch("nonce must be 64 lowercase hex digits (32 bytes)", "服务器随机数 nonce 应为 64 位小写十六进制（32 字节）")
    actual = hashlib.sha256(bytes.fromhex(nonce)).hexdigest()
    if actual != commitment:
        raise Mismatch(
            f"nonce commitment: SHA-256 of the nonce bytes is {actual}, nonce_sha256 says {commitment}",
            f"随机数承诺不符：nonce 字节的 SHA-256 为 {actual}，而公布的 nonce_sha256 为 {commitment}",
        )

    # 2. The seed is built from the nonce and the witnesses' digits.
    digits = "".join(entropy.split())
    if not re.fullmatch(r"[0-9]{%d,}" % MIN_ENTROPY_DIGITS, digits):
        raise Mismatch(
            f"entropy must be at least {MIN_ENTROPY_DIGITS} decimal digits (spaces ignored)",
            f"公开随机数应至少为 {MIN_ENTROPY_DIGITS} 位十进制数字（空格忽略）",
        )
    expected_seed = FORMAT + "|" + nonce + "|" + digits
    if seed != expected_seed:
        raise Mismatch(f"seed is '{seed}', expected '{expected_seed}'", f"随机种子为“{seed}”，应为“{expected_seed}”")

    # 3. Each stratum: pool hash, sample size, selected ids and their tickets.
    if not strata:
        raise Malformed("strata is empty", "strata 分层列表为空")
    names = []
    pooled = []
    order = []  # selected target ids in team order
    for n, stratum in enumerate(strata, 1):
        where = f"stratum #{n}"
        name = _need(stratum, "name", str, where)
        ratio = _need(stratum, "ratio", (str, None), where)
        count = _need(stratum, "count", (int, None), where)
        pool = _strings(_need(stratum, "pool", list, where), where + " pool")
        pool_hash = _need(stratum, "pool_sha256", str, where)
        k = _need(stratum, "sample_size", int, where)
        selected = _need(stratum, "selected", list, where)
        zh = f"第 {n} 层“{name}”"
        if name in names:
            raise Mismatch(f"{where}: stratum name '{name}' is used twice", f"{zh}：分层名称重复")
        names.append(name)
        pooled.extend(pool)
        _check_pool(pool, pool_hash, f"{where} '{name}'", zh)

        if (ratio is None) == (count is None):
            raise Malformed(f"{where}: exactly one of ratio and count must be set", f"{zh}：ratio 与 count 须且只能有一项")
        if ratio is not None and not (re.fullmatch(r"[0-9]+(\.[0-9]+)?", ratio) and 0 < Fraction(ratio) <= 100):
            raise Mismatch(f"{where}: ratio '{ratio}' is not a percentage in (0, 100]", f"{zh}：抽查比例“{ratio}”不在 (0, 100] 之内")
        if count is not None and count < 1:
            raise Mismatch(f"{where}: count must be at least 1", f"{zh}：固定抽查户数至少为 1")
        expected_k = sample_size(len(pool), ratio, count)
        if k != expected_k:
            raise Mismatch(
                f"{where} '{name}': sample_size is {k}, expected {expected_k} for {len(pool)} candidates",
                f"{zh}：抽取数量为 {k}，按 {len(pool)} 个候选对象应为 {expected_k}",
            )

        expected = rank(pool, seed + "|target|" + name)[:k]
        if len(selected) != k:
            raise Mismatch(
                f"{where} '{name}': {len(selected)} targets listed as selected, expected {k}",
                f"{zh}：列出的抽中对象为 {len(selected)} 个，应为 {k} 个",
            )
        for i, (entry, want) in enumerate(zip(selected, expected), 1):
            got = _need(entry, "id", str, f"{where} selected #{i}")
            got_ticket = _need(entry, "ticket", str, f"{where} selected #{i}")
            want_ticket = ticket(want, seed + "|target|" + name)
            if got != want:
                raise Mismatch(
                    f"{where} '{name}': selected #{i} is '{got}', expected '{want}' (ticket {want_ticket})",
                    f"{zh}：第 {i} 个抽中对象为“{got}”，按算法应为“{want}”（抽签号 {want_ticket}）",
                )
            if got_ticket != want_ticket:
                raise Mismatch(
                    f"{where} '{name}': ticket of selected #{i} '{got}' is {got_ticket}, expected {want_ticket}",
                    f"{zh}：第 {i} 个抽中对象“{got}”的抽签号为 {got_ticket}，应为 {want_ticket}",
                )
            order.append(got)
    if len(set(pooled)) != len(pooled):
        raise Mismatch("a target appears in more than one stratum", "同一检查对象出现在多个分层中")

    # 4. The inspector pool.
    inspectors = _strings(_need(inspectors_obj, "pool", list, "inspectors"), "inspectors pool")
    _check_pool(inspectors, _need(inspectors_obj, "pool_sha256", str, "inspectors"), "inspectors", "执法检查人员名单")

    # 5. Teams: the rules first (so a broken rule is named as such), then the draw.
    if team_size < MIN_TEAM_SIZE:
        raise Mismatch(f"team_size must be at least {MIN_TEAM_SIZE}", f"检查组人数至少为 {MIN_TEAM_SIZE} 人")
    if cap is not None and cap < 1:
        raise Mismatch("cap_per_inspector must be at least 1 or null", "每人上限应为正整数或 null")
    blocked = set()
    for n, pair in enumerate(conflicts, 1):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise Malformed(f"conflict #{n} must be [target_id, inspector_id]", f"conflicts 第 {n} 项应为 [对象编号, 人员编号]")
        blocked.add((pair[0], pair[1]))
    recorded = []
    for n, team in enumerate(teams, 1):
        where = f"team #{n}"
        target = _need(team, "target", str, where)
        members = _strings(_need(team, "inspectors", list, where), where + " inspectors")
        recorded.append((target, members))
    if [t for t, _ in recorded] != order:
        raise Mismatch(
            "teams must list exactly the selected targets, strata in order then ascending ticket",
            "teams 应按分层顺序、再按抽签号升序，逐一列出全部抽中对象",
        )
    load = {}
    for n, (target, members) in enumerate(recorded, 1):
        for m in members:
            if (target, m) in blocked:
                raise Mismatch(
                    f"team #{n} '{target}': inspector '{m}' has a declared conflict with this target",
                    f"第 {n} 组“{target}”：执法检查人员“{m}”与该对象有回避关系，却被分入该组",
                )
            load[m] = load.get(m, 0) + 1
    if cap is not None:
        for m, c in sorted(load.items()):
            if c > cap:
                raise Mismatch(
                    f"inspector '{m}' is in {c} teams, over the cap of {cap}",
                    f"执法检查人员“{m}”被分入 {c} 个组，超过每人 {cap} 户的上限",
                )

    assigned = {i: 0 for i in inspectors}
    current = {}
    for n, (target, members) in enumerate(recorded, 1):
        team = []
        for candidate in rank(inspectors, seed + "|inspector|" + target):
            if len(team) == team_size:
                break
            if (target, candidate) in blocked:
                continue
            if cap is not None and assigned[candidate] >= cap:
                continue
            team.append(candidate)
        if len(team) < team_size:
            raise Mismatch(
                f"team #{n} '{target}': only {len(team)} eligible inspectors, a draw must not seal short teams",
                f"第 {n} 组“{target}”：可用执法检查人员只有 {len(team)} 名，不能封存人数不足的检查组",
            )
        if members != team:
            raise Mismatch(
                f"team #{n} '{target}': inspectors are {members}, expected {team}",
                f"第 {n} 组“{target}”：执法检查人员为 {members}，按算法应为 {team}",
            )
        for m in team:
            assigned[m] += 1
        current[target] = list(team)

    # 6. Recusals after the draw, replayed in order.
    replaced_out = {}
    for n, rep in enumerate(replacements, 1):
        where = f"replacement #{n}"
        target = _need(rep, "target", str, where)
        out = _need(rep, "out", str, where)
        new = _need(rep, "in", str, where)
        reason = _need(rep, "reason", str, where)
        zh = f"第 {n} 条回避替换"
        if target not in current:
            raise Mismatch(f"{where}: target '{target}' was not selected", f"{zh}：对象“{target}”不在抽中名单中")
        team = current[target]
        if out not in team:
            raise Mismatch(f"{where}: '{out}' is not in the team of '{target}'", f"{zh}：“{out}”不在“{target}”的检查组中")
        if not reason.strip():
            raise Mismatch(f"{where}: the reason is empty", f"{zh}：未写明回避原因")
        gone = replaced_out.setdefault(target, set())
        gone.add(out)
        expected_in = None
        for candidate in rank(inspectors, seed + "|inspector|" + target):
            if candidate in team or candidate in gone or (target, candidate) in blocked:
                continue
            if cap is not None and assigned[candidate] >= cap:
                continue
            expected_in = candidate
            break
        if expected_in is None:
            raise Mismatch(
                f"{where}: no eligible inspector was left to replace '{out}' for '{target}'",
                f"{zh}：已没有可替换“{out}”的合格执法检查人员，该替换不可能发生",
            )
        if new != expected_in:
            raise Mismatch(
                f"{where}: '{new}' replaced '{out}' for '{target}', expected '{expected_in}'",
                f"{zh}：替换“{out}”的人员为“{new}”，按算法应为“{expected_in}”",
            )
        team[team.index(out)] = new
        assigned[out] -= 1
        assigned[new] += 1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m ssj.verify BUNDLE.json\n用法：python verify.py 核验包.json", file=sys.stderr)
        return 2
    path = argv[0]
    try:
        with open(path, encoding="utf-8") as f:
            bundle = json.load(f)
    except OSError as e:
        print(f"cannot read {path}: {e.strerror}\n无法读取文件 {path}：{e.strerror}")
        return 2
    except UnicodeDecodeError:
        print(f"{path} is not UTF-8 text\n文件 {path} 不是 UTF-8 文本")
        return 2
    except json.JSONDecodeError as e:
        print(
            f"malformed JSON in {path}: {e.msg} at line {e.lineno} column {e.colno}\n"
            f"文件 {path} 不是有效的 JSON：第 {e.lineno} 行第 {e.colno} 列有误（{e.msg}）"
        )
        return 2
    try:
        verify(bundle)
    except Malformed as e:
        print(f"malformed bundle: {e.english}\n核验包格式错误：{e.chinese}")
        return 2
    except Mismatch as e:
        print(f"MISMATCH: {e.english}\n不一致：{e.chinese}")
        return 1
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
