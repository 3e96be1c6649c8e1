"""The dashboard's chart geometry (ssj/oversight/charts.py): pure arithmetic, no Flask."""
from decimal import Decimal
from fractions import Fraction

from ssj.oversight import charts
from ssj.oversight.charts import Item, Segment, hbar_chart, stacked_bar


def test_bars_are_proportional_and_the_largest_fills_the_plot():
    c = hbar_chart([Item("甲", 10), Item("乙", 5), Item("丙", 0)])
    full = c.plot_width
    assert [b.width for b in c.bars] == [full, full / 2, 0]
    assert all(b.x == c.plot_x for b in c.bars)
    # Rows go down one row height at a time and never overlap.
    ys = [b.y for b in c.bars]
    assert ys == sorted(ys) and ys[1] - ys[0] == charts.ROW > charts.BAR
    assert c.height >= ys[-1] + charts.BAR
    # The figure is printed just after the end of its bar.
    assert c.bars[1].text_x == c.plot_x + full / 2 + 6


def test_the_reference_line_sits_at_its_value_and_stretches_the_scale():
    # Every ratio below the Art 7 line: the line must still be inside the plot, at its place.
    c = hbar_chart([Item("甲", Fraction(1, 2)), Item("乙", Fraction(1, 4))], reference=1, reference_caption="1%")
    assert c.reference.x == c.plot_x + c.plot_width
    assert c.bars[0].width == c.plot_width / 2
    assert c.reference.y2 == c.bars[-1].y + charts.ROW and c.reference.caption == "1%"
    # A bar above the line: the line moves left in proportion.
    c = hbar_chart([Item("甲", Decimal("4"))], reference=1)
    assert c.reference.x == c.plot_x + c.plot_width / 4


def test_exact_values_round_only_at_the_end():
    c = hbar_chart([Item("甲", Fraction(1, 3)), Item("乙", 1)], width=charts.LABEL_WIDTH + charts.VALUE_WIDTH + 300)
    assert c.bars[0].width == 100.0 and c.bars[1].width == 300.0


def test_all_zero_or_nothing_draws_no_bars_and_no_division_by_zero():
    c = hbar_chart([Item("甲", 0), Item("乙", 0)])
    assert [b.width for b in c.bars] == [0, 0]
    assert hbar_chart([]).empty and hbar_chart([], reference=1).reference is None


def test_long_labels_are_shortened_but_kept_whole_for_the_tooltip():
    name = "RS-JC-001 用人单位制定内部劳动保障规章制度和遵守劳动合同制度情况的检查"
    b = hbar_chart([Item(name, 1, "3 户")]).bars[0]
    assert b.label.endswith("…") and len(b.label) == charts.LABEL_CHARS
    assert b.full_label == name and b.text == "3 户"


def test_a_negative_value_draws_nothing_rather_than_a_bar_backwards():
    assert hbar_chart([Item("甲", -3), Item("乙", 1)]).bars[0].width == 0


def test_stacked_pieces_are_contiguous_and_fill_the_width():
    s = stacked_bar([Segment("按期", 1, "ok"), Segment("逾期", 1, "late"), Segment("未交", 1, "bad")], width=700)
    xs = [(p.x, p.x + p.width) for p in s.pieces]
    assert xs[0][0] == 0
    for (_, end), (start, _) in zip(xs, xs[1:]):
        assert abs(end - start) < 1e-9  # no gap, no overlap, even with thirds
    assert abs(xs[-1][1] - 700) < 1e-9
    assert [p.share for p in s.pieces] == [Fraction(1, 3)] * 3
    assert s.total == 3


def test_a_zero_segment_is_not_drawn_but_stays_in_the_legend():
    s = stacked_bar([Segment("按期", 3, "ok"), Segment("逾期", 0, "late"), Segment("未交", 1, "bad")], width=400)
    assert [p.label for p in s.pieces] == ["按期", "未交"]
    assert [p.width for p in s.pieces] == [300.0, 100.0]
    assert [k.label for k in s.keys] == ["按期", "逾期", "未交"] and [k.value for k in s.keys] == [3, 0, 1]
    # Legend entries are laid out in rows under the bar, inside the drawing.
    assert all(k.y > s.bar_height for k in s.keys) and max(k.y for k in s.keys) + 14 <= s.height


def test_an_empty_stack_says_so():
    s = stacked_bar([Segment("按期", 0, "ok")])
    assert s.empty and s.pieces == ()
