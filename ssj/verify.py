"""Standalone verifier for ssj-draw-v2 (and v1) bundles: re-run a published draw and compare.

Usage:  python3 verify.py BUNDLE.json [OTHER_BUNDLE.json ...]
        (or, inside ssj: python -m ssj.verify BUNDLE.json ...)

The first file is the bundle to verify. The others, if given, are the
bundles of the tasks named in its Art 16 skips (`skipped[].by_task`): each
is verified too, and each skipped id must be among that task's selected
targets.

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
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple, Union

FORMAT = "ssj-draw-v2"
FORMAT_V1 = "ssj-draw-v1"
MIN_ENTROPY_DIGITS = 20
MIN_TEAM_SIZE = 2

# Spelled with typing's names, not `X | None`: evaluated at import, and the file runs on Python 3.8.
Kind = Union[type, None, Tuple[Optional[type], ...]]  # what _need accepts: a type, None (null), or a tuple of them
TaskRef = Union[int, str]  # a task as a bundle names it
Skip = Tuple[str, str, TaskRef]  # (attempt label, skipped id, by_task)


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


def sha256_hex(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def ticket(id: str, seed: str) -> str:
    x = int(sha256_hex(sha256_hex(seed) + id), 16)
    return "0." + str(x).zfill(64)[::-1]


def canonical_pool_text(ids: Iterable[str]) -> str:
    return "".join(i + "\n" for i in sorted(ids))


def pool_sha256(ids: Iterable[str]) -> str:
    return hashlib.sha256(canonical_pool_text(ids).encode("utf-8")).hexdigest()


def sample_size(n: int, ratio: Optional[str], count: Optional[int]) -> int:
    if ratio is not None:
        exact = Fraction(n) * Fraction(ratio) / 100
        k = -((-exact.numerator) // exact.denominator)  # exact ceiling
    else:
        assert count is not None, "one of ratio and count is set (checked by the caller)"
        k = count
    return min(k, n)


def rank(ids: Iterable[str], seed: str) -> List[str]:
    """ids in ascending ticket order (ties, which need a SHA-256 collision, by id)."""
    return sorted(ids, key=lambda i: (ticket(i, seed), i))


def same_ticket(published: str, full: str) -> bool:
    """A published ticket may be shortened to its first 20 characters or more (SPEC §3)."""
    return len(published) >= 20 and full.startswith(published)


# --- Reading the bundle -----------------------------------------------------------


def _need(obj: object, key: str, kind: Kind, where: str) -> Any:
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


def _strings(value: object, where: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Malformed(f"{where} must be a list of strings", f"{where} 应为字符串列表")
    return value


def _check_pool(ids: List[str], pool_hash: str, where_en: str, where_zh: str) -> None:
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


def _check_seed(part: Dict[str, Any], fmt: str, label: str, zh: str) -> str:
    """Commitment, entropy (from the witnesses' digits in v2) and seed; returns the seed."""
    commitment = _need(part, "nonce_sha256", str, label)
    nonce = _need(part, "nonce", str, label)
    entropy = _need(part, "entropy", str, label)
    seed: str = _need(part, "seed", str, label)
    # 1. The nonce is the one committed to before the dice were rolled.
    if not re.fullmatch(r"[0-9a-f]{64}", nonce):
        raise Mismatch(f"{label}: nonce must be 64 lowercase hex digits (32 bytes)", f"{zh}服务器随机数 nonce 应为 64 位小写十六进制（32 字节）")
    actual = hashlib.sha256(bytes.fromhex(nonce)).hexdigest()
    if actual != commitment:
        raise Mismatch(
            f"{label}: nonce commitment: SHA-256 of the nonce bytes is {actual}, nonce_sha256 says {commitment}",
            f"{zh}随机数承诺不符：nonce 字节的 SHA-256 为 {actual}，而公布的 nonce_sha256 为 {commitment}",
        )
    # 2. The entropy is the witnesses' digits in entry order; the seed is built from it.
    digits = "".join(entropy.split())
    if fmt == FORMAT:
        witnesses = _need(part, "witnesses", list, label)
        typed = ""
        for n, w in enumerate(witnesses, 1):
            _need(w, "name", str, f"{label} witness #{n}")
            _need(w, "section", str, f"{label} witness #{n}")
            typed += "".join(_need(w, "digits", str, f"{label} witness #{n}").split())
        if typed != digits:
            raise Mismatch(
                f"{label}: entropy is '{digits}' but the witnesses' digits in order give '{typed}'",
                f"{zh}公开随机数为“{digits}”，而见证人依次录入的点数连起来是“{typed}”",
            )
    if not re.fullmatch(r"[0-9]{%d,}" % MIN_ENTROPY_DIGITS, digits):
        raise Mismatch(
            f"{label}: entropy must be at least {MIN_ENTROPY_DIGITS} decimal digits (spaces ignored)",
            f"{zh}公开随机数应至少为 {MIN_ENTROPY_DIGITS} 位十进制数字（空格忽略）",
        )
    prefix = fmt
    if fmt == FORMAT and seed.startswith(FORMAT_V1 + "|") and label != "bundle":
        prefix = FORMAT_V1  # a void attempt drawn before the bureau upgraded to v2
    expected_seed = prefix + "|" + nonce + "|" + digits
    if seed != expected_seed:
        raise Mismatch(f"{label}: seed is '{seed}', expected '{expected_seed}'", f"{zh}随机种子为“{seed}”，应为“{expected_seed}”")
    return seed


def _check_strata(
    part: Dict[str, Any], fmt: str, seed: Optional[str], label: str, zh: str, final: bool
) -> Tuple[Optional[List[str]], Dict[str, TaskRef]]:
    """Pools, sample sizes, and (when drawn) the selection with its Art 16 skips.

    Returns (selected ids in team order or None, {skipped id: by_task}).
    """
    strata = _need(part, "strata", list, label)
    if not strata:
        raise Malformed(f"{label}: strata is empty", f"{zh}strata 分层列表为空")
    names: List[str] = []
    pooled: List[str] = []
    order: List[str] = []
    skipped_all: Dict[str, TaskRef] = {}
    drawn = False
    for n, stratum in enumerate(strata, 1):
        where = f"{label} stratum #{n}"
        name = _need(stratum, "name", str, where)
        ratio = _need(stratum, "ratio", (str, None), where)
        count = _need(stratum, "count", (int, None), where)
        pool = _strings(_need(stratum, "pool", list, where), where + " pool")
        pool_hash = _need(stratum, "pool_sha256", str, where)
        k = _need(stratum, "sample_size", int, where)
        # A void attempt that never drew has null here; a drawn one has lists.
        kinds: Kind = (list, None) if (fmt == FORMAT and not final) else list
        selected = _need(stratum, "selected", kinds, where)
        skipped = _need(stratum, "skipped", kinds, where) if fmt == FORMAT else []
        zh_s = f"{zh}第 {n} 层“{name}”"
        if name in names:
            raise Mismatch(f"{where}: stratum name '{name}' is used twice", f"{zh_s}：分层名称重复")
        names.append(name)
        pooled.extend(pool)
        _check_pool(pool, pool_hash, f"{where} '{name}'", zh_s)
        if (ratio is None) == (count is None):
            raise Malformed(f"{where}: exactly one of ratio and count must be set", f"{zh_s}：ratio 与 count 须且只能有一项")
        if ratio is not None and not (re.fullmatch(r"[0-9]+(\.[0-9]+)?", ratio) and 0 < Fraction(ratio) <= 100):
            raise Mismatch(f"{where}: ratio '{ratio}' is not a percentage in (0, 100]", f"{zh_s}：抽查比例“{ratio}”不在 (0, 100] 之内")
        if count is not None and count < 1:
            raise Mismatch(f"{where}: count must be at least 1", f"{zh_s}：固定抽查户数至少为 1")
        # The sample size comes from the whole pool, before any Art 16 skip.
        expected_k = sample_size(len(pool), ratio, count)
        if k != expected_k:
            raise Mismatch(
                f"{where} '{name}': sample_size is {k}, expected {expected_k} for {len(pool)} candidates",
                f"{zh_s}：抽取数量为 {k}，按 {len(pool)} 个候选对象应为 {expected_k}",
            )
        if selected is None or seed is None:
            if selected is not None or (skipped is not None and fmt == FORMAT):
                raise Mismatch(f"{where}: targets are listed for an attempt that never drew", f"{zh_s}：未运行抽取的尝试却列出了抽中对象")
            continue
        if skipped is None:
            raise Malformed(f"{where}: skipped must be a list when selected is", f"{zh_s}：selected 有值时 skipped 也应为列表")
        drawn = True
        # Which pool members the walk passes over (Art 16 set E, as far as it mattered).
        members = set(pool)
        skip_by: Dict[str, TaskRef] = {}
        for i, entry in enumerate(skipped, 1):
            sid = _need(entry, "id", str, f"{where} skipped #{i}")
            _need(entry, "ticket", str, f"{where} skipped #{i}")
            by_task = _need(entry, "by_task", (int, str), f"{where} skipped #{i}")
            if sid not in members:
                raise Mismatch(f"{where} '{name}': skipped #{i} '{sid}' is not in the pool", f"{zh_s}：第 {i} 个跳过的对象“{sid}”不在候选名单中")
            if by_task == part.get("task"):
                raise Mismatch(f"{where} '{name}': skipped #{i} names this task itself", f"{zh_s}：第 {i} 个跳过的对象注明的任务就是本任务")
            skip_by[sid] = by_task
        tseed = seed + "|target|" + name
        walk_selected: List[str] = []
        walk_skipped: List[str] = []
        for ident in rank(pool, tseed):
            if len(walk_selected) == k:
                break
            (walk_skipped if ident in skip_by else walk_selected).append(ident)
        if len(walk_selected) < k and len(walk_skipped) != len(skipped):
            raise Mismatch(
                f"{where} '{name}': the pool ran out but not every skipped id was passed",
                f"{zh_s}：候选对象不足，但跳过名单与依次走过的对象不一致",
            )
        if [e["id"] for e in skipped] != walk_skipped:
            raise Mismatch(
                f"{where} '{name}': skipped lists {[e['id'] for e in skipped]}, but walking the ranking passes "
                f"{walk_skipped} before the last selected target",
                f"{zh_s}：跳过名单为 {[e['id'] for e in skipped]}，按抽签号依次走到最后一个抽中对象之前跳过的应为 {walk_skipped}",
            )
        for i, entry in enumerate(skipped, 1):
            want_ticket = ticket(entry["id"], tseed)
            if not same_ticket(entry["ticket"], want_ticket):
                raise Mismatch(
                    f"{where} '{name}': ticket of skipped #{i} '{entry['id']}' is {entry['ticket']}, expected {want_ticket}",
                    f"{zh_s}：第 {i} 个跳过对象“{entry['id']}”的抽签号为 {entry['ticket']}，应为 {want_ticket}",
                )
        if len(selected) != len(walk_selected):
            raise Mismatch(
                f"{where} '{name}': {len(selected)} targets listed as selected, expected {len(walk_selected)}",
                f"{zh_s}：列出的抽中对象为 {len(selected)} 个，应为 {len(walk_selected)} 个",
            )
        for i, (entry, want) in enumerate(zip(selected, walk_selected), 1):
            got = _need(entry, "id", str, f"{where} selected #{i}")
            got_ticket = _need(entry, "ticket", str, f"{where} selected #{i}")
            want_ticket = ticket(want, tseed)
            if got != want:
                raise Mismatch(
                    f"{where} '{name}': selected #{i} is '{got}', expected '{want}' (ticket {want_ticket})",
                    f"{zh_s}：第 {i} 个抽中对象为“{got}”，按算法应为“{want}”（抽签号 {want_ticket}）",
                )
            if not same_ticket(got_ticket, want_ticket):
                raise Mismatch(
                    f"{where} '{name}': ticket of selected #{i} '{got}' is {got_ticket}, expected {want_ticket}",
                    f"{zh_s}：第 {i} 个抽中对象“{got}”的抽签号为 {got_ticket}，应为 {want_ticket}",
                )
            order.append(got)
        skipped_all.update(skip_by)
    if len(set(pooled)) != len(pooled):
        raise Mismatch(f"{label}: a target appears in more than one stratum", f"{zh}同一检查对象出现在多个分层中")
    return (order if drawn else None), skipped_all


def _check_teams(
    part: Dict[str, Any], fmt: str, seed: Optional[str], order: Optional[List[str]], label: str, zh: str, final: bool
) -> None:
    """Drawn teams, replacements replayed in order, and the published teams (final in v2, as drawn in v1)."""
    inspectors_obj = _need(part, "inspectors", dict, label)
    inspectors = _strings(_need(inspectors_obj, "pool", list, f"{label} inspectors"), f"{label} inspectors pool")
    _check_pool(inspectors, _need(inspectors_obj, "pool_sha256", str, f"{label} inspectors"), f"{label} inspectors", f"{zh}执法检查人员名单")
    team_size = _need(part, "team_size", int, label)
    cap = _need(part, "cap_per_inspector", (int, None), label)
    conflicts = _need(part, "conflicts", list, label)
    if team_size < MIN_TEAM_SIZE:
        raise Mismatch(f"{label}: team_size must be at least {MIN_TEAM_SIZE}", f"{zh}检查组人数至少为 {MIN_TEAM_SIZE} 人")
    if cap is not None and cap < 1:
        raise Mismatch(f"{label}: cap_per_inspector must be at least 1 or null", f"{zh}每人上限应为正整数或 null")
    blocked: Set[Tuple[str, str]] = set()
    for n, pair in enumerate(conflicts, 1):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise Malformed(f"{label}: conflict #{n} must be [target_id, inspector_id]", f"{zh}conflicts 第 {n} 项应为 [对象编号, 人员编号]")
        blocked.add((pair[0], pair[1]))
    nullable = not final and fmt == FORMAT
    teams = _need(part, "teams", (list, None) if nullable else list, label)
    replacements = _need(part, "replacements", (list, None) if nullable else list, label)
    if order is None or teams is None or seed is None:  # no seed, no selection: order is None too
        if teams is not None or (replacements is not None and fmt == FORMAT):
            raise Mismatch(f"{label}: teams are listed for an attempt that drew no targets", f"{zh}未抽取对象的尝试却列出了检查组")
        return
    if final or replacements is None:
        replacements = replacements or []

    recorded: List[Tuple[str, List[str]]] = []
    for n, team in enumerate(teams, 1):
        where = f"{label} team #{n}"
        target = _need(team, "target", str, where)
        members = _strings(_need(team, "inspectors", list, where), where + " inspectors")
        recorded.append((target, members))
    if [t for t, _ in recorded] != order:
        raise Mismatch(
            f"{label}: teams must list exactly the selected targets, strata in order then ascending ticket",
            f"{zh}teams 应按分层顺序、再按抽签号升序，逐一列出全部抽中对象",
        )

    # Rules the published teams must obey whatever else (conflicts, cap).
    load: Dict[str, int] = {}
    for n, (target, members) in enumerate(recorded, 1):
        for m in members:
            if (target, m) in blocked:
                raise Mismatch(
                    f"{label} team #{n} '{target}': inspector '{m}' has a declared conflict with this target",
                    f"{zh}第 {n} 组“{target}”：执法检查人员“{m}”与该对象有回避关系，却被分入该组",
                )
            load[m] = load.get(m, 0) + 1
    if cap is not None:
        for m, c in sorted(load.items()):
            if c > cap:
                raise Mismatch(
                    f"{label}: inspector '{m}' is in {c} teams, over the cap of {cap}",
                    f"{zh}执法检查人员“{m}”被分入 {c} 个组，超过每人 {cap} 户的上限",
                )

    # The teams as drawn.
    assigned = {i: 0 for i in inspectors}
    drawn: List[Tuple[str, List[str]]] = []
    for n, target in enumerate(order, 1):
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
                f"{label} team #{n} '{target}': only {len(team)} eligible inspectors, a draw must not seal short teams",
                f"{zh}第 {n} 组“{target}”：可用执法检查人员只有 {len(team)} 名，不能封存人数不足的检查组",
            )
        for m in team:
            assigned[m] += 1
        drawn.append((target, team))
    current = {t: list(team) for t, team in drawn}

    if fmt == FORMAT_V1:
        # v1 published the teams as drawn, with the recusals listed apart.
        for n, ((target, members), (_, team)) in enumerate(zip(recorded, drawn), 1):
            if members != team:
                raise Mismatch(
                    f"team #{n} '{target}': inspectors are {members}, expected {team}",
                    f"第 {n} 组“{target}”：执法检查人员为 {members}，按算法应为 {team}",
                )

    # Recusals after the draw, replayed in order (SPEC §3 "Replacements").
    replaced_out: Dict[str, Set[str]] = {}
    for n, rep in enumerate(replacements, 1):
        where = f"{label} replacement #{n}"
        target = _need(rep, "target", str, where)
        out = _need(rep, "out", str, where)
        new = _need(rep, "in", str, where)
        reason = _need(rep, "reason", str, where)
        zr = f"{zh}第 {n} 条回避替换"
        if target not in current:
            raise Mismatch(f"{where}: target '{target}' was not selected", f"{zr}：对象“{target}”不在抽中名单中")
        team = current[target]
        if out not in team:
            raise Mismatch(f"{where}: '{out}' is not in the team of '{target}'", f"{zr}：“{out}”不在“{target}”的检查组中")
        if not reason.strip():
            raise Mismatch(f"{where}: the reason is empty", f"{zr}：未写明回避原因")
        gone = replaced_out.setdefault(target, set())
        gone.add(out)
        expected_in: Optional[str] = None
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
                f"{zr}：已没有可替换“{out}”的合格执法检查人员，该替换不可能发生",
            )
        if new != expected_in:
            raise Mismatch(
                f"{where}: '{new}' replaced '{out}' for '{target}', expected '{expected_in}'",
                f"{zr}：替换“{out}”的人员为“{new}”，按算法应为“{expected_in}”",
            )
        team[team.index(out)] = new
        assigned[out] -= 1
        assigned[new] += 1

    if fmt == FORMAT:
        # v2 publishes the teams as they stand after every replacement: who actually inspected.
        for n, (target, members) in enumerate(recorded, 1):
            if members != current[target]:
                raise Mismatch(
                    f"{label} team #{n} '{target}': inspectors are {members}, expected {current[target]} "
                    "(drawn, then every replacement applied)",
                    f"{zh}第 {n} 组“{target}”：执法检查人员为 {members}，按算法抽取并依次替换后应为 {current[target]}",
                )


def _check_attempt(
    part: Dict[str, Any], fmt: str, label: str, zh: str, final: bool
) -> Tuple[Optional[List[str]], Dict[str, TaskRef]]:
    """One attempt's draw fields; returns (selected ids or None, {skipped id: by_task})."""
    seed = None
    if final or part.get("nonce") is not None and part.get("entropy") is not None:
        seed = _check_seed(part, fmt, label, zh)
    else:
        if part.get("seed") is not None:
            raise Mismatch(f"{label}: a seed without its nonce and entropy", f"{zh}有随机种子却缺少服务器随机数或公开随机数")
        commitment, nonce = part.get("nonce_sha256"), part.get("nonce")
        if nonce is not None and not (
            isinstance(nonce, str) and re.fullmatch(r"[0-9a-f]{64}", nonce)
            and hashlib.sha256(bytes.fromhex(nonce)).hexdigest() == commitment
        ):
            raise Mismatch(f"{label}: nonce commitment does not hold", f"{zh}随机数承诺不符")
    order, skipped = _check_strata(part, fmt, seed, label, zh, final)
    _check_teams(part, fmt, seed, order, label, zh, final)
    return order, skipped


def verify(bundle: object) -> None:
    """Raise Mismatch or Malformed at the first problem; return None if all checks pass."""
    check(bundle)


def check(bundle: object) -> Tuple[TaskRef, Set[str], List[Skip]]:
    """verify(), returning what other bundles are cross-checked with.

    Returns (task, {selected ids of the final attempt}, [(attempt label, skipped id, by_task), ...]).
    """
    if not isinstance(bundle, dict):
        raise Malformed("the bundle must be a JSON object", "核验包应为 JSON 对象")
    fmt = _need(bundle, "format", str, "bundle")
    if fmt not in (FORMAT, FORMAT_V1):
        raise Mismatch(
            f"format is '{fmt}', this verifier checks '{FORMAT}' and '{FORMAT_V1}'",
            f"格式为“{fmt}”，本程序只核验“{FORMAT}”和“{FORMAT_V1}”",
        )
    task = _need(bundle, "task", (str, int), "bundle")
    number = _need(bundle, "attempt", int, "bundle")
    order, skipped = _check_attempt(bundle, fmt, "bundle", "", True)
    skips = [("bundle", sid, by) for sid, by in skipped.items()]
    if fmt == FORMAT:
        voids = _need(bundle, "void_attempts", list, "bundle")
        numbers = [_need(v, "attempt", int, f"void attempt #{n}") for n, v in enumerate(voids, 1)]
        if numbers != list(range(1, number)):
            raise Mismatch(
                f"void_attempts hold attempts {numbers}, expected every earlier attempt 1 .. {number - 1} in order",
                f"作废的抽取应依次包含第 1 至第 {number - 1} 次，核验包中为 {numbers}",
            )
        for v in voids:
            label = f"void attempt {v['attempt']}"
            zh = f"作废的第 {v['attempt']} 次抽取："
            reason = _need(v, "void_reason", str, label)
            _need(v, "approved_by", str, label)
            if not reason.strip():
                raise Mismatch(f"{label}: void_reason is empty", f"{zh}未写明作废原因")
            v = dict(v, task=task)
            _, void_skipped = _check_attempt(v, fmt, label, zh, False)
            skips.extend((label, sid, by) for sid, by in void_skipped.items())
    return task, set(order or []), skips


def cross_check(skips: Iterable[Skip], others: Mapping[TaskRef, Set[str]]) -> None:
    """Each skipped id must be among the selected targets of the bundle of the task it names."""
    for label, sid, by_task in skips:
        if by_task not in others:
            continue
        if sid not in others[by_task]:
            raise Mismatch(
                f"{label}: '{sid}' is listed as skipped for task {by_task}, but that task's bundle did not select it",
                f"{label}：对象“{sid}”注明因任务 {by_task} 而跳过，但该任务的核验包中没有抽中它",
            )


def _load(path: str) -> Tuple[Any, Optional[int]]:
    """(bundle, None) or (None, exit status) after printing why the file cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f), None
    except OSError as e:
        print(f"cannot read {path}: {e.strerror}\n无法读取文件 {path}：{e.strerror}")
    except UnicodeDecodeError:
        print(f"{path} is not UTF-8 text\n文件 {path} 不是 UTF-8 文本")
    except json.JSONDecodeError as e:
        print(
            f"malformed JSON in {path}: {e.msg} at line {e.lineno} column {e.colno}\n"
            f"文件 {path} 不是有效的 JSON：第 {e.lineno} 行第 {e.colno} 列有误（{e.msg}）"
        )
    return None, 2


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(
            "usage: python3 verify.py BUNDLE.json [OTHER_BUNDLE.json ...]\n"
            "用法：python3 verify.py 核验包.json [被跳过对象所属任务的核验包.json ...]",
            file=sys.stderr,
        )
        return 2
    results: List[Tuple[TaskRef, Set[str], List[Skip]]] = []
    for path in argv:
        bundle, status = _load(path)
        if status is not None:
            return status
        try:
            results.append(check(bundle))
        except Malformed as e:
            print(f"{path}: malformed bundle: {e.english}\n{path}：核验包格式错误：{e.chinese}")
            return 2
        except Mismatch as e:
            print(f"{path}: MISMATCH: {e.english}\n{path}：不一致：{e.chinese}")
            return 1
    _, _, skips = results[0]
    others = {task: selected for task, selected, _ in results[1:]}
    try:
        cross_check(skips, others)
    except Mismatch as e:
        print(f"{argv[0]}: MISMATCH: {e.english}\n{argv[0]}：不一致：{e.chinese}")
        return 1
    unchecked = sorted({str(by) for _, _, by in skips if by not in others})
    if unchecked:
        print(
            "note: skipped targets not cross-checked (give these tasks' bundles too): task " + ", ".join(unchecked)
            + "\n提示：未提供以下任务的核验包，其跳过的对象未交叉核对：任务 " + "、".join(unchecked),
            file=sys.stderr,
        )
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
