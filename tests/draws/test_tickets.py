"""Tickets, seeds, pool hashes and sample sizes of ssj-draw-v1 (SPEC §3)."""
from __future__ import annotations

import hashlib
import random

import pytest

from ssj.draws import algorithm as alg
from ssj.draws.algorithm import (
    EntropyError,
    PoolError,
    SampleSizeError,
    Stratum,
    canonical_pool_text,
    draw_targets,
    make_seed,
    nonce_commitment,
    pool_sha256,
    sample_size,
    sha256_hex,
    ticket,
)

from . import naive

SEED = make_seed("0f" * 32, "3516 2244 6153 1162 5543")


# --- Published vectors -----------------------------------------------------------


def test_rivest_published_ticket_vector():
    assert (
        ticket("AB-130", "01382438112797316654")
        == "0.26299714122838008416507544297546663599715395525154425586041245287750224561854"
    )


def test_rivest_published_abc_vector():
    x = int(sha256_hex("abc"), 16)
    assert (
        "0." + str(x)[::-1]
        == "0.56998071861792858926477341561059638840106636224182943832566300809078486324348"
    )
    # The same digits come out of the ticket's own int-to-string step.
    assert alg._ticket_of_int(x) == "0.56998071861792858926477341561059638840106636224182943832566300809078486324348"


def test_small_numbers_are_padded_to_64_digits_before_reversal():
    assert alg._ticket_of_int(7) == "0." + "7" + "0" * 63
    assert alg._ticket_of_int(10**64) == "0." + "0" * 64 + "1"


def test_sha256_hex_hashes_utf8():
    assert sha256_hex("中") == hashlib.sha256("中".encode("utf-8")).hexdigest()


# --- Why the 4-digit prefix filter is exact ---------------------------------------


def _random_x(rng: random.Random) -> int:
    # Mix full-size hashes with small numbers (padded tickets) and numbers
    # sharing their low digits, where only the later digits decide.
    kind = rng.randrange(4)
    if kind == 0:
        return rng.getrandbits(256)
    if kind == 1:
        return rng.randrange(10**rng.randrange(1, 70))
    if kind == 2:
        return rng.getrandbits(256) // 10**4 * 10**4 + rng.choice((0, 1, 10, 1000))
    return 10**64 * rng.randrange(1, 10**12) + rng.randrange(10**6)


def test_prefix_is_the_tickets_first_digits_and_orders_like_the_ticket():
    rng = random.Random(7)
    xs = [_random_x(rng) for _ in range(4000)]
    for x in xs:
        t = alg._ticket_of_int(x)
        assert alg._REVERSED_PREFIX[x % alg._PREFIX_MOD] == int(t[2 : 2 + alg._PREFIX_DIGITS])
    for _ in range(20000):
        a, b = rng.choice(xs), rng.choice(xs)
        pa = alg._REVERSED_PREFIX[a % alg._PREFIX_MOD]
        pb = alg._REVERSED_PREFIX[b % alg._PREFIX_MOD]
        if pa < pb:
            assert alg._ticket_of_int(a) < alg._ticket_of_int(b)


def test_a_prefix_below_a_bound_with_z_leading_zeros_means_z_low_zero_bits():
    # The byte test in _k_smallest: prefix <= bound, and bound written with 4
    # digits starts with z zeros, so x % 10**z == 0 and x's last z bits are 0.
    rng = random.Random(9)
    for _ in range(20000):
        x = _random_x(rng) * rng.choice((1, 10, 100, 1000, 10**4))
        prefix = alg._REVERSED_PREFIX[x % alg._PREFIX_MOD]
        for bound in (prefix, prefix + rng.randrange(50)):
            bound = min(bound, alg._PREFIX_MOD - 1)
            zeros = alg._PREFIX_DIGITS - len(str(bound)) if bound else alg._PREFIX_DIGITS
            assert x & ((1 << zeros) - 1) == 0


def test_integer_order_is_not_ticket_order():
    # The tempting shortcut: 9 < 10 but ticket(9) = "0.9…" > ticket(10) = "0.01…".
    assert alg._ticket_of_int(9) > alg._ticket_of_int(10)


def test_k_smallest_matches_a_full_sort_even_when_prefixes_tie(monkeypatch):
    # With one-digit prefixes ties at the bound are the rule, not the exception.
    monkeypatch.setattr(alg, "_PREFIX_DIGITS", 1)
    monkeypatch.setattr(alg, "_PREFIX_MOD", 10)
    monkeypatch.setattr(alg, "_REVERSED_PREFIX", tuple(range(10)))
    rng = random.Random(3)
    pool = [f"ID{rng.getrandbits(40):x}" for _ in range(400)]
    pool = list(dict.fromkeys(pool))
    for k in (1, 2, 3, 17, 150, len(pool)):
        got = alg._k_smallest(alg._seeded_hash("s"), (i.encode() for i in pool), k)
        want = sorted((naive.ticket(i, "s"), i) for i in pool)[:k]
        assert got == want


# --- Consistency -----------------------------------------------------------------


def test_adding_ids_to_a_pool_keeps_the_others_tickets_and_order():
    rng = random.Random(11)
    small = [f"91411623MA{rng.getrandbits(30):08X}" for _ in range(300)]
    extra = [f"92411623MA{rng.getrandbits(30):08X}" for _ in range(700)]
    before = draw_targets([Stratum("一般", small, count=300)], SEED)[0].selected
    after = draw_targets([Stratum("一般", small + extra, count=1000)], SEED)[0].selected
    tickets_after = {s.id: s.ticket for s in after}
    assert all(tickets_after[s.id] == s.ticket for s in before)
    # The small pool's ids come out in the same relative order.
    assert [s.id for s in after if s.id in set(small)] == [s.id for s in before]


def test_a_stratum_name_changes_every_ticket():
    pool = [f"T{i}" for i in range(50)]
    a = draw_targets([Stratum("一般", pool, count=50)], SEED)[0].selected
    b = draw_targets([Stratum("重点", pool, count=50)], SEED)[0].selected
    assert {s.id: s.ticket for s in a} != {s.id: s.ticket for s in b}


# --- Seed and nonce ----------------------------------------------------------------


def test_seed_removes_spaces_including_full_width_ones():
    nonce = "ab" * 32
    assert make_seed(nonce, "1234 5678\u30009012 3456 7890") == f"ssj-draw-v2|{nonce}|12345678901234567890"


@pytest.mark.parametrize(
    "entropy, fragment",
    [
        ("1234567890123456789", "至少需要 20 位"),
        ("1234567890123456789x", "“x”"),
        ("１２３４５６７８９０１２３４５６７８９０", "半角数字"),
        ("   ", "请输入"),
    ],
)
def test_bad_entropy_says_what_to_fix(entropy, fragment):
    with pytest.raises(EntropyError) as info:
        make_seed("ab" * 32, entropy)
    assert fragment in str(info.value)


def test_nonce_must_be_lowercase_hex():
    with pytest.raises(EntropyError):
        make_seed("AB" * 32, "1" * 20)


def test_nonce_commitment_hashes_the_bytes_not_the_hex():
    nonce = bytes(range(32))
    assert nonce_commitment(nonce) == hashlib.sha256(nonce).hexdigest()
    assert nonce_commitment(nonce) != sha256_hex(nonce.hex())


# --- Canonical pool text -------------------------------------------------------------


def test_canonical_pool_text_is_code_point_order_with_a_newline_after_each():
    assert canonical_pool_text(["b", "中", "B", "a"]) == "B\na\nb\n中\n"
    assert canonical_pool_text([]) == ""


def test_pool_hash_does_not_depend_on_the_given_order():
    ids = ["91411623MA0000001X", "91411623MA00000023", "12411623000000000A"]
    expected = hashlib.sha256("".join(i + "\n" for i in sorted(ids)).encode()).hexdigest()
    assert pool_sha256(ids) == expected == pool_sha256(list(reversed(ids)))


@pytest.mark.parametrize(
    "ids, fragment",
    [(["A", "B", "A"], "1 个编号重复"), (["A", "B\nC"], "换行"), (["A", ""], "空的编号"), (["A", 5], "不是文字")],
)
def test_bad_pools_are_refused(ids, fragment):
    with pytest.raises(PoolError) as info:
        pool_sha256(ids)
    assert fragment in str(info.value)


def test_a_target_may_not_sit_in_two_strata():
    with pytest.raises(PoolError):
        draw_targets([Stratum("一般", ["A", "B"], count=1), Stratum("重点", ["B", "C"], count=1)], SEED)


# --- Sample size ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, ratio, count, k",
    [
        (150, "1", None, 2),
        (100, "1", None, 1),
        (1000, "0.5", None, 5),
        (3, "33.3", None, 1),
        (3, "33.4", None, 2),
        (101, "1", None, 2),
        (7, None, 10, 7),
        (7, None, 3, 3),
        (42, "100", None, 42),
        (0, "1", None, 0),
        (0, None, 5, 0),
        (1_000_000, "1", None, 10_000),
        (1_000_001, "1", None, 10_001),
        (10, "0.1", None, 1),
    ],
)
def test_sample_size(n, ratio, count, k):
    assert sample_size(n, ratio, count) == k


@pytest.mark.parametrize(
    "ratio, count, fragment",
    [
        (None, None, "须且只能"),
        ("1", 3, "须且只能"),
        ("1%", None, "不带 % 号"),
        ("1e2", None, "不是有效的百分数"),
        ("-1", None, "不是有效的百分数"),
        ("0", None, "大于 0"),
        ("100.5", None, "不能超过 100%"),
        (1.0, None, "不是有效的百分数"),
        (None, 0, "正整数"),
        (None, True, "正整数"),
    ],
)
def test_bad_sample_rules_say_what_to_fix(ratio, count, fragment):
    with pytest.raises(SampleSizeError) as info:
        sample_size(100, ratio, count)
    assert fragment in str(info.value)
