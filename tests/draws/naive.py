"""A naive restatement of ssj-draw-v2 straight from SPEC §3, as the tests' reference.

Written without looking at the optimised code: every ticket computed in
full, every ranking a full sort. Only for tests.
"""
from __future__ import annotations

import hashlib


class ShortTeam(Exception):
    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


def sha256_hex(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def ticket(id: str, seed: str) -> str:
    x = int(sha256_hex(sha256_hex(seed) + id), 16)
    digits = str(x)
    while len(digits) < 64:
        digits = "0" + digits
    return "0." + "".join(reversed(digits))


def select(pool: list[str], k: int, seed: str, stratum: str) -> list[tuple[str, str]]:
    """(id, ticket) of the k smallest tickets, ascending."""
    s = seed + "|target|" + stratum
    ranked = sorted(pool, key=lambda i: (ticket(i, s), i))
    return [(i, ticket(i, s)) for i in ranked[:k]]


def select_with_skips(
    pool: list[str], k: int, seed: str, stratum: str, excluded: dict[str, int]
) -> tuple[list[tuple[str, str]], list[tuple[str, str, int]]]:
    """SPEC §3 "Targets": walk ascending tickets, skip members of E, take the first k others.

    Returns (selected (id, ticket), skipped (id, ticket, by_task)): the members
    of E passed before the last selected one, or all of E when the pool runs out.
    """
    s = seed + "|target|" + stratum
    ranked = sorted(pool, key=lambda i: (ticket(i, s), i))
    selected, passed = [], []
    for i in ranked:
        if i in excluded:
            passed.append((i, ticket(i, s), excluded[i]))
        else:
            selected.append((i, ticket(i, s)))
    if len(selected) < k:
        return selected, passed
    selected = selected[:k]
    last = ticket(selected[-1][0], s) if selected else "0."
    return selected, [p for p in passed if (p[1], p[0]) < (last, selected[-1][0])] if selected else []


def ranking(target: str, inspectors: list[str], seed: str) -> list[str]:
    s = seed + "|inspector|" + target
    return sorted(inspectors, key=lambda i: (ticket(i, s), i))


def teams(targets, inspectors, seed, team_size, cap, conflicts) -> list[tuple[str, tuple[str, ...]]]:
    conflicts = {tuple(p) for p in conflicts}
    load = {i: 0 for i in inspectors}
    out = []
    for position, target in enumerate(targets, 1):
        team = []
        for i in ranking(target, inspectors, seed):
            if len(team) == team_size:
                break
            if (target, i) in conflicts:
                continue
            if cap is not None and load[i] >= cap:
                continue
            team.append(i)
        if len(team) < team_size:
            raise ShortTeam(position)
        for i in team:
            load[i] += 1
        out.append((target, tuple(team)))
    return out
