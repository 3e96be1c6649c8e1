"""The pure cell readers: each value a clerk might type, and what they are told when it is wrong."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from ssj.imports import cells
from ssj.imports.cells import CellError


def test_dates_from_cells_and_common_text_forms():
    assert cells.day(datetime(2027, 6, 30, 0, 0), "有效期") == date(2027, 6, 30)
    for text in ("2027-06-30", "2027/6/30", "2027.06.30", "2027年6月30日", " 2027-06-30 00:00:00 "):
        assert cells.day(text, "有效期") == date(2027, 6, 30), text
    with pytest.raises(CellError, match="“2027-13-01”不是有效日期.*YYYY-MM-DD"):
        cells.day("2027-13-01", "有效期")
    with pytest.raises(CellError, match="而不是数字 46000"):
        cells.day(46000, "有效期")
    with pytest.raises(CellError, match="未填写"):
        cells.day(" ", "有效期")


def test_percent_is_exact_decimal_text():
    assert cells.percent(1, "比例", minimum=Decimal(1), maximum=Decimal(100)) == "1"
    assert cells.percent(2.5, "比例", minimum=Decimal(1), maximum=Decimal(100)) == "2.5"
    assert cells.percent("10.50%", "比例", minimum=Decimal(1), maximum=Decimal(100)) == "10.5"
    assert cells.percent("100", "比例", minimum=Decimal(1), maximum=Decimal(100)) == "100"
    with pytest.raises(CellError, match="最多保留 2 位小数"):
        cells.percent("1.234", "比例", minimum=Decimal(1), maximum=Decimal(100))
    with pytest.raises(CellError, match="应为数字"):
        cells.percent("一成", "比例", minimum=Decimal(1), maximum=Decimal(100))
    with pytest.raises(CellError, match="应为数字"):
        cells.percent("NaN", "比例", minimum=Decimal(1), maximum=Decimal(100))


def test_numbers_typed_into_text_columns_read_as_typed():
    assert cells.text(13800000000, "电话", max_len=20) == "13800000000"
    assert cells.text(1001.0, "工号", max_len=20) == "1001"
    with pytest.raises(CellError, match="不能超过 5 个字（现为 6 个字）"):
        cells.text("六个字的名字", "名称", max_len=5)


def test_integers_yes_no_and_choices():
    assert cells.integer(3.0, "次数", minimum=0, maximum=9) == 3
    assert cells.integer(" 4 ", "次数", minimum=0, maximum=9) == 4
    assert cells.integer(None, "次数", minimum=0, maximum=9, default=0) == 0
    with pytest.raises(CellError, match="应为整数，而不是 2.5"):
        cells.integer(2.5, "次数", minimum=0, maximum=9)
    with pytest.raises(CellError, match="应在 0 到 9 之间，而不是 -1"):
        cells.integer(-1, "次数", minimum=0, maximum=9)
    assert cells.yes_no("是", "小微") is True and cells.yes_no(None, "小微") is False and cells.yes_no(True, "小微")
    with pytest.raises(CellError, match="应填“是”或“否”，而不是“Y”"):
        cells.yes_no("Y", "小微")
    assert cells.choice("休假/借调", "状态", {"休假": "leave", "休假/借调": "leave", "在岗": "active"}) == "leave"
    with pytest.raises(CellError, match="应为“休假”、“在岗”之一"):
        cells.choice("外出", "状态", {"休假": "leave", "休假/借调": "leave", "在岗": "active"})


def test_multiline_items_split_on_line_breaks_and_semicolons():
    assert cells.multiline("甲；乙;丙\r\n丁\n\n", "内容") == "甲\n乙\n丙\n丁"


def test_credit_codes_are_normalised_and_checked():
    assert cells.credit_code(" 91411623ma45kq0t2j ") == "91411623MA45KQ0T2J"
    with pytest.raises(CellError, match="校验位错误：最后一位应为 J，而不是 K"):
        cells.credit_code("91411623MA45KQ0T2K")
    with pytest.raises(CellError, match="应为18位"):
        cells.credit_code("9141")
