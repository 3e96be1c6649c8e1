"""The access log's hash chain, as pure functions (SPEC §5; Art 9 全程留痕, Art 14 and 18 accountability).

entry_hash = SHA-256(prev_hash_bytes || canonical_json(body)), where the
body is a JSON object with sorted keys, no floats, UTF-8, no spaces. The
first entry's prev_hash is 64 zeros. An entry's body includes its own
sequence number, so moving an entry changes its hash.

`verify_entries` walks stored entries once, in order, holding only the
current and the next entry, and names the first problem the way a person
who changed rows would describe what they did: altered, deleted, inserted,
reordered, truncated, or rewritten (hashes recomputed). Nothing here knows
about Flask or the database; the caller reads the rows and the keys.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import operator

import orjson
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence, TypeVar

from .. import suites

GENESIS = "0" * 64
CHECKPOINT_FORMAT = "ssj-audit-checkpoint-v1"


def _reject_floats(value: Any) -> None:
    # Floats have several valid JSON spellings; one body must have exactly one.
    if isinstance(value, float):
        raise TypeError("floats are not allowed in log entries")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError("log entry keys must be strings")
            _reject_floats(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _reject_floats(v)


def canonical_json(body: dict[str, Any]) -> str:
    """The one text a body hashes as: sorted keys, no spaces, UTF-8 not escaped."""
    _reject_floats(body)
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    # A lone surrogate would make the text impossible to hash as UTF-8 later.
    text.encode("utf-8")
    return text


def entry_hash(prev_hash: str, canonical: str, suite: str = "intl") -> str:
    """SHA-256, or SM3 for an instance initialised with the 商用密码 suite (ssj/suites.py)."""
    if suite == "intl":
        return hashlib.sha256(bytes.fromhex(prev_hash) + canonical.encode("utf-8")).hexdigest()
    return suites.digest_hex(suite, bytes.fromhex(prev_hash) + canonical.encode("utf-8"))


def entry_mac(mac_key: bytes, hash_hex: str, suite: str = "intl") -> str:
    if suite == "intl":
        # hmac.digest is the one-shot C path: a verify walk computes one per entry.
        return hmac.digest(mac_key, hash_hex.encode("ascii"), "sha256").hex()
    return suites.mac_hex(suite, mac_key, hash_hex.encode("ascii"))


def checkpoint_statement(seq: int, head_hash: str, signed_at: str) -> str:
    """The exact text an Ed25519 checkpoint signature covers."""
    return canonical_json({"format": CHECKPOINT_FORMAT, "seq": seq, "head_hash": head_hash, "signed_at": signed_at})


def parse_checkpoint_statement(statement: str) -> tuple[int, str, str]:
    """(seq, head_hash, signed_at) of a statement; ValueError if it is not one we write."""
    try:
        data = json.loads(statement)
    except ValueError as exc:
        raise ValueError("statement is not JSON") from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ValueError("statement is not an ssj checkpoint")
    seq, head, at = data.get("seq"), data.get("head_hash"), data.get("signed_at")
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(head, str) or not isinstance(at, str):
        raise ValueError("statement lacks seq, head_hash or signed_at")
    # Only the canonical spelling is accepted, so one checkpoint has one statement.
    if checkpoint_statement(seq, head, at) != statement:
        raise ValueError("statement is not in canonical form")
    return seq, head, at


@dataclass(frozen=True)
class StoredEntry:
    """An entry as read back from storage: nothing here is trusted.

    `copies` holds the searchable columns stored beside the body (already
    in the body's spelling, e.g. `at` as ISO text); they must agree with it.
    """

    row_id: int
    seq: int
    body: str
    prev_hash: str
    entry_hash: str
    entry_mac: Optional[str] = None
    copies: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Anchor:
    """A hash the entry at `seq` must have, recorded somewhere the chain cannot rewrite.

    The head row, each signed checkpoint, and each checkpoint in a file the
    discipline office exported are anchors; `source`/`source_zh` name it.
    """

    seq: int
    head_hash: str
    source: str
    source_zh: str


KINDS = ("altered", "deleted", "inserted", "reordered", "truncated", "rewritten", "checkpoint", "head")


@dataclass(frozen=True)
class Problem:
    """The first thing wrong with the log, in English (CLI) and Chinese (web console)."""

    seq: int
    kind: str
    detail: str
    detail_zh: str

    KIND_ZH = {
        "altered": "被篡改",
        "deleted": "被删除",
        "inserted": "是被插入的",
        "reordered": "顺序被调换",
        "truncated": "起的记录被截断（删除）",
        "rewritten": "被改写（哈希已重新计算）",
    }

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown problem kind {self.kind!r}")

    def __str__(self) -> str:
        if self.kind == "checkpoint":
            return f"checkpoint at entry {self.seq} invalid: {self.detail}"
        if self.kind == "head":
            return f"head row (access_log_head) wrong: {self.detail}"
        return f"entry {self.seq} {self.kind}: {self.detail}"

    @property
    def zh(self) -> str:
        if self.kind == "checkpoint":
            return f"第 {self.seq} 条处的签名检查点无效：{self.detail_zh}"
        if self.kind == "head":
            return f"链头记录（access_log_head）有误：{self.detail_zh}"
        if self.kind == "truncated":
            return f"访问日志从第 {self.seq} 条{self.KIND_ZH['truncated']}：{self.detail_zh}"
        return f"第 {self.seq} 条记录{self.KIND_ZH[self.kind]}：{self.detail_zh}"


@dataclass(frozen=True)
class WalkResult:
    problem: Optional[Problem]
    checked: int  # entries accepted before the problem (all of them when there is none)
    last_seq: int
    head_hash: str  # hash of the last accepted entry (GENESIS for an empty log)
    anchors_matched: int


def _span(first: int, last: int) -> str:
    return f"{first}" if first == last else f"{first}–{last}"


_T = TypeVar("_T")


def _pairs(entries: Iterable[_T]) -> Iterator[tuple[_T, Optional[_T]]]:
    it = iter(entries)
    cur = next(it, None)
    while cur is not None:
        nxt = next(it, None)
        yield cur, nxt
        cur = nxt


def _parse(entry: StoredEntry) -> Optional[dict[str, Any]]:
    # orjson parses the canonical bodies several times faster than json (a
    # verify walk parses every entry); what it refuses and json accepts
    # (an integer past 64 bits) is parsed by json, so the verdict is the same.
    try:
        data = orjson.loads(entry.body)
    except orjson.JSONDecodeError:
        try:
            data = json.loads(entry.body)
        except ValueError:
            return None
    return data if isinstance(data, dict) else None


def _body_seq(body: Optional[dict[str, Any]]) -> Optional[int]:
    value = body.get("seq") if body else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Walk:
    """State of one pass over the chain: what was accepted so far."""

    def __init__(self, mac_key: Optional[bytes], suite: str = "intl"):
        self.mac_key = mac_key
        self.suite = suite
        self.prev_hash = GENESIS
        self.expected = 1
        self.prev_row_id: Optional[int] = None
        self.last_anchor_ok = 0
        self.by_seq: dict[int, list[Anchor]] = {}
        self.matched = 0  # anchors that agreed
        self.checked = 0  # entries accepted

    def consistent(self, e: StoredEntry) -> bool:
        try:
            return entry_hash(e.prev_hash, e.body, self.suite) == e.entry_hash
        except ValueError:  # prev_hash is not hex
            return False

    def mac_ok(self, e: StoredEntry) -> bool:
        if self.mac_key is None:
            return True
        return e.entry_mac is not None and hmac.compare_digest(entry_mac(self.mac_key, e.entry_hash, self.suite), e.entry_mac)

    def fits(self, e: StoredEntry) -> bool:
        return (
            self.consistent(e)
            and e.prev_hash == self.prev_hash
            and self.mac_ok(e)
            and _body_seq(_parse(e)) == e.seq
        )

    def duplicate(self, a: StoredEntry, b: StoredEntry) -> Problem:
        if self.fits(a) and not self.fits(b):
            extra = b
        elif self.fits(b) and not self.fits(a):
            extra = a
        else:
            extra = b  # two equally (un)fitting rows: the later written one is the extra
        copy = a.entry_hash == b.entry_hash
        return Problem(
            a.seq,
            "inserted",
            f"two entries carry sequence number {a.seq} (rows {a.row_id} and {b.row_id}); "
            f"row {extra.row_id} is the extra one" + (", an exact copy of the other" if copy else ""),
            f"序号 {a.seq} 出现了两条记录（行 {a.row_id} 与行 {b.row_id}），行 {extra.row_id} 是多出来的"
            + ("，是另一条的完整复制" if copy else ""),
        )

    def gap(self, e: StoredEntry, body: Optional[dict[str, Any]]) -> Problem:
        k = self.expected
        if self.consistent(e) and e.prev_hash == self.prev_hash and _body_seq(body) == k:
            return Problem(
                k,
                "altered",
                f"its sequence-number column was changed to {e.seq}; the hashed entry says {k}",
                f"其序号列被改为 {e.seq}，而哈希覆盖的内容记载为 {k}",
            )
        missing = _span(k, e.seq - 1)
        after, after_zh = (f"entry {e.seq} follows entry {k - 1}", f"第 {e.seq} 条直接跟在第 {k - 1} 条之后") if k > 1 \
            else (f"the log starts at entry {e.seq}", f"日志从第 {e.seq} 条开始")
        return Problem(k, "deleted", f"entries {missing} are missing: {after}", f"缺少第 {missing} 条，{after_zh}")

    def check(self, e: StoredEntry, nxt: Optional[StoredEntry]) -> Optional[Problem]:
        """The problem with `e` at the current position, or None if it belongs there."""
        if nxt is not None and nxt.seq == e.seq:
            return self.duplicate(e, nxt)
        if e.seq < self.expected:  # only after an accepted entry with the same number
            return Problem(e.seq, "inserted", f"row {e.row_id} repeats sequence number {e.seq}",
                           f"行 {e.row_id} 重复使用了序号 {e.seq}")
        body = _parse(e)
        if e.seq > self.expected:
            return self.gap(e, body)
        if not self.consistent(e):
            return Problem(
                e.seq,
                "altered",
                "its stored content no longer matches its hash (changed after it was written)",
                "其内容与写入时计算的哈希不符（写入后被改动）",
            )
        if not self.mac_ok(e):
            out_of_order = (self.prev_row_id is not None and e.row_id < self.prev_row_id) or (
                nxt is not None and nxt.row_id < e.row_id
            )
            if out_of_order or nxt is None:
                return Problem(
                    e.seq,
                    "inserted",
                    "the application did not write this entry: its MAC does not match"
                    + (" and it was stored after the entries around it" if out_of_order else
                       " (an entry added at the end, or the newest entry replaced)"),
                    "该记录不是由本系统写入的：校验码（MAC）不符"
                    + ("，且其存储顺序晚于前后记录" if out_of_order else "（在末尾追加，或替换了最新一条）"),
                )
            return Problem(
                e.seq,
                "altered",
                "its content was changed and the hashes recomputed: the MAC, which only the application can compute, "
                "does not match",
                "其内容被改动并重新计算了哈希：只有本系统能计算的校验码（MAC）不符",
            )
        seq_in_body = _body_seq(body)
        if seq_in_body is None or body is None:
            return Problem(e.seq, "altered", "its hashed content is not a log entry",
                           "其哈希覆盖的内容不是一条访问日志记录")
        if seq_in_body > e.seq:
            shift = seq_in_body - e.seq
            nxt_shift = None if nxt is None else (_body_seq(_parse(nxt)) or 0) - nxt.seq
            renumbered = (
                e.prev_hash != self.prev_hash
                and (nxt is None or nxt_shift == shift)
                and (self.prev_row_id is None or e.row_id > self.prev_row_id)
            )
            if renumbered:
                gone = _span(e.seq, seq_in_body - 1)
                return Problem(
                    e.seq,
                    "deleted",
                    f"the entries written as {gone} are gone and the later ones were renumbered to hide the gap "
                    f"(the entry now numbered {e.seq} was written as {seq_in_body})",
                    f"原第 {gone} 条已不存在，其后的记录被重新编号以掩盖缺口（现第 {e.seq} 条写入时为第 {seq_in_body} 条）",
                )
            return Problem(
                e.seq,
                "reordered",
                f"the entry at position {e.seq} was written as entry {seq_in_body} and moved here",
                f"位于第 {e.seq} 位的记录写入时为第 {seq_in_body} 条，被移到了这里",
            )
        if seq_in_body < e.seq:
            return Problem(
                e.seq,
                "inserted",
                f"the entry at position {e.seq} is a copy of entry {seq_in_body}, which appears earlier",
                f"位于第 {e.seq} 位的记录是第 {seq_in_body} 条的复制，第 {seq_in_body} 条在前面已经出现",
            )
        if e.prev_hash != self.prev_hash:
            if e.seq == 1:
                return Problem(1, "altered", "the first entry does not start the chain",
                               "第一条记录的前序哈希不是链的起点")
            before = e.seq - 1
            return Problem(
                before,
                "altered",
                f"entry {e.seq} recorded another hash for entry {before} when it was written: "
                f"entry {before} was changed afterwards, with its hash and MAC recomputed",
                f"第 {e.seq} 条写入时记下的第 {before} 条哈希与现在不同：第 {before} 条后来被改动，哈希和校验码被重新计算",
            )
        for name, value in e.copies.items():
            if body.get(name) != value:
                return Problem(
                    e.seq,
                    "altered",
                    f"its searchable column {name!r} says {value!r} but the hashed entry says {body.get(name)!r}",
                    f"其检索字段 {name} 为 {value!r}，而哈希覆盖的内容为 {body.get(name)!r}",
                )
        return None

    def accept(self, e: StoredEntry) -> None:
        self.prev_hash = e.entry_hash
        self.expected = e.seq + 1
        self.prev_row_id = e.row_id

    def start(self, anchors: Iterable[Anchor]) -> Optional[WalkResult]:
        """Take the anchors; a result at once if one says the log was empty and it was not."""
        for a in anchors:
            self.by_seq.setdefault(a.seq, []).append(a)
        for a in self.by_seq.pop(0, []):
            if a.head_hash != GENESIS:
                return WalkResult(
                    Problem(1, "rewritten",
                            f"{a.source} says the log was empty but records a hash other than the empty chain's",
                            f"{a.source_zh}记载日志为空，但其哈希不是空链的哈希"),
                    0, 0, GENESIS, self.matched)
            self.matched += 1
        return None

    def step(self, e: StoredEntry, nxt: Optional[StoredEntry]) -> Optional[Problem]:
        """Check `e` (followed by `nxt`) and its anchors; accept it, or return the problem."""
        problem = self.check(e, nxt)
        if problem is None:
            for a in self.by_seq.pop(e.seq, []):
                if a.head_hash != e.entry_hash:
                    rewritten = _span(self.last_anchor_ok + 1, e.seq)
                    return Problem(
                        e.seq,
                        "rewritten",
                        f"{a.source} records hash {a.head_hash[:16]}… for entry {e.seq}, but the log now has "
                        f"{e.entry_hash[:16]}…: entries {rewritten} were rewritten with recomputed hashes",
                        f"{a.source_zh}记载第 {e.seq} 条的哈希为 {a.head_hash[:16]}…，而日志中现为 {e.entry_hash[:16]}…："
                        f"第 {rewritten} 条被改写并重新计算了哈希",
                    )
                self.matched += 1
                self.last_anchor_ok = e.seq
        if problem is not None:
            return problem
        self.accept(e)
        self.checked += 1
        return None

    def result(self, problem: Problem) -> WalkResult:
        return WalkResult(problem, self.checked, self.expected - 1, self.prev_hash, self.matched)

    def finish(self) -> WalkResult:
        """After the last entry: every anchor left over refers to an entry past the end of the log."""
        last = self.expected - 1
        if self.by_seq:
            furthest = max(self.by_seq)
            a = self.by_seq[furthest][0]
            gone = _span(last + 1, furthest)
            return self.result(Problem(
                last + 1,
                "truncated",
                f"the log ends at entry {last}, but {a.source} covers entry {furthest}: entries {gone} were deleted",
                f"日志止于第 {last} 条，但{a.source_zh}涵盖到第 {furthest} 条：第 {gone} 条已被删除",
            ))
        return WalkResult(None, self.checked, last, self.prev_hash, self.matched)


def verify_entries(
    entries: Iterable[StoredEntry],
    mac_key: Optional[bytes] = None,
    anchors: Iterable[Anchor] = (),
    suite: str = "intl",
) -> WalkResult:
    """Walk the entries in stored order (by seq, then row id) and return the first problem.

    - altered: an entry's content no longer hashes to its hash, or it was
      changed and rehashed (bad MAC, or the next entry remembers another hash);
    - deleted: sequence numbers are missing, or the rest were renumbered;
    - inserted: an entry the application did not write (bad MAC at the end or
      out of row order), a second entry with the same number, or a copy;
    - reordered: an entry sits at another position than it was written at;
    - rewritten: an anchor (head row, signed or exported checkpoint) records
      another hash for its entry, i.e. the chain up to it was recomputed;
    - truncated: an anchor refers to an entry past the end of the log.
    """
    walk = _Walk(mac_key, suite)
    early = walk.start(anchors)
    if early is not None:
        return early
    for e, nxt in _pairs(entries):
        problem = walk.step(e, nxt)
        if problem is not None:
            return walk.result(problem)
    return walk.finish()


# --- the fast walk over raw rows ------------------------------------------------------
#
# `verify_rows` gives exactly the verdict `verify_entries` gives, several times
# faster. For each row it asks one cheap question: would the plain walk accept
# this entry as it stands, with no anchor on it? If every part of the answer is
# yes it moves on as the plain walk would after accepting; on any doubt (a
# mismatch, an anchor, an exception) the row and its successor are turned into
# StoredEntry objects exactly as the plain reader makes them and handed to the
# plain step, which names the problem or accepts. So the first broken entry and
# its description cannot differ between the two (tests/audit/test_fast_walk.py).

# The columns of a raw row, in order; the copies follow `COPY_COLUMNS`.
ROW_COLUMNS = ("id", "seq", "body", "prev_hash", "entry_hash", "entry_mac")
COPY_COLUMNS = ("at", "user_id", "username", "action", "outcome", "task_id", "department")
_BODY_FIELDS = operator.itemgetter("seq", *COPY_COLUMNS)


def fast_hash(suite: str) -> Optional[Callable[[bytes], Any]]:
    """A hashlib constructor computing what entry_hash computes (its .hexdigest()), or None.

    SHA-256 is hashlib's; SM3 is OpenSSL's through hashlib when Python's
    OpenSSL has it (copies of one prototype: hashlib.new looks the name up
    each time). None when it has not: the walk then takes the plain step for
    every entry.
    """
    if suite == "intl":
        return hashlib.sha256
    try:
        prototype = hashlib.new("sm3")
    except ValueError:
        return None

    def sm3(data: bytes) -> Any:
        h = prototype.copy()
        h.update(data)
        return h

    return sm3


def keyed_mac(new_hash: Callable[[bytes], Any], key: bytes) -> Callable[[bytes], str]:
    """HMAC (RFC 2104) under `key` as a function of the message, with the key's two padded
    blocks hashed once: per entry only copies of the two states are hashed on."""
    block = new_hash(b"").block_size
    if len(key) > block:
        key = new_hash(key).digest()
    key = key.ljust(block, b"\0")
    inner, outer = new_hash(bytes(b ^ 0x36 for b in key)), new_hash(bytes(b ^ 0x5C for b in key))
    inner_copy, outer_copy = inner.copy, outer.copy

    def mac_hex(message: bytes) -> str:
        i = inner_copy()
        i.update(message)
        o = outer_copy()
        o.update(i.digest())
        return str(o.hexdigest())

    return mac_hex


@dataclass
class FastState:
    """Where a walk stands after its last accepted entry (the plain walk's fields, plus counts)."""

    expected: int = 1
    prev_hash: str = GENESIS
    prev_row_id: Optional[int] = None
    checked: int = 0
    matched: int = 0
    last_anchor_ok: int = 0


class FastCheck:
    """The cheap question of the fast walk: would the plain step accept this row as it stands?"""

    def __init__(self, mac_key: Optional[bytes], suite: str, spell_at: Callable[[Any], Any]):
        self.spell_at = spell_at
        self.new_hash = fast_hash(suite)
        self.mac_hex = None if self.new_hash is None or mac_key is None else keyed_mac(self.new_hash, mac_key)
        # No fast primitive, or one that disagrees with the plain one: every row takes the plain step.
        self.usable = self.new_hash is not None and (
            self.mac_hex is None or mac_key is None or self.mac_hex(GENESIS.encode("ascii")) == entry_mac(mac_key, GENESIS, suite)
        )

    def run(
        self,
        pairs: Iterator[tuple[Sequence[Any], Optional[Sequence[Any]]]],
        state: FastState,
        anchors: dict[int, list[Anchor]],
    ) -> Optional[tuple[Sequence[Any], Optional[Sequence[Any]]]]:
        """Accept rows into `state` while the answer is yes; the first pair it is not, or None at the end.

        An anchored row is accepted here only if every anchor on it agrees,
        which is what the plain step would do with them (popped, counted).
        """
        if not self.usable:
            return next(pairs, None)
        new_hash, mac_hex, spell_at = self.new_hash, self.mac_hex, self.spell_at
        fromhex, loads, fields = bytes.fromhex, orjson.loads, _BODY_FIELDS
        expected, prev_hash, prev_row_id, checked = state.expected, state.prev_hash, state.prev_row_id, state.checked
        stopped = None
        for row, nxt in pairs:
            try:
                row_id, seq, body, prev, digest, mac = row[:6]
                if (
                    seq == expected
                    and prev == prev_hash
                    and (nxt is None or nxt[1] != seq)
                    and new_hash(fromhex(prev) + body.encode("utf-8")).hexdigest() == digest  # type: ignore[misc]
                    and (mac_hex is None or mac_hex(digest.encode("ascii")) == mac)
                ):
                    parsed = loads(body)
                    if type(parsed) is dict:
                        found = fields(parsed)
                        if type(found[0]) is int and found[0] == seq and found[1:] == (spell_at(row[6]), *row[7:]):
                            if seq in anchors:
                                if any(a.head_hash != digest for a in anchors[seq]):
                                    stopped = (row, nxt)
                                    break
                                state.matched += len(anchors.pop(seq))
                                state.last_anchor_ok = seq
                            expected, prev_hash, prev_row_id = seq + 1, digest, row_id
                            checked += 1
                            continue
            except Exception:
                pass  # whatever went wrong, the plain step decides
            stopped = (row, nxt)
            break
        state.expected, state.prev_hash, state.prev_row_id, state.checked = expected, prev_hash, prev_row_id, checked
        return stopped


def verify_rows(
    rows: Iterable[Sequence[Any]],
    to_entry: Callable[[Sequence[Any]], StoredEntry],
    spell_at: Callable[[Any], Any],
    mac_key: Optional[bytes] = None,
    anchors: Iterable[Anchor] = (),
    suite: str = "intl",
    *,
    state: Optional[FastState] = None,
) -> WalkResult:
    """`verify_entries` over raw rows (ROW_COLUMNS then COPY_COLUMNS, as the driver returns them).

    `to_entry` makes the StoredEntry the plain reader would make of a row;
    `spell_at` spells the raw `at` value as the plain reader's copy does.
    `state` continues a walk whose earlier rows were accepted elsewhere
    (another process's slice); its anchors must be those still unmatched.
    """
    walk = _Walk(mac_key, suite)
    early = walk.start(anchors)
    if early is not None:
        return early
    state = state or FastState()
    check = FastCheck(mac_key, suite, spell_at)
    pairs = _pairs(rows)
    while True:
        stopped = check.run(pairs, state, walk.by_seq)
        walk.expected, walk.prev_hash, walk.prev_row_id = state.expected, state.prev_hash, state.prev_row_id
        walk.checked, walk.matched, walk.last_anchor_ok = state.checked, state.matched, state.last_anchor_ok
        if stopped is None:
            return walk.finish()
        row, nxt = stopped
        problem = walk.step(to_entry(row), None if nxt is None else to_entry(nxt))
        if problem is not None:
            return walk.result(problem)
        state.expected, state.prev_hash, state.prev_row_id = walk.expected, walk.prev_hash, walk.prev_row_id
        state.checked, state.matched, state.last_anchor_ok = walk.checked, walk.matched, walk.last_anchor_ok
