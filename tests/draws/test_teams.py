"""Inspection teams, conflicts, the per-inspector cap and recusal (SPEC §3; Art 5)."""
from __future__ import annotations

from collections import Counter

import pytest

from ssj.draws.algorithm import (
    DrawError,
    InsufficientInspectorsError,
    ReplacementError,
    Replacement,
    Stratum,
    Team,
    apply_replacements,
    assign_teams,
    draw_targets,
    make_seed,
    rank_inspectors,
    replace_inspector,
    run_draw,
)

from . import naive

SEED = make_seed("5a" * 32, "62514 33126 45316 22541")
TARGETS = [f"91411623MA{n:08d}" for n in range(40)]
INSPECTORS = [f"RS{n:04d}" for n in range(12)]


def _draw(count=4, inspectors=INSPECTORS, team_size=2, cap=None, conflicts=()):
    return run_draw([Stratum("一般", TARGETS, count=count)], inspectors, SEED, team_size, cap, conflicts)


def test_each_team_is_the_first_team_size_of_its_ranking():
    result = _draw(count=6, team_size=3)
    for team in result.teams:
        assert team.inspectors == tuple(rank_inspectors(team.target, INSPECTORS, SEED)[:3])
        assert len(set(team.inspectors)) == 3


def test_teams_follow_strata_order_then_ticket_order():
    strata = [Stratum("重点", TARGETS[:10], count=2), Stratum("一般", TARGETS[10:], count=3)]
    result = run_draw(strata, INSPECTORS, SEED, 2, None, [])
    expected = [s.id for r in result.strata for s in r.selected]
    assert [t.target for t in result.teams] == expected
    assert [s.ticket for s in result.strata[1].selected] == sorted(s.ticket for s in result.strata[1].selected)


def test_a_conflicted_inspector_is_skipped_and_the_next_in_ranking_steps_in():
    plain = _draw()
    target = plain.teams[0].target
    first = plain.teams[0].inspectors[0]
    ranking = rank_inspectors(target, INSPECTORS, SEED)
    result = _draw(conflicts=[(target, first)])
    assert first not in result.teams[0].inspectors
    assert result.teams[0].inspectors == tuple(i for i in ranking if i != first)[:2]
    # Other targets' teams are untouched by a conflict that is not theirs.
    assert result.teams[1:] == plain.teams[1:]


def test_removing_an_inspector_keeps_everyone_elses_relative_order():
    target = TARGETS[0]
    full = rank_inspectors(target, INSPECTORS, SEED)
    for gone in (full[0], full[5], full[-1]):
        rest = [i for i in INSPECTORS if i != gone]
        assert rank_inspectors(target, rest, SEED) == [i for i in full if i != gone]


def test_cap_limits_targets_per_inspector():
    result = _draw(count=6, cap=1)
    load = Counter(i for t in result.teams for i in t.inspectors)
    assert max(load.values()) == 1
    assert sum(load.values()) == 12


def test_cap_counts_only_targets_already_assigned_in_order():
    result = _draw(count=8, cap=2)
    expected = naive.teams([t.target for t in result.teams], INSPECTORS, SEED, 2, 2, [])
    assert [(t.target, t.inspectors) for t in result.teams] == expected


def test_too_few_inspectors_for_the_cap_stops_the_draw_naming_the_position():
    with pytest.raises(InsufficientInspectorsError) as info:
        _draw(count=7, cap=1)  # 7 targets x 2 > 12 inspectors x 1
    err = info.value
    assert err.position == 7 and err.found == 0
    message = str(err)
    assert "第 7 个抽中对象" in message and "“一般”层第 7 个" in message
    assert "已达每人 1 户的上限" in message and "不会封存" in message
    assert not any(t in message for t in TARGETS), "a target id must not reach an error message"


def test_conflicts_that_leave_too_few_inspectors_are_explained():
    three = INSPECTORS[:3]
    plain = _draw(count=1, inspectors=three)
    target = plain.teams[0].target
    with pytest.raises(InsufficientInspectorsError) as info:
        _draw(count=1, inspectors=three, conflicts=[(target, three[0]), (target, three[1])])
    assert info.value.found == 1
    assert "2 人与该对象有回避关系" in str(info.value)


def test_teams_of_one_are_refused_by_article_5():
    with pytest.raises(DrawError) as info:
        _draw(team_size=1)
    assert "至少为 2 人" in str(info.value)


def test_assign_teams_is_the_same_whether_run_alone_or_in_run_draw():
    strata = [Stratum("一般", TARGETS, ratio="10")]
    selected = draw_targets(strata, SEED)
    assert assign_teams(selected, INSPECTORS, SEED, 2, 3, []) == run_draw(strata, INSPECTORS, SEED, 2, 3, []).teams


# --- Recusal after the draw --------------------------------------------------------


def _replace(teams, done, target, out, cap=None, conflicts=(), reason="与该单位负责人系亲属", inspectors=INSPECTORS):
    return replace_inspector(
        teams, done, target, out, reason, inspectors=inspectors, seed=SEED, cap=cap, conflicts=conflicts
    )


def test_recusal_takes_the_next_in_ranking_into_the_leavers_place():
    teams = _draw().teams
    target, (a, b) = teams[0].target, teams[0].inspectors
    ranking = rank_inspectors(target, INSPECTORS, SEED)
    rep = _replace(teams, [], target, a)
    assert rep == Replacement(target, a, ranking[2], "与该单位负责人系亲属")
    assert apply_replacements(teams, [rep])[0] == Team(target, (ranking[2], b))


def test_a_second_recusal_never_brings_back_someone_replaced_out():
    teams = _draw().teams
    target, (a, b) = teams[0].target, teams[0].inspectors
    ranking = rank_inspectors(target, INSPECTORS, SEED)
    first = _replace(teams, [], target, a)
    second = _replace(teams, [first], target, first.in_)
    assert second.in_ == ranking[3]
    third = _replace(teams, [first, second], target, b)
    assert third.in_ == ranking[4]
    assert apply_replacements(teams, [first, second, third])[0].inspectors == (ranking[3], ranking[4])


def test_recusal_skips_frozen_conflicts_and_inspectors_at_the_cap():
    teams = _draw(count=2, cap=1).teams
    target, (a, _) = teams[0].target, teams[0].inspectors
    ranking = rank_inspectors(target, INSPECTORS, SEED)
    busy = set(teams[1].inspectors)  # already at the cap of 1
    candidates = [i for i in ranking if i not in teams[0].inspectors and i not in busy]
    rep = _replace(teams, [], target, a, cap=1, conflicts=[(target, candidates[0])])
    assert rep.in_ == candidates[1]


def test_recusal_errors_say_what_is_wrong():
    teams = _draw().teams
    target, (a, _) = teams[0].target, teams[0].inspectors
    outsider = next(i for i in INSPECTORS if i not in teams[0].inspectors)
    with pytest.raises(ReplacementError, match="不在该检查组中"):
        _replace(teams, [], target, outsider)
    with pytest.raises(ReplacementError, match="回避原因"):
        _replace(teams, [], target, a, reason="  ")
    with pytest.raises(ReplacementError, match="不在本次抽取结果中"):
        _replace(teams, [], "NOT-DRAWN", a)


def test_recusal_with_nobody_left_raises_instead_of_shrinking_the_team():
    three = INSPECTORS[:3]
    teams = _draw(count=1, inspectors=three).teams
    target, (a, b) = teams[0].target, teams[0].inspectors
    first = _replace(teams, [], target, a, inspectors=three)
    with pytest.raises(InsufficientInspectorsError) as info:
        _replace(teams, [first], target, b, inspectors=three)
    assert "已因回避被替换出该组" in str(info.value)
