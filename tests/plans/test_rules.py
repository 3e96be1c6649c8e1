"""The pure rules of plans and tasks: Art 7's floor in exact decimals, and disjoint strata."""
from ssj.plans import rules


def test_two_rounds_a_year_fall_short_of_art7():
    notes = rules.art7_shortfalls(2, "1")
    assert len(notes) == 1 and "少于细则第七条规定的每年不少于 3 次" in notes[0]


def test_half_a_percent_falls_short_of_art7():
    notes = rules.art7_shortfalls(3, "0.5")
    assert len(notes) == 1 and "低于细则第七条规定的不低于 1%" in notes[0]


def test_ratio_is_compared_as_a_decimal_not_a_float():
    assert rules.art7_shortfalls(3, "1") == []
    assert rules.art7_shortfalls(3, "1.0") == []
    assert rules.art7_shortfalls(3, "0.99") != []
    # 0.1 + 0.2 as floats is 0.30000000000000004; as decimals the text is what counts.
    assert rules.below_art7_ratio("0.9999999999999999999")


def test_both_shortfalls_are_reported():
    assert len(rules.art7_shortfalls(1, "0.5")) == 2


def test_months_parse_in_common_chinese_forms():
    assert rules.parse_months("3,6,9") == ([3, 6, 9], None)
    assert rules.parse_months("9、3、6月") == ([3, 6, 9], None)
    assert rules.parse_months("") == ([], None)
    months, problem = rules.parse_months("3,13")
    assert months is None and "13" in problem
    months, problem = rules.parse_months("3,3")
    assert months is None and "重复" in problem


def test_months_may_be_separated_by_full_width_commas_or_spaces():
    """As typed with a Chinese input method: "3，6，9", "3 6 9", "3月6月9月" (mutmut 27, 28, 31 of round 4)."""
    assert rules.parse_months("3，6，9") == ([3, 6, 9], None)
    assert rules.parse_months("3 6 9") == ([3, 6, 9], None)
    assert rules.parse_months("3月6月9月") == ([3, 6, 9], None)


def test_january_and_december_are_months_and_0_and_13_are_not():
    """The bounds of 1–12 (mutmut 40, 41, 42 of round 4)."""
    assert rules.parse_months("1,12") == ([1, 12], None)
    assert rules.parse_months("0")[0] is None
    assert rules.parse_months("13")[0] is None


def test_a_bad_month_says_what_to_fix():
    """The exact messages a plan line shows under its months (mutmut 45, 47 of round 4)."""
    assert rules.parse_months("3,13") == (None, "“13”不是 1–12 之间的月份。请用逗号分隔，例如 3,6,9。")
    assert rules.parse_months("3,6,3") == (None, "3 月重复填写了。每轮填写一个不同的月份。")


def test_strata_are_disjoint_special_first_then_small_micro():
    all_three = ["special", "small_micro", "general"]
    assert rules.stratum_kind(True, True, all_three) == "special"
    assert rules.stratum_kind(False, True, all_three) == "small_micro"
    assert rules.stratum_kind(False, False, all_three) == "general"


def test_a_stratum_not_set_up_falls_through_to_the_next():
    assert rules.stratum_kind(True, True, ["small_micro", "general"]) == "small_micro"
    assert rules.stratum_kind(True, False, ["small_micro", "general"]) == "general"
    assert rules.stratum_kind(False, True, ["special", "general"]) == "general"


def test_a_plan_line_allows_twelve_rounds_a_year_and_refuses_thirteen():
    """One round a month at most (rules.MAX_ROUNDS): the boundary a mutation run found untested."""
    from ssj.plans.forms import ItemRow

    def row(rounds: str) -> ItemRow:
        return ItemRow(1, "M-1", "事项", True, rounds=rounds, ratio_percent="5")

    twelve, thirteen = row("12"), row("13")
    twelve.validate()
    thirteen.validate()
    assert "rounds" not in twelve.errors
    assert thirteen.errors["rounds"] == "每年轮次应为 0–12 的整数；细则第七条要求每年不少于 3 次。"
