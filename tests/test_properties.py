"""Properties that hold for any input a unit could type (hypothesis): the number parser never
raises, every score stays within 0～分值, the total is the sum of the items, monotone rules are
monotone, and a formula is never called safe when it reaches outside the workbook."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from perfxl.engine.compute import compute
from perfxl.engine.formula_risk import danger
from perfxl.engine.layout import build_plan
from perfxl.engine.numbers import UNITS, parse_number, parse_yesno
from perfxl.spec import load_edition

PLAN = build_plan(load_edition())
ITEMS = PLAN.edition.rubric.items
D = Decimal


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=40), unit=st.sampled_from(UNITS))
def test_number_parser_never_raises(text: str, unit: str | None) -> None:
    parsed = parse_number(text, unit)
    assert parsed.value is None or (isinstance(parsed.value, Decimal) and parsed.value.is_finite())
    assert (parsed.error is None) or parsed.value is None
    parse_yesno(text)


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.floats(), st.integers(), st.booleans(), st.none()))
def test_number_parser_never_raises_on_cell_values(value: object) -> None:
    parsed = parse_number(value, "万元")
    assert parsed.value is None or parsed.value.is_finite()  # type: ignore[union-attr]


amounts = st.decimals(min_value=-1000, max_value=100000, places=2, allow_nan=False, allow_infinity=False)


def _inputs(draw: st.DrawFn) -> dict[str, object]:
    out: dict[str, object] = {}
    for cell in PLAN.inputs():
        if cell.type == "amount":
            out[cell.id] = draw(st.one_of(st.none(), amounts))
        elif cell.type in ("percent",):
            out[cell.id] = draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2)))
        elif cell.type in ("integer", "count"):
            out[cell.id] = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=500).map(D)))
        elif cell.type == "yesno":
            out[cell.id] = draw(st.sampled_from([None, "是", "否"]))
        elif cell.type == "score":
            out[cell.id] = draw(st.one_of(st.none(), st.decimals(min_value=-5, max_value=20, places=1)))
    return out


@st.composite
def returns(draw: st.DrawFn) -> dict[str, object]:
    return _inputs(draw)


@settings(max_examples=60, deadline=None)
@given(inputs=returns())
def test_scores_within_range_and_total_is_their_sum(inputs: dict[str, object]) -> None:
    calc = compute(PLAN, inputs)
    total = D(0)
    for item in ITEMS:
        score = calc.outcomes[item.id].score
        assert D(0) <= score <= item.max, (item.id, score)
        total += score
    assert calc.number("total.ref") == total


@settings(max_examples=100, deadline=None)
@given(carryover=amounts.filter(lambda x: x >= 0), a=amounts, b=amounts)
def test_balance_score_never_rises_with_the_balance(carryover: Decimal, a: Decimal, b: Decimal) -> None:
    """P3 资金结余: more 累计结余 against the same 上年结转 never scores more."""
    low, high = sorted((a, b))

    def p3(balance: Decimal) -> Decimal:
        inputs = {
            "income.org.fiscal": D(100) + balance,
            "income.org.carryover": carryover,
            "expense.org.personnel": D(100) + carryover,
        }
        return compute(PLAN, inputs).outcomes["P3"].score

    assert p3(low) >= p3(high)


@settings(max_examples=100, deadline=None)
@given(quota=st.integers(min_value=1, max_value=500), a=st.integers(0, 800), b=st.integers(0, 800))
def test_staff_score_never_rises_with_overstaffing(quota: int, a: int, b: int) -> None:
    """I1 财政供养人员控制率: more staff against the same quota never scores more."""
    low, high = sorted((a, b))

    def i1(actual: int) -> Decimal:
        inputs = {"unit.staff_quota": D(quota), "unit.staff_actual": D(actual)}
        return compute(PLAN, inputs).outcomes["I1"].score

    assert i1(low) >= i1(high)


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.text(alphabet="=+-*/(),;&<> ", max_size=8),  # what can end the token before
    outside=st.sampled_from(
        [
            "cmd|' /C calc'!A0",
            "[1]Sheet1!A1",
            "'C:\\x\\[a.xlsx]S'!A1",
            'WEBSERVICE("http://x")',
            "_xlfn.WEBSERVICE(A1)",
            'HYPERLINK("http://x")',
            'RTD("a",,"b")',
            'CALL("k","W","J")',
            "REGISTER.ID(A1,A2)",
            'INDIRECT("[b.xlsx]S!A1")',
        ]
    ),
)
def test_outside_formulas_are_always_caught(prefix: str, outside: str) -> None:
    assert danger(prefix + outside) is not None
    assert danger("=" + outside) is not None
