"""Benchmark of the ssj-draw-v2 draw (SPEC §3; Art 5, 6, 7) against its SHA-256 floor.

Run:  .venv/bin/python -m bench.draw [--candidates N] [--ratio PCT] [--inspectors M]
                                     [--team-size T] [--cap C] [--conflicts P] [--excluded E] [--repeat R]

The draw must hash every candidate once for its ticket, and every
(selected target, eligible inspector) pair once for the team ranking. The
floor is the time of exactly those SHA-256 computations as bare hashlib
calls over prepared messages, measured on this machine in the same run;
the goal is a draw within 3x of it. Art 16 skips are in play: E (other
tasks' recent targets, --excluded of the pool, each with a by_task) is
skipped by the walk, which therefore ranks k + |E| candidates; E costs no
extra hash, so the floor is unchanged. Setup (synthetic ids, messages) is not
timed. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import random
import time

from ssj.creditcode import ALPHABET, check_character
from ssj.draws.algorithm import (
    Stratum,
    inspector_seed,
    make_seed,
    pool_sha256,
    run_draw,
    selected_targets,
    sha256_hex,
    target_seed,
)

GOAL = 3.0
STRATUM = "一般监管对象"


def synthetic_credit_codes(n: int, rng: random.Random) -> list[str]:
    """Distinct 18-character codes with a valid GB 32100-2015 check character."""
    codes = []
    for i in range(n):
        org = ""
        v = i
        for _ in range(8):
            v, d = divmod(v, 31)
            org = ALPHABET[d] + org
        body = "91" + "4116" + rng.choice(("23", "24", "25")) + org + ALPHABET[rng.randrange(31)]
        codes.append(body + check_character(body))
    return codes


def examined_per_target(targets, teams, inspectors, cap, conflicts):
    """How many inspectors each target's ranking must hash: not conflicted, not at the cap."""
    blocked: dict[str, set[str]] = {}
    for t, i in conflicts:
        blocked.setdefault(t, set()).add(i)
    load = dict.fromkeys(inspectors, 0)
    out = []
    for target, team in zip(targets, teams):
        b = blocked.get(target, set())
        out.append(sum(1 for i in inspectors if i not in b and (cap is None or load[i] < cap)))
        for m in team.inspectors:
            load[m] += 1
    return out


def floor_seconds(pool, seed, targets, examined_lists) -> float:
    """Time bare sha256(message).digest() for each message the draw must hash."""
    sha256 = hashlib.sha256
    prefix = sha256_hex(target_seed(seed, STRATUM)).encode()
    messages = [prefix + c.encode() for c in pool]
    gc.collect()
    start = time.perf_counter()
    for m in messages:
        sha256(m).digest()
    total = time.perf_counter() - start
    del messages
    for target, eligible in zip(targets, examined_lists):
        prefix = sha256_hex(inspector_seed(seed, target)).encode()
        messages = [prefix + i.encode() for i in eligible]
        start = time.perf_counter()
        for m in messages:
            sha256(m).digest()
        total += time.perf_counter() - start
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=1_000_000)
    ap.add_argument("--ratio", default="1")
    ap.add_argument("--inspectors", type=int, default=500)
    ap.add_argument("--team-size", type=int, default=2)
    ap.add_argument("--cap", type=int, default=None, help="targets per inspector (default: no cap)")
    ap.add_argument("--conflicts", type=int, default=2_000, help="random conflict pairs")
    ap.add_argument("--excluded", default="2", help="percent of the pool in Art 16's E (skipped)")
    ap.add_argument("--repeat", type=int, default=3, help="best of R runs, for draw and floor alike")
    args = ap.parse_args()

    rng = random.Random(20260101)
    t0 = time.perf_counter()
    pool = synthetic_credit_codes(args.candidates, rng)
    rng.shuffle(pool)
    inspectors = [f"RS{n:05d}" for n in rng.sample(range(100_000), args.inspectors)]
    conflicts = [(rng.choice(pool), rng.choice(inspectors)) for _ in range(args.conflicts)]
    nonce_hex = bytes(rng.randrange(256) for _ in range(32)).hex()
    seed = make_seed(nonce_hex, "".join(str(rng.randint(1, 6)) for _ in range(20)))
    strata = [Stratum(STRATUM, pool, ratio=args.ratio)]
    n_excluded = int(len(pool) * float(args.excluded) / 100)
    excluded = {code: 1000 + n % 40 for n, code in enumerate(rng.sample(pool, n_excluded))}
    setup = time.perf_counter() - t0

    start = time.perf_counter()
    pool_hash = pool_sha256(pool)
    freeze = time.perf_counter() - start

    # Draw and floor runs alternate so that both see the same machine load
    # (other people's tests may be running); the best of each is compared.
    draw_times: list[float] = []
    floor_times: list[float] = []
    examined_lists = None
    targets: list[str] = []
    team_hashes = 0
    for _ in range(args.repeat):
        gc.collect()
        start = time.perf_counter()
        result = run_draw(strata, inspectors, seed, args.team_size, args.cap, conflicts, excluded)
        draw_times.append(time.perf_counter() - start)
        if examined_lists is None:
            targets = selected_targets(result.strata)
            counts = examined_per_target(targets, result.teams, inspectors, args.cap, conflicts)
            # Which inspectors the floor hashes does not change its cost, only
            # how many, so each target gets the pool's first `count` ids.
            examined_lists = [inspectors[:c] for c in counts]
            team_hashes = sum(counts)
        floor_times.append(floor_seconds(pool, seed, targets, examined_lists))
    draw = min(draw_times)
    floor = min(floor_times)
    paired = sorted(d / f for d, f in zip(draw_times, floor_times))

    ratio = draw / floor
    print(
        f"ssj-draw-v2: {len(pool):,} candidates at {args.ratio}% -> {len(targets):,} targets, "
        f"{sum(len(r.skipped) for r in result.strata):,} skipped of |E| = {len(excluded):,}; "
        f"{len(inspectors)} inspectors, teams of {args.team_size}, "
        f"cap {args.cap if args.cap is not None else 'none'}, {len(conflicts):,} conflict pairs"
    )
    print(f"  setup (synthetic data, not timed)  {setup:8.2f} s")
    print(f"  freeze: pool_sha256 of candidates  {freeze:8.2f} s   ({pool_hash[:16]}…)")
    print(f"  draw: targets + teams              {draw:8.2f} s   runs: {', '.join(f'{t:.2f}' for t in draw_times)}")
    print(
        f"  floor: bare SHA-256                {floor:8.2f} s   runs: {', '.join(f'{t:.2f}' for t in floor_times)}"
        f"   ({len(pool):,} ticket hashes + {team_hashes:,} team hashes)"
    )
    print(f"  ratio best draw / best floor       {ratio:8.2f} x   goal <= {GOAL:.0f}x: {'met' if ratio <= GOAL else 'NOT MET'}")
    print(f"  paired ratios (run by run)         {', '.join(f'{p:.2f}' for p in paired)}")


if __name__ == "__main__":
    main()
