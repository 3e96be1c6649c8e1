"""The public draw algorithm ssj-draw-v2 (SPEC §3), as pure typed functions.

Art 5 and Art 6 require targets and inspectors to be chosen "通过摇号的方式"
(by lot); Art 5 requires teams of at least two and recusal on a conflict of
interest; Art 7 sets the sample ratio. Art 9 (全程留痕) and Art 13 (公开) are
why the algorithm is public and deterministic: given the frozen pools, the
nonce and the witnesses' dice, anyone can recompute the result with
ssj/verify.py, a standard-library copy of the definitions below.

Definitions (authoritative text in SPEC §3):

    sha256_hex(s)    = lowercase hex SHA-256 of the UTF-8 bytes of s
    ticket(id, seed) = "0." + reversed(decimal(int(sha256_hex(sha256_hex(seed) + id), 16))
                                        left-padded with zeros to >= 64 digits)
    seed             = "ssj-draw-v2|" + nonce_hex + "|" + entropy
    target tickets   : ticket(target_id, seed + "|target|" + stratum_name)
    inspector tickets: ticket(inspector_id, seed + "|inspector|" + target_id)

Art 16 (avoid repeat checks) works inside the draw, not on the pools: a
stratum's walk in ticket order passes over the members of E (targets
another task drew and inspects within the window) and takes the first k
others. The pools, their sizes, hashes and k therefore follow from the
directory alone and reveal nothing sealed (SPEC §4 "no oracles").

Tickets compare as strings. Equal tickets would need a SHA-256 collision;
should one ever happen the id (code-point order) breaks the tie, so the
result is still a function of the inputs alone.

No Flask and no database here: callers freeze the pools, keep the nonce
secret until publication and store the result sealed.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterable, Mapping, Optional, Sequence

FORMAT = "ssj-draw-v2"
FORMAT_V1 = "ssj-draw-v1"  # bundles published before v2 stay served and verifiable as they were
NONCE_BYTES = 32
MIN_ENTROPY_DIGITS = 20
MIN_TEAM_SIZE = 2  # Art 5: "随机抽取2名以上执法检查人员"

_RATIO = re.compile(r"[0-9]+(\.[0-9]+)?")
_NONCE_HEX = re.compile(r"[0-9a-f]{64}")

# --- Why a 4-digit integer prefix may stand in for the ticket string -------
#
# Let D be decimal(x) left-padded to L >= 64 digits; the ticket is "0." +
# reversed(D). Its character at position 2 + j (j = 0 .. L-1) is the j-th
# least significant decimal digit of x, (x // 10**j) % 10. For m <= 64 the
# characters at positions 2 .. 2+m-1 therefore depend only on x mod 10**m:
#
#     ticket[2:2+m] == reversed(zero-padded m-digit decimal(x mod 10**m))
#
# and _REVERSED_PREFIX[x % 10**m] is that m-digit string read as an integer.
# Because every such prefix has exactly m digit characters, integer order of
# prefixes is string order of prefixes. Two tickets share "0.", so when their
# prefixes differ the first differing character lies inside the prefix and
# decides the string comparison whatever follows and whatever the tickets'
# lengths (64 to 78 digits). Hence: prefix(a) > prefix(b) implies
# ticket(a) > ticket(b). A candidate whose prefix exceeds the prefix of the
# current k-th smallest ticket cannot be among the k smallest and is dropped
# without building its ticket string; candidates that pass are compared by
# their full ticket strings, exactly as defined. (What is NOT equivalent:
# ordering by x, or by x mod 10**64 — the least significant digit of x is the
# most significant digit of the ticket.) A second, cheaper test follows from
# the same fact: if the bound's m digits start with z zeros, a passing
# ticket starts with z zeros, so 10**z divides x, so x's last z bits are 0;
# the last digest byte rejects most candidates before x is built.
# tests/draws/test_tickets.py checks both on random numbers.
_PREFIX_DIGITS = 4
_PREFIX_MOD = 10**_PREFIX_DIGITS
_REVERSED_PREFIX = tuple(int(f"{i:0{_PREFIX_DIGITS}d}"[::-1]) for i in range(_PREFIX_MOD))


class DrawError(ValueError):
    """A draw cannot run as asked; str() is a Chinese sentence saying what to fix."""


class PoolError(DrawError):
    """A pool of ids is unusable (empty id, line break, duplicate)."""


class SampleSizeError(DrawError):
    """A stratum's ratio or fixed count is not a valid sample rule."""


class EntropyError(DrawError):
    """The witnesses' entropy or the nonce is not in the required form."""


class ReplacementError(DrawError):
    """A recusal cannot be applied as recorded."""


class InsufficientInspectorsError(DrawError):
    """The eligible inspectors cannot fill a team; the draw must not be sealed.

    The message names the target by its position only: before publication a
    target id must not reach logs or error pages (SPEC §4).
    """

    def __init__(
        self,
        *,
        position: int,
        stratum: Optional[str],
        index_in_stratum: Optional[int],
        team_size: int,
        found: int,
        pool_size: int,
        conflicted: int,
        at_cap: int,
        cap: Optional[int],
        replaced_out: int = 0,
    ) -> None:
        self.position = position
        self.stratum = stratum
        self.index_in_stratum = index_in_stratum
        self.team_size = team_size
        self.found = found
        self.pool_size = pool_size
        self.conflicted = conflicted
        self.at_cap = at_cap
        self.cap = cap
        self.replaced_out = replaced_out
        where = f"第 {position} 个抽中对象"
        if stratum is not None and index_in_stratum is not None:
            where += f"（“{stratum}”层第 {index_in_stratum} 个）"
        why = [f"执法检查人员名录共 {pool_size} 人"]
        if conflicted:
            why.append(f"{conflicted} 人与该对象有回避关系")
        if at_cap:
            why.append(f"{at_cap} 人已达每人 {cap} 户的上限")
        if replaced_out:
            why.append(f"{replaced_out} 人已因回避被替换出该组")
        super().__init__(
            f"{where}无法配齐 {team_size} 名执法检查人员，只找到 {found} 名可用人员："
            + "，".join(why)
            + "。请增加执法检查人员、提高每人抽查户数上限或核对回避关系后再抽取；"
            "本次结果不会封存。"
        )


@dataclass(frozen=True)
class Stratum:
    """One stratum of targets with its frozen pool and exactly one sample rule."""

    name: str
    pool: Sequence[str]
    ratio: Optional[str] = None  # percent as a decimal string, e.g. "1" or "0.5"
    count: Optional[int] = None


@dataclass(frozen=True)
class Selected:
    id: str
    ticket: str


@dataclass(frozen=True)
class Skipped:
    """A member of E passed over in the walk (Art 16), with the task that drew it."""

    id: str
    ticket: str
    by_task: int


@dataclass(frozen=True)
class StratumResult:
    stratum: Stratum
    sample_size: int
    selected: tuple[Selected, ...]  # ascending ticket
    skipped: tuple[Skipped, ...] = ()  # walking order; see select_stratum


@dataclass(frozen=True)
class Team:
    target: str
    inspectors: tuple[str, ...]  # in ranking order


@dataclass(frozen=True)
class Replacement:
    """A recusal after the draw: `out` leaves the target's team, `in_` takes their place."""

    target: str
    out: str
    in_: str
    reason: str


@dataclass(frozen=True)
class DrawResult:
    seed: str
    strata: tuple[StratumResult, ...]
    teams: tuple[Team, ...]


# --- Primitives ---------------------------------------------------------------


def sha256_hex(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def _ticket_of_int(x: int) -> str:
    return "0." + str(x).zfill(64)[::-1]


def ticket(id: str, seed: str) -> str:
    """The reference definition; the batch functions below must agree with it."""
    return _ticket_of_int(int(sha256_hex(sha256_hex(seed) + id), 16))


def new_nonce() -> bytes:
    return secrets.token_bytes(NONCE_BYTES)


def nonce_commitment(nonce: bytes) -> str:
    """SHA-256 of the nonce bytes (not of its hex), shown before the dice are rolled."""
    if len(nonce) != NONCE_BYTES:
        raise EntropyError(f"服务器随机数应为 {NONCE_BYTES} 字节，此处为 {len(nonce)} 字节。")
    return hashlib.sha256(nonce).hexdigest()


def normalize_entropy(entropy: str) -> str:
    """The witnesses' digits with every whitespace character removed, checked."""
    # str.split() without arguments also removes the full-width space U+3000
    # that Chinese input methods type, so "3 5 1" and "3　5　1" agree.
    digits = "".join(entropy.split())
    if not digits:
        raise EntropyError("请输入见证人掷骰得到的数字（至少 20 位）。")
    bad = sorted({ch for ch in digits if ch not in "0123456789"})
    if bad:
        raise EntropyError(
            "公开随机数只能包含半角数字 0–9（空格会被忽略），请删除："
            + "、".join(f"“{ch}”" for ch in bad)
            + "。"
        )
    if len(digits) < MIN_ENTROPY_DIGITS:
        raise EntropyError(
            f"公开随机数至少需要 {MIN_ENTROPY_DIGITS} 位数字，现在只有 {len(digits)} 位，请继续掷骰补足。"
        )
    return digits


def make_seed(nonce_hex: str, entropy: str, fmt: str = FORMAT) -> str:
    """The seed; `fmt` is FORMAT_V1 only to rebuild a draw sealed before v2."""
    if not _NONCE_HEX.fullmatch(nonce_hex):
        raise EntropyError("服务器随机数应为 64 位小写十六进制字符。")
    return f"{fmt}|{nonce_hex}|{normalize_entropy(entropy)}"


def target_seed(seed: str, stratum_name: str) -> str:
    return f"{seed}|target|{stratum_name}"


def inspector_seed(seed: str, target_id: str) -> str:
    return f"{seed}|inspector|{target_id}"


# --- Pools --------------------------------------------------------------------


def check_pool(ids: Sequence[str], what: str = "名单") -> None:
    """Raise PoolError unless every id is a non-empty string without line breaks, once."""
    # Whole-list string operations instead of a per-id loop: a pool can hold a
    # million ids and this runs inside the timed draw.
    try:
        joined = "\n".join(ids)
    except TypeError:
        raise PoolError(f"{what}中有不是文字的编号，请检查数据来源。") from None
    if joined.count("\n") != max(len(ids) - 1, 0) or "\r" in joined:
        # The canonical text separates ids by "\n"; an id containing one
        # would make two different pools hash alike.
        raise PoolError(f"{what}中有编号含换行符，请清理数据后重新冻结。")
    unique = set(ids)
    if "" in unique:
        raise PoolError(f"{what}中有空的编号，请删除空行后重新冻结。")
    if len(unique) != len(ids):
        repeated = sum(1 for n in Counter(ids).values() if n > 1)
        raise PoolError(f"{what}中有 {repeated} 个编号重复出现，每个编号只能出现一次，请去重后重新冻结。")


def canonical_pool_text(ids: Iterable[str]) -> str:
    """The ids in code-point order, each followed by a line feed (SPEC §3)."""
    # Python compares str by code point, which is the order the spec fixes
    # (and differs from a Chinese collation or a locale-aware sort).
    return "".join(ident + "\n" for ident in sorted(ids))


def pool_sha256(ids: Sequence[str]) -> str:
    check_pool(ids)
    return hashlib.sha256(canonical_pool_text(ids).encode("utf-8")).hexdigest()


# --- Sample size ----------------------------------------------------------------


def parse_ratio(ratio: str) -> Fraction:
    """A percent given as a plain decimal string, read exactly (never via float)."""
    if not isinstance(ratio, str) or not _RATIO.fullmatch(ratio):
        raise SampleSizeError(f"抽查比例“{ratio}”不是有效的百分数，请填写如 1、0.5 或 33.3 这样的数字（不带 % 号）。")
    value = Fraction(ratio)
    if value <= 0:
        raise SampleSizeError("抽查比例必须大于 0。")
    if value > 100:
        raise SampleSizeError(f"抽查比例不能超过 100%，此处为 {ratio}%。")
    return value


def sample_size(n: int, ratio: Optional[str], count: Optional[int]) -> int:
    """k = ceil(n × ratio / 100) exactly, or the fixed count; capped at n."""
    if (ratio is None) == (count is None):
        raise SampleSizeError("每个分层须且只能填写抽查比例或固定抽查户数中的一项。")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise SampleSizeError("候选对象数量必须是非负整数。")
    if ratio is not None:
        r = parse_ratio(ratio)
        product = n * r
        # ceil of a non-negative Fraction without leaving exact arithmetic
        k = -((-product.numerator) // (product.denominator * 100))
    else:
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise SampleSizeError(f"固定抽查户数应为正整数，此处为“{count}”。")
        k = count
    return min(k, n)


# --- The k smallest tickets -------------------------------------------------------


def _k_smallest(prefix_hash: "hashlib._Hash", raw_ids: Iterable[bytes], k: int) -> list[tuple[str, str]]:
    """(ticket, id) of the k ids (given UTF-8 encoded) with the smallest tickets, ascending.

    prefix_hash has already absorbed sha256_hex(seed); copying it saves one
    SHA-256 block per id (the 64 hex characters fill exactly one). Ids stay
    bytes until the end: UTF-8 byte order is code-point order, so the tie
    break on (ticket, id) is unchanged.
    """
    if k <= 0:
        return []
    from_bytes = int.from_bytes
    reversed_prefix = _REVERSED_PREFIX
    mod = _PREFIX_MOD
    bound = mod  # no prefix reaches it: keep everything until k are known
    low_bits = 0  # see below
    keep: list[tuple[str, bytes]] = []
    # Trimming when the list doubles keeps sorting amortised O(log k) per kept
    # item, and for a team of 2 it tightens the bound early, so that only
    # about 17 of 500 inspectors get a ticket string built.
    limit = 2 * k + 1
    copy = prefix_hash.copy
    for raw in raw_ids:
        h = copy()
        h.update(raw)
        digest = h.digest()
        # If the bound, written with _PREFIX_DIGITS digits, starts with z
        # zeros, a passing ticket starts with z zeros too, so x is divisible
        # by 10**z and hence by 2**z: its last z bits are 0. Testing the last
        # byte rejects most candidates before the integer is even built.
        if digest[-1] & low_bits:
            continue
        x = from_bytes(digest, "big")
        if reversed_prefix[x % mod] > bound:
            continue
        keep.append((_ticket_of_int(x), raw))
        if len(keep) >= limit:
            keep.sort()
            del keep[k:]
            bound = int(keep[-1][0][2 : 2 + _PREFIX_DIGITS])
            zeros = _PREFIX_DIGITS - len(str(bound)) if bound else _PREFIX_DIGITS
            low_bits = (1 << zeros) - 1
    keep.sort()
    return [(t, raw.decode("utf-8")) for t, raw in keep[:k]]


def _seeded_hash(seed: str) -> "hashlib._Hash":
    return hashlib.sha256(sha256_hex(seed).encode("ascii"))


# --- Targets ----------------------------------------------------------------------


def select_stratum(stratum: Stratum, seed: str, excluded: Optional[Mapping[str, int]] = None) -> StratumResult:
    """Walk the pool in ascending target ticket, skip members of E, take the first k others.

    k comes from the whole pool (SPEC §3), so it says nothing about E.
    `excluded` maps each member of E to the task that caused its skip
    (`by_task`). `skipped` lists the members of E passed before the last
    selected one; members ranked after it did not affect the draw and are
    not listed, unless the pool runs out (fewer than k selected), when the
    walk passed all of E.

    Only the k + |E| smallest tickets can matter: at most |E| of them are
    skipped, so the first k others lie among them. The bounded search keeps
    its speed (bench.draw) with skips in play.
    """
    check_pool(stratum.pool, f"“{stratum.name}”层的候选对象名单")
    k = sample_size(len(stratum.pool), stratum.ratio, stratum.count)
    excluded = excluded or {}
    seeded = _seeded_hash(target_seed(seed, stratum.name))
    best = _k_smallest(seeded, map(str.encode, stratum.pool), k + len(excluded) if k else 0)
    selected: list[Selected] = []
    passed: list[Skipped] = []
    for t, ident in best:
        if len(selected) == k:
            break
        by_task = excluded.get(ident)
        if by_task is None:
            selected.append(Selected(ident, t))
        else:
            passed.append(Skipped(ident, t, by_task))
    # When fewer than k were selected the pool ran out: best then covers the
    # whole pool (N - |E in pool| < k means N < k + |E|), so `passed` is all
    # of E in walking order, as the rule says.
    return StratumResult(stratum, k, tuple(selected), tuple(passed))


def draw_targets(
    strata: Sequence[Stratum], seed: str, excluded: Optional[Mapping[str, int]] = None
) -> tuple[StratumResult, ...]:
    if not strata:
        raise DrawError("至少需要一个分层。")
    names = [s.name for s in strata]
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise DrawError("每个分层都要有名称。")
    if len(set(names)) != len(names):
        raise DrawError("分层名称不能重复：名称是随机种子的一部分，重名的分层会得到相同的抽签号。")
    if len(strata) > 1:
        total = sum(len(s.pool) for s in strata)
        seen: set[str] = set()
        for s in strata:
            seen.update(s.pool)
        if len(seen) != total:
            raise PoolError("同一检查对象不能同时出现在两个分层中，请调整分层条件使各层互不重叠。")
    # E may name targets of other strata or none of this task's: they never
    # appear in a stratum's walk, and only loosen its k + |E| search bound.
    return tuple(select_stratum(s, seed, excluded) for s in strata)


def selected_targets(results: Sequence[StratumResult]) -> list[str]:
    """Target ids in team order: strata as listed, then ascending ticket."""
    return [sel.id for r in results for sel in r.selected]


# --- Teams ------------------------------------------------------------------------


def _conflict_map(conflicts: Iterable[Sequence[str]]) -> dict[str, set[str]]:
    by_target: dict[str, set[str]] = {}
    for pair in conflicts:
        if len(pair) != 2:
            raise DrawError("回避关系应为（检查对象编号，执法检查人员编号）成对出现。")
        target, inspector = pair
        by_target.setdefault(target, set()).add(inspector)
    return by_target


def _check_team_rules(team_size: int, cap: Optional[int]) -> None:
    if not isinstance(team_size, int) or isinstance(team_size, bool) or team_size < MIN_TEAM_SIZE:
        raise DrawError(f"检查组人数至少为 {MIN_TEAM_SIZE} 人（细则第五条），此处为“{team_size}”。")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
        raise DrawError(f"每人抽查户数上限应为正整数或不设上限，此处为“{cap}”。")


def rank_inspectors(target_id: str, inspectors: Sequence[str], seed: str) -> list[str]:
    """All inspectors in ascending ticket order for this target (used for recusal)."""
    h = _seeded_hash(inspector_seed(seed, target_id))
    return [i for _, i in _k_smallest(h, (i.encode("utf-8") for i in inspectors), len(inspectors))]


def assign_teams(
    selected: Sequence[StratumResult],
    inspectors: Sequence[str],
    seed: str,
    team_size: int,
    cap: Optional[int],
    conflicts: Iterable[Sequence[str]],
) -> tuple[Team, ...]:
    """One team per selected target; raises InsufficientInspectorsError rather than seal a short team."""
    _check_team_rules(team_size, cap)
    check_pool(inspectors, "执法检查人员名单")
    conflicted = _conflict_map(conflicts)
    encoded = {i: i.encode("utf-8") for i in inspectors}
    load = dict.fromkeys(inspectors, 0)
    at_cap: set[str] = set()
    # Inspectors at the cap are dropped from the list instead of being hashed
    # and skipped: removing an id never changes the others' tickets, so the
    # ranking of the rest is the same.
    available = list(encoded.values())
    teams: list[Team] = []
    position = 0
    for result in selected:
        for index, sel in enumerate(result.selected, 1):
            position += 1
            target = sel.id
            blocked = conflicted.get(target)
            if blocked:
                blocked_raw = {encoded[i] for i in blocked if i in encoded}
                candidates = [r for r in available if r not in blocked_raw]
            else:
                candidates = available
            best = _k_smallest(_seeded_hash(inspector_seed(seed, target)), candidates, team_size)
            if len(best) < team_size:
                conflicted_here = sum(1 for i in inspectors if blocked and i in blocked)
                raise InsufficientInspectorsError(
                    position=position,
                    stratum=result.stratum.name,
                    index_in_stratum=index,
                    team_size=team_size,
                    found=len(best),
                    pool_size=len(inspectors),
                    conflicted=conflicted_here,
                    at_cap=sum(1 for i in at_cap if not (blocked and i in blocked)),
                    cap=cap,
                )
            members = tuple(i for _, i in best)
            teams.append(Team(target, members))
            if cap is not None:
                newly_full = False
                for m in members:
                    load[m] += 1
                    if load[m] >= cap:
                        at_cap.add(m)
                        newly_full = True
                if newly_full:
                    available = [encoded[i] for i in inspectors if i not in at_cap]
    return tuple(teams)


def run_draw(
    strata: Sequence[Stratum],
    inspectors: Sequence[str],
    seed: str,
    team_size: int,
    cap: Optional[int],
    conflicts: Iterable[Sequence[str]],
    excluded: Optional[Mapping[str, int]] = None,
) -> DrawResult:
    """Targets (with Art 16 skips) then teams, all from one seed; raises before returning anything partial."""
    _check_team_rules(team_size, cap)
    results = draw_targets(strata, seed, excluded)
    teams = assign_teams(results, inspectors, seed, team_size, cap, conflicts)
    return DrawResult(seed, results, teams)


# --- Recusal after the draw ---------------------------------------------------------


def apply_replacements(teams: Sequence[Team], replacements: Sequence[Replacement]) -> list[Team]:
    """The teams as they stand after the recorded replacements, applied in order."""
    current = {t.target: list(t.inspectors) for t in teams}
    for n, r in enumerate(replacements, 1):
        members = current.get(r.target)
        if members is None:
            raise ReplacementError(f"第 {n} 条回避替换记录所指的检查对象不在本次抽取结果中。")
        if r.out not in members:
            raise ReplacementError(f"第 {n} 条回避替换记录中被替换的人员不在该检查组中。")
        if r.in_ in members:
            raise ReplacementError(f"第 {n} 条回避替换记录中替补人员已在该检查组中。")
        # The substitute takes the leaver's place so the team's order stays readable.
        members[members.index(r.out)] = r.in_
    return [Team(t.target, tuple(current[t.target])) for t in teams]


def replace_inspector(
    teams: Sequence[Team],
    replacements: Sequence[Replacement],
    target: str,
    out: str,
    reason: str,
    *,
    inspectors: Sequence[str],
    seed: str,
    cap: Optional[int],
    conflicts: Iterable[Sequence[str]],
) -> Replacement:
    """The next eligible inspector in the target's ranking replaces `out` (Art 5 回避).

    `teams` are the teams as drawn and `replacements` the ones already made;
    the caller appends the returned record. Skipped: current members, anyone
    already replaced out of this team, frozen conflicts, and inspectors at
    the cap as the teams stand now.
    """
    if not reason or not reason.strip():
        raise ReplacementError("请填写回避原因。")
    current = apply_replacements(teams, replacements)
    team = next((t for t in current if t.target == target), None)
    if team is None:
        raise ReplacementError("该检查对象不在本次抽取结果中。")
    if out not in team.inspectors:
        raise ReplacementError("要替换的执法检查人员不在该检查组中。")
    position = next(n for n, t in enumerate(current, 1) if t.target == target)
    replaced_out = {r.out for r in replacements if r.target == target} | {out}
    blocked = _conflict_map(conflicts).get(target, set())
    load = Counter(i for t in current for i in t.inspectors)
    conflicted_count = at_cap_count = 0
    for candidate in rank_inspectors(target, inspectors, seed):
        if candidate in team.inspectors or candidate in replaced_out:
            continue
        if candidate in blocked:
            conflicted_count += 1
            continue
        if cap is not None and load[candidate] >= cap:
            at_cap_count += 1
            continue
        return Replacement(target, out, candidate, reason.strip())
    raise InsufficientInspectorsError(
        position=position,
        stratum=None,
        index_in_stratum=None,
        team_size=len(team.inspectors),
        found=len(team.inspectors) - 1,
        pool_size=len(inspectors),
        conflicted=conflicted_count,
        at_cap=at_cap_count,
        cap=cap,
        replaced_out=len(replaced_out),
    )


# --- The published verification bundle ----------------------------------------------


@dataclass(frozen=True)
class WitnessEntry:
    """A witness as the bundle names them: `section` is their section's name."""

    name: str
    section: str
    digits: str


@dataclass(frozen=True)
class AttemptRecord:
    """What one numbered attempt reached, read back from its sealed record.

    A field the attempt never reached stays None (frozen only: no nonce;
    committed but not run: no entropy; a draw that stopped before its teams
    were filled: a selection but no teams). `teams` are the teams as drawn;
    `replacements` the recusals made afterwards, in order.
    """

    number: int
    strata: Sequence[Stratum]
    inspectors: Sequence[str]
    team_size: int
    cap: Optional[int]
    conflicts: Sequence[Sequence[str]]
    nonce: Optional[bytes] = None
    witnesses: Sequence[WitnessEntry] = ()
    entropy: Optional[str] = None
    seed: Optional[str] = None
    selection: Optional[Sequence[StratumResult]] = None
    teams: Optional[Sequence[Team]] = None
    replacements: Sequence[Replacement] = ()
    void_reason: Optional[str] = None
    approved_by: Optional[str] = None


def _selected_json(r: StratumResult) -> list[dict[str, Any]]:
    return [{"id": x.id, "ticket": x.ticket} for x in r.selected]


def _skipped_json(r: StratumResult) -> list[dict[str, Any]]:
    return [{"id": x.id, "ticket": x.ticket, "by_task": x.by_task} for x in r.skipped]


def attempt_fields(rec: AttemptRecord) -> dict[str, Any]:
    """The draw fields of one attempt (SPEC §3 bundle), null where the attempt never got."""
    seed = None
    entropy = None
    if rec.entropy is not None:
        if rec.nonce is None:
            raise DrawError(f"第 {rec.number} 次抽取有公开随机数却没有服务器随机数，记录不完整，不能生成核验包。")
        entropy = normalize_entropy(rec.entropy)
        typed = "".join("".join(w.digits.split()) for w in rec.witnesses)
        if typed != entropy:
            raise DrawError(f"第 {rec.number} 次抽取的公开随机数与见证人录入的点数不一致，不能生成核验包。")
        # A void attempt drawn before the upgrade keeps its ssj-draw-v1 seed.
        legacy = rec.seed is not None and rec.seed.startswith(FORMAT_V1 + "|")
        seed = make_seed(rec.nonce.hex(), entropy, FORMAT_V1 if legacy else FORMAT)
        if rec.seed is not None and rec.seed != seed:
            raise DrawError(f"第 {rec.number} 次抽取的结果不是由这组服务器随机数和公开随机数得到的，不能生成核验包。")
    by_name = {r.stratum.name: r for r in rec.selection} if rec.selection is not None else {}
    selected_ids = {x.id for r in by_name.values() for x in r.selected}
    pooled = set(rec.inspectors)
    # Only conflicts that can affect the teams are published: a conflict of
    # interest is personal information.
    published_conflicts = sorted({(t, i) for t, i in rec.conflicts if t in selected_ids and i in pooled})
    teams = None
    if rec.teams is not None:
        teams = [
            {"target": t.target, "inspectors": list(t.inspectors)}
            for t in apply_replacements(rec.teams, rec.replacements)
        ]
    strata = []
    for s in rec.strata:
        r = by_name.get(s.name)
        strata.append(
            {
                "name": s.name,
                "ratio": s.ratio,
                "count": s.count,
                "pool": sorted(s.pool),
                "pool_sha256": pool_sha256(s.pool),
                "sample_size": sample_size(len(s.pool), s.ratio, s.count),
                "selected": _selected_json(r) if r is not None else None,
                "skipped": _skipped_json(r) if r is not None else None,
            }
        )
    return {
        "attempt": rec.number,
        "nonce_sha256": nonce_commitment(rec.nonce) if rec.nonce is not None else None,
        "nonce": rec.nonce.hex() if rec.nonce is not None else None,
        "witnesses": (
            [{"name": w.name, "section": w.section, "digits": "".join(w.digits.split())} for w in rec.witnesses]
            if rec.nonce is not None
            else None
        ),
        "entropy": entropy,
        "seed": seed,
        "strata": strata,
        "inspectors": {"pool": sorted(rec.inspectors), "pool_sha256": pool_sha256(rec.inspectors)},
        "team_size": rec.team_size,
        "cap_per_inspector": rec.cap,
        "conflicts": [[t, i] for t, i in published_conflicts],
        "teams": teams,
        "replacements": (
            [{"target": r.target, "out": r.out, "in": r.in_, "reason": r.reason} for r in rec.replacements]
            if rec.teams is not None
            else None
        ),
    }


def build_bundle(*, task: Any, final: AttemptRecord, void: Sequence[AttemptRecord] = ()) -> dict[str, Any]:
    """The JSON-ready ssj-draw-v2 bundle published with the results (SPEC §3).

    `final` is the sealed attempt; its `teams` in the bundle are the teams
    after every replacement, i.e. who actually inspected, and
    `replacements` says how they came about. `void` holds every earlier
    attempt, 1 .. final.number - 1 in order, each with why it was voided
    and who approved: a redraw can never be hidden (Art 9).
    """
    if final.teams is None or final.selection is None or final.nonce is None or final.entropy is None:
        raise DrawError("最后一次抽取尚未封存结果，不能生成核验包。")
    numbers = [v.number for v in void]
    if numbers != list(range(1, final.number)):
        raise DrawError("作废的抽取记录不完整：核验包必须按顺序包含第 1 次到上一次的全部抽取。")
    body = attempt_fields(final)
    voids = []
    for v in void:
        fields = attempt_fields(v)
        fields["void_reason"] = v.void_reason
        fields["approved_by"] = v.approved_by
        voids.append(fields)
    return {"format": FORMAT, "task": task, **body, "void_attempts": voids}


def skipped_by_tasks(bundle: dict[str, Any]) -> set[Any]:
    """Every task named in a `skipped[].by_task` of the bundle, void attempts included (release rule)."""
    out = set()
    for part in [bundle, *bundle.get("void_attempts", [])]:
        for s in part.get("strata") or []:
            for x in s.get("skipped") or []:
                out.add(x["by_task"])
    return out


def build_bundle_v1(
    *,
    task: object,
    attempt: int,
    nonce: bytes,
    entropy: str,
    result: DrawResult,
    inspectors: Sequence[str],
    team_size: int,
    cap: Optional[int],
    conflicts: Iterable[Sequence[str]],
    replacements: Sequence[Replacement] = (),
) -> dict[str, Any]:
    """A legacy ssj-draw-v1 bundle, for a draw sealed before v2 and published after the upgrade.

    `teams` are the teams as drawn; recusals follow in `replacements`, to be
    applied in order. Only conflicts that touch a selected target and a pooled
    inspector are published: the others cannot affect the result, and a
    conflict of interest is personal information.
    """
    nonce_hex = nonce.hex()
    seed = make_seed(nonce_hex, entropy, FORMAT_V1)
    if seed != result.seed:
        raise DrawError("抽取结果不是由这组服务器随机数和公开随机数得到的，不能生成核验包。")
    apply_replacements(result.teams, replacements)  # refuse an inconsistent record
    selected_ids = set(selected_targets(result.strata))
    pooled = set(inspectors)
    published_conflicts = sorted(
        {(t, i) for t, i in conflicts if t in selected_ids and i in pooled}
    )
    return {
        "format": FORMAT_V1,
        "task": task,
        "attempt": attempt,
        "nonce_sha256": nonce_commitment(nonce),
        "nonce": nonce_hex,
        "entropy": normalize_entropy(entropy),
        "seed": seed,
        "strata": [
            {
                "name": r.stratum.name,
                "ratio": r.stratum.ratio,
                "count": r.stratum.count,
                "pool": sorted(r.stratum.pool),
                "pool_sha256": pool_sha256(r.stratum.pool),
                "sample_size": r.sample_size,
                "selected": [{"id": s.id, "ticket": s.ticket} for s in r.selected],
            }
            for r in result.strata
        ],
        "inspectors": {"pool": sorted(inspectors), "pool_sha256": pool_sha256(inspectors)},
        "team_size": team_size,
        "cap_per_inspector": cap,
        "conflicts": [[t, i] for t, i in published_conflicts],
        "teams": [{"target": t.target, "inspectors": list(t.inspectors)} for t in result.teams],
        "replacements": [
            {"target": r.target, "out": r.out, "in": r.in_, "reason": r.reason} for r in replacements
        ],
    }
