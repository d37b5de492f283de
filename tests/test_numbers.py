"""Tests for perfxl.engine.numbers: reading hand-typed numbers and 是/否 answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfxl.engine.numbers import Parsed, parse_number, parse_yesno, to_decimal

D = Decimal

# (raw, unit, expected value, has note, has error)
NUMBER_CASES = [
    # --- blank: no value, no note, no error
    (None, "万元", None, False, False),
    ("", "万元", None, False, False),
    ("   ", "万元", None, False, False),
    ("\u3000\xa0\t\n", "%", None, False, False),
    ("\ufeff \u200b", None, None, False, False),
    # --- placeholders read as blank, with a note
    ("—", "万元", None, True, False),
    ("——", "万元", None, True, False),
    ("－", "万元", None, True, False),
    ("-", "万元", None, True, False),
    ("--", "人", None, True, False),
    ("/", "%", None, True, False),
    ("／", "%", None, True, False),
    ("无", "个", None, True, False),
    ("空", "分", None, True, False),
    ("不适用", None, None, True, False),
    (" 不适用\u3000", "万元", None, True, False),
    # --- numbers from the cell: exact, no note
    (256.7, "万元", D("256.7"), False, False),
    (0.1, "万元", D("0.1"), False, False),
    (1500, "万元", D("1500"), False, False),
    (0, "万元", D("0"), False, False),
    (-0.0, "万元", D("0"), False, False),
    (-12.5, "万元", D("-12.5"), False, False),
    (1e-7, None, D("0.0000001"), False, False),
    (3.0, "人", D("3"), False, False),
    (D("12.34"), "万元", D("12.34"), False, False),
    # --- bools and non-finite floats are not numbers
    (True, "万元", None, False, True),
    (False, "人", None, False, True),
    (float("nan"), "万元", None, False, True),
    (float("inf"), "万元", None, False, True),
    (float("-inf"), "%", None, False, True),
    (dt.date(2024, 1, 1), "万元", None, False, True),
    # --- clean text: no note
    ("256.7", "万元", D("256.7"), False, False),
    ("  256.70 ", "万元", D("256.70"), False, False),
    ("\u3000256.7\xa0", "万元", D("256.7"), False, False),
    ("007", "人", D("7"), False, False),
    (".5", "万元", D("0.5"), False, False),
    ("5.", "万元", D("5"), False, False),
    ("+5", "万元", D("5"), False, False),
    ("-0.38", "万元", D("-0.38"), False, False),
    ("-0", "万元", D("0"), False, False),
    ("2.5E+02", "万元", D("250"), False, False),
    ("2.5e2", None, D("250"), False, False),
    ("1E-3", "万元", D("0.001"), False, False),
    # --- thousands separators
    ("1,234.5", "万元", D("1234.5"), False, False),
    ("1,234,567.89", "万元", D("1234567.89"), False, False),
    ("-1,234", "万元", D("-1234"), False, False),
    ("1，234.5", "万元", D("1234.5"), True, False),  # full-width comma
    ("12,34", "万元", None, False, True),  # decimal comma?
    ("0,5", "万元", None, False, True),
    ("1,2345", "万元", None, False, True),
    ("1234,567", "万元", None, False, True),
    (",123", "万元", None, False, True),
    ("1,234,5", "万元", None, False, True),
    # --- full-width digits and punctuation
    ("２５６．７", "万元", D("256.7"), True, False),
    ("－０．３８", "万元", D("-0.38"), True, False),
    ("＋５", "人", D("5"), True, False),
    ("９５％", "%", D("95"), True, False),
    ("１，２３４．５", "万元", D("1234.5"), True, False),
    ("\u22123", "万元", D("-3"), True, False),  # typographic minus
    # --- trailing units
    ("256.7万元", "万元", D("256.7"), True, False),
    ("256.7 万元", "万元", D("256.7"), True, False),
    ("256.7万", "万元", D("256.7"), True, False),
    ("1500元", "万元", D("0.15"), True, False),  # an explicit unit is exact: 元 ÷ 10000
    ("2563200元", "万元", D("256.32"), True, False),
    ("2,563,200.50 元", "万元", D("256.32005"), True, False),
    ("12人", "人", D("12"), True, False),
    ("3个", "个", D("3"), True, False),
    ("3例", "个", D("3"), True, False),
    ("3项", "个", D("3"), True, False),
    ("3个", "人", D("3"), True, False),
    ("3人", "个", D("3"), True, False),
    ("85分", "分", D("85"), True, False),
    ("85 分", "分", D("85"), True, False),
    ("256.7万元", None, D("256.7"), True, False),
    ("95%", None, D("95"), True, False),
    # --- contradicting units
    ("95%", "万元", None, False, True),
    ("95％", "万元", None, False, True),
    ("256.7万元", "%", None, False, True),
    ("1500元", "人", None, False, True),
    ("12人", "万元", None, False, True),
    ("85分", "%", None, False, True),
    ("3个", "分", None, False, True),
    # --- only a unit / unknown units
    ("万元", "万元", None, False, True),
    ("%", "%", None, False, True),
    ("256.7千元", "万元", None, False, True),
    ("2.5亿", "万元", None, False, True),
    ("￥1500", "万元", None, False, True),
    # --- percentages
    ("95", "%", D("95"), False, False),
    ("95%", "%", D("95"), True, False),
    ("95.5 %", "%", D("95.5"), True, False),
    ("95.5%", "%", D("95.5"), True, False),
    ("100", "%", D("100"), False, False),
    ("120", "%", D("120"), False, False),
    ("1.5", "%", D("1.5"), False, False),
    (0.95, "%", D("95"), True, False),
    (0.955, "%", D("95.5"), True, False),
    ("0.95", "%", D("95"), True, False),
    ("０．９５", "%", D("95"), True, False),
    (1, "%", D("100"), True, False),
    (1.0, "%", D("100"), True, False),
    ("1", "%", D("100"), True, False),
    ("1.00", "%", D("100"), True, False),
    (0, "%", D("0"), False, False),
    (0.0, "%", D("0"), False, False),
    ("0", "%", D("0"), False, False),
    (95, "%", D("95"), False, False),
    ("0.5%", "%", D("0.5"), True, False),  # with a % sign: never scaled
    ("1%", "%", D("1"), True, False),
    ("-0.05", "%", D("-0.05"), False, False),  # only (0, 1] is a fraction
    (0.95, "万元", D("0.95"), False, False),  # scaling is for % only
    ("1", "人", D("1"), False, False),
    # --- accounting negatives
    ("(0.38)", "万元", D("-0.38"), True, False),
    ("（0.38）", "万元", D("-0.38"), True, False),
    ("( 1,234.5 )", "万元", D("-1234.5"), True, False),
    ("(0.38)万元", "万元", D("-0.38"), True, False),
    ("（0.38万元）", "万元", D("-0.38"), True, False),
    ("(0.95)", "%", D("-0.95"), True, False),
    ("(-0.38)", "万元", None, False, True),
    ("-(0.38)", "万元", None, False, True),
    ("()", "万元", None, False, True),
    # --- not numbers
    ("约二百万", "万元", None, False, True),
    ("二百", "万元", None, False, True),
    ("壹佰", "万元", None, False, True),
    ("abc", "万元", None, False, True),
    ("12 13", "万元", None, False, True),
    ("12\u300013", "人", None, False, True),
    ("1 234", "万元", None, False, True),
    ("12/13", "万元", None, False, True),
    ("1.2.3", "万元", None, False, True),
    ("256。7", "万元", None, False, True),
    ("约200", "万元", None, False, True),
    ("200左右", "万元", None, False, True),
    ("≥95%", "%", None, False, True),
    ("NaN", "万元", None, False, True),
    ("nan", None, None, False, True),
    ("Infinity", "万元", None, False, True),
    ("-inf", "万元", None, False, True),
    ("e5", "万元", None, False, True),
    ("1e", "万元", None, False, True),
    (".", "万元", None, False, True),
    ("+", "万元", None, False, True),
    ("+-5", "万元", None, False, True),
    ("#DIV/0!", "万元", None, False, True),
    ("1e999999999", "万元", None, False, True),
    ("-1e-999999999", "%", None, False, True),
    (1e300, "万元", None, False, True),
    (5.551115123125783e-17, "万元", D("5.551115123125783E-17"), False, False),  # formula residue
    ("-" + "9" * 40, "万元", D("-" + "9" * 40), False, False),  # no rounding to 28 digits
    ("(" + "9" * 40 + ")", "万元", D("-" + "9" * 40), True, False),
    ("#N/A", "%", None, False, True),
    ("是", "人", None, False, True),
]


@pytest.mark.parametrize(("raw", "unit", "value", "has_note", "has_error"), NUMBER_CASES)
def test_parse_number_table(
    raw: object, unit: str | None, value: Decimal | None, has_note: bool, has_error: bool
) -> None:
    result = parse_number(raw, unit)
    assert isinstance(result, Parsed)
    assert result.value == value
    if value is not None:
        assert isinstance(result.value, Decimal)
    assert (result.note is not None) == has_note, result
    assert (result.error is not None) == has_error, result
    if has_error:
        assert result.value is None
    for message in (result.note, result.error):
        if message is not None:
            assert "\n" not in message
            assert len(message) <= 120


@pytest.mark.parametrize(
    ("raw", "unit", "note"),
    [
        ("256.7万元", "万元", "“256.7万元”按 256.7 万元读取"),
        ("256.7万", "万元", "“256.7万”按 256.7 万元读取"),
        ("1500元", "万元", "“1500元”的单位是元，按 0.15 万元读取（由元换算为万元，÷10000）"),
        ("2563200元", "万元", "“2563200元”的单位是元，按 256.32 万元读取（由元换算为万元，÷10000）"),
        (0.95, "%", "0.95 按 95% 读取"),
        (1, "%", "1 按 100% 读取（若指 1% 请改为 1%）"),
        ("1", "%", "“1”按 100% 读取（若指 1% 请改为 1%）"),
        ("0.95", "%", "“0.95”按 95% 读取"),
        ("２５６．７", "万元", "“２５６．７”含全角字符，按 256.7 万元读取"),
        ("(0.38)", "万元", "“(0.38)”为括号表示的负数，按 -0.38 万元读取"),
        ("—", "万元", "“—”按空白（未填）读取"),
        ("3例", "人", "“3例”的单位是例，按 3 人读取"),
        ("95%", None, "“95%”已去掉单位“%”，按 95 读取"),
    ],
)
def test_parse_number_notes(raw: object, unit: str | None, note: str) -> None:
    assert parse_number(raw, unit).note == note


@pytest.mark.parametrize(
    ("raw", "unit", "error"),
    [
        ("约二百万", "万元", "“约二百万”不是数字，请填写阿拉伯数字"),
        ("约二百万", "%", "“约二百万”不是数字，请填写阿拉伯数字"),  # not a unit problem
        ("abc", "万元", "“abc”不是数字"),
        ("12 13", "万元", "“12 13”含有多个数字，只能填写一个数字"),
        ("12,34", "万元", "“12,34”中的逗号位置不对，若是小数点请改为“.”"),
        ("95%", "万元", "“95%”的单位是“%”，与本表单位“万元”不符"),
        ("万元", "万元", "“万元”只有单位，没有数字"),
        ("#DIV/0!", "万元", "“#DIV/0!”是公式错误值，不是数字"),
        (True, "万元", "“TRUE”是“是/否”值，此处应填写数字"),
        (float("nan"), "万元", "“nan”不是有效数字"),
    ],
)
def test_parse_number_errors(raw: object, unit: str | None, error: str) -> None:
    result = parse_number(raw, unit)
    assert result == Parsed(None, None, error)


def test_messages_quote_and_shorten_long_text() -> None:
    raw = "本年度预算执行情况良好，具体金额见附件说明材料第三页第二段的表格内容"
    error = parse_number(raw, "万元").error
    assert error is not None
    assert error.startswith("“本年度") and "…”" in error
    assert len(error) < 50


def test_unknown_unit_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_number("1", "元")


def test_scientific_notation_has_no_exponent_in_value() -> None:
    value = parse_number("2.5E+02", "万元").value
    assert isinstance(value, Decimal)
    assert str(value) == "250"
    assert str(parse_number(1, "%").value) == "100"


def test_blank_never_reports() -> None:
    assert parse_number(None) == Parsed(None, None, None)
    assert parse_number(" \u3000 ", "万元") == Parsed(None, None, None)


# ----------------------------------------------------------------------------- to_decimal


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (256.7, "256.7"),
        (0.1, "0.1"),
        (0.1 + 0.2, "0.30000000000000004"),  # exactly what the cell holds, no binary tail
        (1e-7, "1E-7"),
        (1e16, "10000000000000000"),
        (-0.38, "-0.38"),
        (-0.0, "0.0"),  # no minus sign on zero
        (3, "3"),
        (10**20, "100000000000000000000"),
        (" 256.70 ", "256.70"),
        ("2.5E+02", "250"),
        (Decimal("1.5"), "1.5"),
    ],
)
def test_to_decimal_exact(x: float | int | str, expected: str) -> None:
    result = to_decimal(x)
    assert result == Decimal(expected)
    assert str(result) == expected


def test_to_decimal_is_not_binary_expansion() -> None:
    assert to_decimal(256.7) == Decimal("256.7")
    assert to_decimal(256.7) != Decimal(256.7)  # the float's binary expansion
    assert to_decimal(0.1) + to_decimal(0.2) == Decimal("0.3")
    assert to_decimal(1e-7) == Decimal("0.0000001")


@pytest.mark.parametrize("x", [float("nan"), float("inf"), "NaN", "-Infinity", "abc", "1,234"])
def test_to_decimal_rejects_non_numbers(x: float | str) -> None:
    with pytest.raises(ValueError):
        to_decimal(x)


@pytest.mark.parametrize("x", [True, False, None, [1]])
def test_to_decimal_rejects_other_types(x: object) -> None:
    with pytest.raises(TypeError):
        to_decimal(x)  # type: ignore[arg-type]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_to_decimal_round_trips_floats(x: float) -> None:
    d = to_decimal(x)
    assert d == Decimal(repr(x))
    assert float(d) == x


# ----------------------------------------------------------------------------- parse_yesno

# (raw, expected value, has note, has error)
YESNO_CASES = [
    ("是", "是", False, False),
    ("否", "否", False, False),
    (" 是\u3000", "是", False, False),
    ("\xa0否\n", "否", False, False),
    ("√", "是", True, False),
    ("✓", "是", True, False),
    ("✔", "是", True, False),
    ("Y", "是", True, False),
    ("y", "是", True, False),
    ("Ｙ", "是", True, False),
    ("yes", "是", True, False),
    ("YES", "是", True, False),
    ("1", "是", True, False),
    ("１", "是", True, False),
    ("TRUE", "是", True, False),
    ("有", "是", True, False),
    (True, "是", True, False),
    (1, "是", True, False),
    (1.0, "是", True, False),
    ("×", "否", True, False),
    ("✗", "否", True, False),
    ("✘", "否", True, False),
    ("N", "否", True, False),
    ("n", "否", True, False),
    ("no", "否", True, False),
    ("No", "否", True, False),
    ("0", "否", True, False),
    ("false", "否", True, False),
    ("无", "否", True, False),
    ("没有", "否", True, False),
    ("不是", "否", True, False),
    (False, "否", True, False),
    (0, "否", True, False),
    (0.0, "否", True, False),
    (None, None, False, False),
    ("", None, False, False),
    ("  \u3000", None, False, False),
    ("—", None, True, False),
    ("－", None, True, False),
    ("/", None, True, False),
    ("不适用", None, True, False),
    ("可能", None, False, True),
    ("是否", None, False, True),
    ("否（未发生）", None, False, True),
    ("x", None, False, True),
    ("2", None, False, True),
    (2, None, False, True),
    (0.5, None, False, True),
    (float("nan"), None, False, True),
    (dt.date(2024, 1, 1), None, False, True),
]


@pytest.mark.parametrize(("raw", "value", "has_note", "has_error"), YESNO_CASES)
def test_parse_yesno_table(raw: object, value: str | None, has_note: bool, has_error: bool) -> None:
    result = parse_yesno(raw)
    assert result.value == value
    assert (result.note is not None) == has_note, result
    assert (result.error is not None) == has_error, result


def test_parse_yesno_messages() -> None:
    assert parse_yesno("√").note == "“√”按“是”读取"
    assert parse_yesno(True).note == "“TRUE”按“是”读取"
    assert parse_yesno(0).note == "0 按“否”读取"
    assert parse_yesno("可能").error == "“可能”不是“是”或“否”"


# ----------------------------------------------------------------------------- properties

_TO_FULLWIDTH = str.maketrans(
    {**{str(i): chr(0xFF10 + i) for i in range(10)}, ".": "．", ",": "，", "-": "－"}
)

money = st.decimals(
    min_value=Decimal("-1000000000000"),
    max_value=Decimal("1000000000000"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@given(
    amount=money,
    grouped=st.booleans(),
    fullwidth=st.booleans(),
    suffix=st.sampled_from(["", "万元", " 万元", "万"]),
    padding=st.sampled_from(["", " ", "\u3000", "\xa0"]),
)
def test_money_round_trips(
    amount: Decimal, grouped: bool, fullwidth: bool, suffix: str, padding: str
) -> None:
    text = format(amount, ",.2f" if grouped else ".2f")
    if fullwidth:
        text = text.translate(_TO_FULLWIDTH)
    text = padding + text + suffix + padding
    result = parse_number(text, "万元")
    assert result.error is None, (text, result)
    assert result.value == amount
    assert isinstance(result.value, Decimal)
    # A note appears exactly when the text needed more than trimming/ASCII grouping.
    assert (result.note is not None) == (fullwidth or bool(suffix)), (text, result)


@given(amount=money)
def test_accounting_negative_round_trips(amount: Decimal) -> None:
    text = f"({abs(amount):,.2f})"
    assert parse_number(text, "万元").value == -abs(amount)


@given(rate=st.decimals(min_value=0, max_value=1000, places=2))
def test_percent_with_sign_is_never_scaled(rate: Decimal) -> None:
    result = parse_number(f"{rate}%", "%")
    assert result.error is None
    assert result.value == rate


def test_yuan_is_converted_and_said() -> None:
    parsed = parse_number("2563200元", "万元")
    assert (parsed.value, parsed.from_yuan) == (D("256.32"), True)
    assert not parse_number("256.32万元", "万元").from_yuan
    assert not parse_number("1500元", None).from_yuan  # no unit expected: nothing to convert to
