"""The optimised draw gives exactly what the naive definition gives, on random inputs."""
from __future__ import annotations

import random

import pytest

from ssj import verify as standalone
from ssj.draws.algorithm import (
    InsufficientInspectorsError,
    Stratum,
    draw_targets,
    make_seed,
    run_draw,
    sample_size,
    selected_targets,
    ticket,
)

from . import naive

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _random_id(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:  # credit-code shaped
        return "".join(rng.choice(ALPHABET) for _ in range(18))
    if kind == 1:  # short, to vary the message length
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4)))
    return "".join(rng.choice("人社局abc-_|") for _ in range(rng.randint(1, 30)))


def _random_pool(rng: random.Random, n: int) -> list[str]:
    return list(dict.fromkeys(_random_id(rng) for _ in range(n)))


@pytest.mark.parametrize("case", range(40))
def test_optimised_draw_equals_naive_definition(case):
    rng = random.Random(1000 + case)
    seed = make_seed(rng.randbytes(32).hex(), "".join(rng.choice("123456") for _ in range(rng.randint(20, 30))))
    ids = _random_pool(rng, rng.randint(0, 1500))
    rng.shuffle(ids)
    cuts = sorted(rng.sample(range(len(ids) + 1), 2)) if ids else [0, 0]
    pools = [ids[: cuts[0]], ids[cuts[0] : cuts[1]], ids[cuts[1] :]]
    strata = []
    for n, pool in enumerate(pools):
        if rng.random() < 0.5:
            rule = {"ratio": rng.choice(["1", "0.5", "2.5", "10", "33.3", "50", "100"])}
        else:
            rule = {"count": rng.randint(1, 40)}
        strata.append(Stratum(f"层{n}", pool, **rule))
    inspectors = _random_pool(rng, rng.randint(2, 60))
    team_size = rng.randint(2, 4)
    cap = rng.choice([None, 1, 2, 5, 20])
    targets_all = ids or ["none"]
    conflicts = [(rng.choice(targets_all), rng.choice(inspectors)) for _ in range(rng.randint(0, 300))]

    expected_selected = [
        naive.select(s.pool, sample_size(len(s.pool), s.ratio, s.count), seed, s.name) for s in strata
    ]
    order = [i for sel in expected_selected for i, _ in sel]
    try:
        expected_teams = naive.teams(order, inspectors, seed, team_size, cap, conflicts)
    except naive.ShortTeam as short:
        with pytest.raises(InsufficientInspectorsError) as info:
            run_draw(strata, inspectors, seed, team_size, cap, conflicts)
        assert info.value.position == short.position
        return
    result = run_draw(strata, inspectors, seed, team_size, cap, conflicts)
    assert [[(s.id, s.ticket) for s in r.selected] for r in result.strata] == expected_selected
    assert selected_targets(result.strata) == order
    assert [(t.target, t.inspectors) for t in result.teams] == expected_teams


@pytest.mark.parametrize("case", range(40))
def test_selection_with_art16_skips_equals_naive_definition(case):
    """E of random size (none, few, most, all of a pool, and ids outside every pool)."""
    rng = random.Random(7000 + case)
    seed = make_seed(rng.randbytes(32).hex(), "".join(rng.choice("123456") for _ in range(20)))
    ids = _random_pool(rng, rng.randint(0, 800))
    half = len(ids) // 2
    strata = [Stratum("一般", ids[:half], ratio=rng.choice(["1", "10", "50", "100"])), Stratum("重点", ids[half:], count=rng.randint(1, 30))]
    share = rng.choice([0.0, 0.01, 0.1, 0.5, 0.95, 1.0])
    excluded = {i: rng.randint(1, 9) for i in ids if rng.random() < share}
    excluded.update({f"外部{n}": 99 for n in range(rng.randint(0, 5))})
    results = draw_targets(strata, seed, excluded)
    for stratum, r in zip(strata, results):
        k = sample_size(len(stratum.pool), stratum.ratio, stratum.count)
        assert r.sample_size == k  # from the whole pool
        want_selected, want_skipped = naive.select_with_skips(list(stratum.pool), k, seed, stratum.name, excluded)
        assert [(x.id, x.ticket) for x in r.selected] == want_selected
        assert [(x.id, x.ticket, x.by_task) for x in r.skipped] == want_skipped


def test_the_three_ticket_implementations_agree():
    rng = random.Random(5)
    for _ in range(500):
        ident, seed = _random_id(rng), _random_id(rng) + str(rng.getrandbits(64))
        assert ticket(ident, seed) == naive.ticket(ident, seed) == standalone.ticket(ident, seed)
    assert standalone.ticket("AB-130", "01382438112797316654") == ticket("AB-130", "01382438112797316654")


def test_standalone_sample_size_agrees():
    for n in (0, 1, 3, 99, 100, 101, 150, 999, 1000, 12345):
        for ratio in ("0.1", "0.5", "1", "1.5", "3", "33.3", "33.34", "99.99", "100"):
            assert standalone.sample_size(n, ratio, None) == sample_size(n, ratio, None)
        for count in (1, 2, 50, 20000):
            assert standalone.sample_size(n, None, count) == sample_size(n, None, count)
