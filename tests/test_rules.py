"""Tests for the rule kinds (perfxl.spec.kinds) on the real hunan-2020 rubric: each kind, table-driven.

Every case is scored twice: by the Python rule (``kinds.score``) and by its Excel twin
(``metric_formula`` / ``kinds.formula`` / ``grade_formula``), the latter run by
the small independent evaluator below (Excel text -> Python text with lazy IF, eval'd over
``Decimal``). The two must agree with each other and with the value the official standard gives.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from decimal import ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

import pytest

from perfxl.engine.compute import compute, grade_bands
from perfxl.engine.layout import build_plan
from perfxl.spec import Item, kinds, load_edition
from perfxl.spec.kinds import Cells, Given, Outcome, checklist, judgement, ladder, per_count, per_point
from perfxl.spec.kinds.common import grade, grade_formula, metric_formula, metric_value, quantize

D = Decimal
ED = load_edition()
RUBRIC = ED.rubric
RD, SD = RUBRIC.rate_decimals, RUBRIC.score_decimals
GRADES = tuple((g.label, g.min) for g in RUBRIC.grades)
MISSING: Any = object()
Inputs = Mapping[str, object]


# ---------------------------------------------------------------- a tiny independent Excel evaluator


class _Blank(Decimal):
    """An empty cell: 0 in arithmetic, equal to both 0 and ""."""

    def __eq__(self, other: object) -> bool:
        return other == "" if isinstance(other, str) else Decimal.__eq__(self, other)

    __hash__ = Decimal.__hash__


BLANK = _Blank(0)


def _n(x: object) -> Decimal:
    if isinstance(x, bool) or not isinstance(x, Decimal):
        raise TypeError(f"#VALUE!: {x!r} in arithmetic")
    return Decimal(x)


def _round(x: Any, n: Any, mode: str) -> Decimal:
    return _n(x()).quantize(D(1).scaleb(-int(n())), rounding=mode)


_FUNCS: dict[str, Callable[..., Any]] = {  # every argument arrives as a thunk: IF is lazy, as in Excel
    "IF": lambda c, a, b=lambda: False: a() if c() else b(),
    "AND": lambda *xs: all(x() for x in xs),
    "ROUND": lambda x, n: _round(x, n, ROUND_HALF_UP),  # half away from zero
    "ROUNDUP": lambda x, n: _round(x, n, ROUND_UP),  # away from zero
    "INT": lambda x: _n(x()).to_integral_value(rounding=ROUND_FLOOR),
    "MAX": lambda *xs: max(_n(x()) for x in xs),
    "MIN": lambda *xs: min(_n(x()) for x in xs),
    "ABS": lambda x: abs(_n(x())),
}
_XL = re.compile(r'("[^"]*")|([A-Za-z_]\w*)(\()?|(\d+(?:\.\d+)?)|(<>|<=|>=|[=<>+\-*/(),])')
_OPS = {"=": "==", "<>": "!=", ",": ", lambda: "}


def xl_eval(text: str, cells: Mapping[str, object]) -> Decimal | str | bool:
    """Value of Excel formula text (no '='); cells maps placeholder names to values (None: blank)."""
    out, seen = [], 0
    for m in _XL.finditer(text):
        string, name, call, number, op = m.groups()
        seen += len(m.group(0))
        if string:
            out.append(string)
        elif name and call:
            assert name in _FUNCS, f"unsupported function {name} in {text}"
            out.append(f"{name}(lambda: ")
        elif name:
            out.append(f"_C[{name!r}]")
        elif number:
            out.append(f"_D({number!r})")
        else:
            out.append(_OPS.get(op, op))
    assert seen == len(text), f"unrecognised text in {text}"
    env = {k: BLANK if v is None else v for k, v in cells.items()}
    result = eval("".join(out), {"__builtins__": {}, **_FUNCS, "_D": Decimal, "_C": env})  # noqa: S307
    return D(result) if isinstance(result, _Blank) else result


def test_evaluator_itself() -> None:
    assert xl_eval('IF(A="",1,A*2)', {"A": None}) == 1
    assert xl_eval('IF(A="",1,A*2)', {"A": D(3)}) == 6
    assert xl_eval("A+1", {"A": None}) == 1
    assert xl_eval("ROUND(2.345,2)+ROUND(-2.345,2)+ROUND(0.125,2)", {}) == D("0.13")
    assert xl_eval("ROUNDUP(1.01,0)+INT(1.99)+ABS(-2)+MIN(3,MAX(0,-1))", {}) == 5
    assert xl_eval('IF(AND(A>=1,A<2),"x","y")', {"A": D("1.5")}) == "x"
    assert xl_eval("IF(A<>0,1/A,0)", {"A": D(0)}) == 0  # lazy: no division by zero
    assert xl_eval('IF(A="是",1,0)+IF(B="是",0.5,0)', {"A": "是", "B": None}) == 1


# ---------------------------------------------------------------- running a case both ways


def _value(inputs: Inputs) -> Callable[[str], Decimal]:
    return lambda f: v if isinstance(v := inputs.get(f), Decimal) else D(0)


def _text(inputs: Inputs) -> Callable[[str], object]:
    return lambda f: inputs.get(f)


def _given(inputs: Inputs, self_score: Decimal | None = None) -> Given:
    return Given(_value(inputs), _text(inputs), self_score or D(0), RD, SD)


def py_outcome(item: Item, inputs: Inputs, self_score: Decimal | None = None) -> Outcome:
    return kinds.score(item, _given(inputs, self_score))


def xl_outcome(item: Item, inputs: Inputs, self_score: Decimal | None = None) -> tuple[object, object]:
    """(metric cell value or None if the item has no metric cell, score cell value) from the formulas."""
    names: dict[str, str] = {}

    def cell(fid: str) -> str:
        return names.setdefault(fid, f"CELL{len(names)}")

    metric = None
    metric_cell = None
    if item.rule.metric is not None:
        formula = metric_formula(item.rule, cell, RD)
        metric = xl_eval(formula, {n: inputs.get(f) for f, n in names.items()})
        metric_cell = "METRIC"
    text = kinds.formula(item, metric_cell, Cells(cell, "SELF", RD, SD))
    env = {n: inputs.get(f) for f, n in names.items()} | {"METRIC": metric, "SELF": self_score}
    return metric, xl_eval(text, env)


def with_reading(item: Item, reading: str) -> Item:
    """The item with ``reading`` first, so that the template's formula renders that reading."""
    order = (reading, *(r for r in item.rule.readings if r != reading))
    return dataclasses.replace(item, rule=dataclasses.replace(item.rule, readings=order))


def case(
    name: str,
    item: str,
    inputs: Inputs,
    score: str | int,
    *,
    readings: tuple[Any, ...] | None = None,
    metric: Any = MISSING,
    note: Any = MISSING,
    band: Any = MISSING,
    self_score: str | None = None,
) -> Any:
    """readings: (proportional, whole, started) scores when they differ from ``score``."""
    ins = {
        k: (D(str(v)) if isinstance(v, int | float | str) and not str(v).startswith(("是", "否")) else v)
        for k, v in inputs.items()
    }
    return pytest.param(
        item,
        ins,
        D(str(score)),
        readings,
        metric,
        note,
        band,
        None if self_score is None else D(self_score),
        id=f"{item}-{name}",
    )


# ---------------------------------------------------------------- the cases

I1 = "unit.staff_actual", "unit.staff_quota"
I2 = "sangong.total.total", "basis.sangong_prev"
I3 = "basis.key_spending", "expense.total.project"
P1 = "basis.budget_adjust", "basis.budget_initial"
P4 = "sangong.total.total", "basis.sangong_budget"
P8 = "basis.procurement_actual", "basis.procurement_budget"
P9 = "basis.card_actual", "basis.card_due"
P12 = "assets.total.in_use", "assets.total.total"
NUMERATOR_ZERO = "（分子也为0）"


def rate(fields: tuple[str, str], num: object, den: object) -> dict[str, object]:
    return {fields[0]: num, fields[1]: den}


I1_NOTE = "人员编制为0，控制率无法计算"
I2_NOTE = "上年“三公”经费为0，变动率无法计算"
I3_NOTE = "项目支出为0，重点支出安排率不适用，按满分计"
P1_NOTE = "年初预算数为0，预算调整率无法计算"
P4_NOTE = "未下达“三公”经费预算控制数，控制率无法计算"
P8_NOTE = "无政府采购预算，执行率不适用"
P9_NOTE = "无应刷公务卡支出，刷卡率不适用，按满分计"
P12_NOTE = "无固定资产，利用率不适用，按满分计"
OUT_OF_BANDS = "不在评分标准的任何档次内，按0分计"


def p3(balance: str, carryover: str = "3.67") -> dict[str, object]:
    """P3's inputs given directly: 累计结余 (a formula cell) and 上年结转 (a sum)."""
    return {"expense.total.balance_cum": balance, "income.total.carryover": carryover}


PER_POINT = [
    # I1: over 100, 0.5 per point, floor at 0
    case("100%", "I1", rate(I1, 50, 50), 5, metric=D("100.00"), note=None),
    case("99%", "I1", rate(I1, 99, 100), 5, readings=(5, 5, 5)),
    case("101%", "I1", rate(I1, 101, 100), "4.5", readings=("4.5", "4.5", "4.5")),
    case("101.5%", "I1", rate(I1, 203, 200), "4.25", readings=("4.25", "4.5", 4), metric=D("101.5")),
    case("110%", "I1", rate(I1, 110, 100), 0, readings=(0, 0, 0)),
    case("120%-floor", "I1", rate(I1, 120, 100), 0, readings=(0, 0, 0)),
    case("100.004%-rounds-to-100", "I1", rate(I1, 25001, 25000), 5, readings=(5, 5, 5), metric=D("100.00")),
    case(
        "quota0-actual0",
        "I1",
        rate(I1, 0, 0),
        5,
        readings=(5, 5, 5),
        metric=None,
        note=I1_NOTE + NUMERATOR_ZERO,
    ),
    case("quota0-actual3", "I1", rate(I1, 3, 0), 0, readings=(0, 0, 0), metric=None, note=I1_NOTE),
    case("blank", "I1", {}, 5, metric=None, note=I1_NOTE + NUMERATOR_ZERO),
    # I2: over 0, 0.5 per point
    case("-7.88%", "I2", rate(I2, "92.12", 100), 5, readings=(5, 5, 5), metric=D("-7.88")),
    case("0%", "I2", rate(I2, 100, 100), 5, metric=D(0)),
    case("+1.37%", "I2", rate(I2, "101.37", 100), "4.32", readings=("4.32", "4.5", 4), metric=D("1.37")),
    case("+10%", "I2", rate(I2, 110, 100), 0, readings=(0, 0, 0)),
    case("+12%-floor", "I2", rate(I2, 112, 100), 0, readings=(0, 0, 0)),
    case("-0.005%-half-away-from-zero", "I2", rate(I2, 19999, 20000), 5, metric=D("-0.01")),
    case("+0.005%-rounds-to-0.01", "I2", rate(I2, 20001, 20000), 5, readings=(5, 5, "4.5"), metric=D("0.01")),
    case(
        "prev0-now0", "I2", rate(I2, 0, 0), 5, readings=(5, 5, 5), metric=None, note=I2_NOTE + NUMERATOR_ZERO
    ),
    case("prev0-now2", "I2", rate(I2, 2, 0), 0, readings=(0, 0, 0), metric=None, note=I2_NOTE),
    # P4: over 100, 1 per point
    case("98.56%", "P4", rate(P4, "98.56", 100), 6, readings=(6, 6, 6), metric=D("98.56")),
    case("100%", "P4", rate(P4, 100, 100), 6, readings=(6, 6, 6)),
    case("100.5%", "P4", rate(P4, "100.5", 100), "5.5", readings=("5.5", 6, 5)),
    case("101%", "P4", rate(P4, 101, 100), 5, readings=(5, 5, 5)),
    case("107%-floor", "P4", rate(P4, 107, 100), 0, readings=(0, 0, 0)),
    case("budget0-actual0", "P4", rate(P4, 0, 0), 6, metric=None, note=P4_NOTE + NUMERATOR_ZERO),
    case("budget0-actual1", "P4", rate(P4, 1, 0), 0, metric=None, note=P4_NOTE),
    # P8: under 100, 0.2 per point
    case("100%", "P8", rate(P8, 100, 100), 3, readings=(3, 3, 3), note=None),
    case("101%", "P8", rate(P8, 101, 100), 3, readings=(3, 3, 3)),
    case("99.5%", "P8", rate(P8, "99.5", 100), "2.9", readings=("2.9", 3, "2.8")),
    case("99%", "P8", rate(P8, 99, 100), "2.8", readings=("2.8", "2.8", "2.8")),
    case("90%", "P8", rate(P8, 90, 100), 1, readings=(1, 1, 1)),
    case("85%", "P8", rate(P8, 85, 100), 0, readings=(0, 0, 0)),
    case("80%-floor", "P8", rate(P8, 80, 100), 0, readings=(0, 0, 0)),
    case("budget0-actual0", "P8", rate(P8, 0, 0), 3, metric=None, note=P8_NOTE + NUMERATOR_ZERO),
    case("budget0-actual5", "P8", rate(P8, 5, 0), 0, metric=None, note=P8_NOTE),
    # P9: under 50, 0.2 per point
    case("75%", "P9", rate(P9, 75, 100), 3, readings=(3, 3, 3)),
    case("50%", "P9", rate(P9, 50, 100), 3, readings=(3, 3, 3)),
    case("49%", "P9", rate(P9, 49, 100), "2.8", readings=("2.8", "2.8", "2.8")),
    case("45.5%", "P9", rate(P9, 91, 200), "2.1", readings=("2.1", "2.2", 2), metric=D("45.5")),
    case("40%", "P9", rate(P9, 40, 100), 1, readings=(1, 1, 1)),
    case("35%", "P9", rate(P9, 35, 100), 0, readings=(0, 0, 0)),
    case("0%", "P9", rate(P9, 0, 100), 0, readings=(0, 0, 0), metric=D(0)),
    case("due0-actual0", "P9", rate(P9, 0, 0), 3, metric=None, note=P9_NOTE + NUMERATOR_ZERO),
    case("due0-actual5", "P9", rate(P9, 5, 0), 3, readings=(3, 3, 3), metric=None, note=P9_NOTE),
    # P12: under 100, 0.1 per point
    case("100%", "P12", rate(P12, 100, 100), 3, readings=(3, 3, 3)),
    case("99.99%", "P12", rate(P12, "99.99", 100), 3, readings=(3, 3, "2.9")),
    case("97.5%", "P12", rate(P12, "97.5", 100), "2.75", readings=("2.75", "2.8", "2.7")),
    case("90%", "P12", rate(P12, 90, 100), 2, readings=(2, 2, 2)),
    case("70%", "P12", rate(P12, 70, 100), 0, readings=(0, 0, 0)),
    case("60%-floor", "P12", rate(P12, 60, 100), 0, readings=(0, 0, 0)),
    case("no-assets", "P12", rate(P12, 0, 0), 3, metric=None, note=P12_NOTE + NUMERATOR_ZERO),
]

LADDER = [
    # I3: >= 90 / [80,90) / [70,80) / [60,70) / < 60
    case("90%", "I3", rate(I3, 90, 100), 5, metric=D("90.00"), band=">= 90", note=None),
    case("120%", "I3", rate(I3, 120, 100), 5),
    case("89.99%", "I3", rate(I3, "89.99", 100), 4, band="[80, 90)"),
    case("80%", "I3", rate(I3, 80, 100), 4),
    case("79.99%", "I3", rate(I3, "79.99", 100), 3, band="[70, 80)"),
    case("70%", "I3", rate(I3, 70, 100), 3),
    case("69.99%", "I3", rate(I3, "69.99", 100), 2),
    case("60%", "I3", rate(I3, 60, 100), 2, band="[60, 70)"),
    case("59.99%", "I3", rate(I3, "59.99", 100), 0, band="< 60"),
    case("0%", "I3", rate(I3, 0, 100), 0),
    case("89.995%-rounds-to-90", "I3", rate(I3, 17999, 20000), 5, metric=D("90.00"), band=">= 90"),
    case("89.99499%-rounds-to-89.99", "I3", rate(I3, 8999499, 10000000), 4, metric=D("89.99")),
    case("59.995%-rounds-to-60", "I3", rate(I3, 11999, 20000), 2, metric=D("60.00")),
    case("project0", "I3", rate(I3, 10, 0), 5, metric=None, note=I3_NOTE, band=None),
    case("project0-key0", "I3", rate(I3, 0, 0), 5, metric=None, note=I3_NOTE + NUMERATOR_ZERO),
    # P1: = 0 / (0,10] / (10,20] / (20,30] / > 30, of |adjust| / initial
    case("0%", "P1", rate(P1, 0, 100), 3, metric=D("0.00"), band="= 0"),
    case("0.004%-rounds-to-0", "P1", rate(P1, "0.004", 100), 3, metric=D("0.00"), band="= 0"),
    case("0.005%-rounds-to-0.01", "P1", rate(P1, "0.005", 100), 2, metric=D("0.01")),
    case("0.01%", "P1", rate(P1, "0.01", 100), 2, band="(0, 10]"),
    case("10%", "P1", rate(P1, 10, 100), 2),
    case("10.01%", "P1", rate(P1, "10.01", 100), 1, band="(10, 20]"),
    case("20%", "P1", rate(P1, 20, 100), 1),
    case("20.01%", "P1", rate(P1, "20.01", 100), "0.5"),
    case("30%", "P1", rate(P1, 30, 100), "0.5", band="(20, 30]"),
    case("30.01%", "P1", rate(P1, "30.01", 100), 0, band="> 30"),
    case("adjust-15-uses-abs", "P1", rate(P1, -15, 100), 1, metric=D("15.00")),
    case("adjust-0.01-uses-abs", "P1", rate(P1, "-0.01", 100), 2, metric=D("0.01")),
    case("adjust-31-uses-abs", "P1", rate(P1, -31, 100), 0),
    case("initial0-adjust0", "P1", rate(P1, 0, 0), 3, metric=None, note=P1_NOTE + NUMERATOR_ZERO),
    case("initial0-adjust5", "P1", rate(P1, 5, 0), 0, metric=None, note=P1_NOTE),
    case("initial-negative", "P1", rate(P1, 10, -100), 0, metric=D("-10.00"), note=OUT_OF_BANDS, band=None),
    # P3: value metric 累计结余 against an expression bound (上年结转), given directly
    case("balance-0.38", "P3", p3("-0.38"), 3, metric=D("-0.38"), band="无结余"),
    case("balance0", "P3", p3("0"), 3, band="无结余"),
    case("balance0.01", "P3", p3("0.01"), 2, band="有结余，未超过上年结转"),
    case("balance=carryover", "P3", p3("3.67"), 2),
    case("balance>carryover", "P3", p3("3.68"), 0, band="结余超过上年结转"),
    case("carryover0-balance0.01", "P3", {"expense.total.balance_cum": "0.01"}, 0),
    case("blank", "P3", {}, 3, metric=D(0)),
    # E4: value metric 满意度: >= 95 / [85,95) / [75,85) / < 75
    case("100", "E4", {"basis.satisfaction": 100}, 5),
    case("95", "E4", {"basis.satisfaction": 95}, 5, metric=D(95), band=">= 95"),
    case("94.99", "E4", {"basis.satisfaction": "94.99"}, 3, band="[85, 95)"),
    case("85", "E4", {"basis.satisfaction": 85}, 3),
    case("84.99", "E4", {"basis.satisfaction": "84.99"}, 1),
    case("75", "E4", {"basis.satisfaction": 75}, 1, band="[75, 85)"),
    case("74.99", "E4", {"basis.satisfaction": "74.99"}, 0, band="< 75"),
    case("blank", "E4", {}, 0),
]

PER_COUNT = [
    *(
        case(f"{n}", "P2", {"basis.special_late": n}, s, metric=D(n))
        for n, s in ((0, 3), (1, "2.5"), (2, 2), (6, 0), (7, 0))
    ),
    case("blank", "P2", {}, 3, metric=D(0)),
    *(case(f"{n}", "P6", {"basis.p6_cases": n}, s) for n, s in ((0, 3), (1, 2), (3, 0), (6, 0), (7, 0))),
    *(case(f"{n}", "P11", {"basis.p11_cases": n}, s) for n, s in ((0, 4), (1, 3), (4, 0), (6, 0), (7, 0))),
]


def yes(*fields: str, no: tuple[str, ...] = ()) -> dict[str, object]:
    return {f: "是" for f in fields} | {f: "否" for f in no}


P5F = ("basis.p5_1", "basis.p5_2", "basis.p5_3")
P7F = ("basis.p7_1", "basis.p7_2", "basis.p7_3", "basis.p7_4", "basis.p7_5")
CHECKLIST = [
    case("all-yes", "P5", yes(*P5F), 3),
    case("one-no", "P5", yes(*P5F[:2], no=P5F[2:]), 2),
    case("blank", "P5", {}, 0),
    case("one-blank", "P5", yes(*P5F[1:]), 2),
    case("all-no", "P5", yes(no=P5F), 0),
    case("all-yes", "P7", yes(*P7F), 3),
    case("first-no", "P7", yes(*P7F[1:], no=P7F[:1]), 2),
    case("third-no", "P7", yes(*P7F[:2], *P7F[3:], no=P7F[2:3]), "2.5"),
    case("first-only", "P7", yes(*P7F[:1], no=P7F[1:]), 1),
    case("blank", "P7", {}, 0),
    case("all-no", "P7", yes(no=P7F), 0),
    case("all-yes", "P10", yes("basis.p10_1", "basis.p10_2"), 3),
    case("first-only", "P10", yes("basis.p10_1", no=("basis.p10_2",)), 2),
    case("second-only", "P10", yes("basis.p10_2", no=("basis.p10_1",)), 1),
    case("blank", "P10", {}, 0),
    case("all-no", "P10", yes(no=("basis.p10_1", "basis.p10_2")), 0),
]

JUDGEMENT = [
    case("4.5-kept", "O1", {}, "4.5", self_score="4.5"),
    case("max-kept", "O1", {}, 5, self_score="5"),
    case("6-clamped-to-5", "O1", {}, 5, self_score="6"),
    case("negative-to-0", "O1", {}, 0, self_score="-1"),
    case("blank", "O1", {}, 0),
    case("7-kept", "O2", {}, 7, self_score="7"),
    case("7.5-clamped", "O2", {}, 7, self_score="7.5"),
    *(case("within", i, {}, "1.5", self_score="1.5") for i in ("O3", "O4", "O5", "O6", "E1", "E2", "E3")),
]

ALL_CASES = PER_POINT + LADDER + PER_COUNT + CHECKLIST + JUDGEMENT
ARGS = ("item_id", "inputs", "expected", "readings", "metric", "note", "band", "self_score")


def _check(
    item_id: str,
    inputs: Inputs,
    expected: Decimal,
    readings: tuple[Any, ...] | None,
    metric: Any,
    note: Any,
    band: Any,
    self_score: Decimal | None,
) -> None:
    item = RUBRIC.item(item_id)
    out = py_outcome(item, inputs, self_score)
    assert out.score == expected
    assert 0 <= out.score <= item.max
    if item.rule.kind == "per_point":
        assert set(out.readings) == set(item.rule.readings)
        assert out.readings[item.rule.readings[0]] == out.score
        if readings is not None:
            assert out.readings == dict(
                zip(("proportional", "whole", "started"), map(D, map(str, readings)), strict=True)
            )
    if metric is not MISSING:
        assert out.metric == metric
    if note is not MISSING:
        assert out.note == note
    if band is not MISSING:
        assert out.band == band

    # the Excel twin: metric cell and 参考得分 cell
    xl_metric, xl_score = xl_outcome(item, inputs, self_score)
    assert xl_score == out.score, kinds.formula(item, "METRIC", Cells(lambda f: f, "SELF", RD, SD))
    if item.rule.metric is not None:
        assert xl_metric == ("" if out.metric is None else out.metric)
        assert (xl_metric == "") == (metric_value(item.rule, _value(inputs), RD) is None)
    for reading, points in out.readings.items():  # every accepted reading, rendered as the primary one
        assert xl_outcome(with_reading(item, reading), inputs, self_score)[1] == points, reading


@pytest.mark.parametrize(ARGS, ALL_CASES)
def test_rule_case(
    item_id: str,
    inputs: Inputs,
    expected: Decimal,
    readings: Any,
    metric: Any,
    note: Any,
    band: Any,
    self_score: Decimal | None,
) -> None:
    _check(item_id, inputs, expected, readings, metric, note, band, self_score)


def test_every_item_has_cases() -> None:
    covered = {p.values[0] for p in ALL_CASES}
    assert covered == {i.id for i in RUBRIC.items}


def test_rule_kinds_as_published() -> None:
    kinds = {i.id: i.rule.kind for i in RUBRIC.items}
    assert {k for k, v in kinds.items() if v == "per_point"} == {"I1", "I2", "P4", "P8", "P9", "P12"}
    assert {k for k, v in kinds.items() if v == "ladder"} == {"I3", "P1", "P3", "E4"}
    assert {k for k, v in kinds.items() if v == "per_count"} == {"P2", "P6", "P11"}
    assert {k for k, v in kinds.items() if v == "checklist"} == {"P5", "P7", "P10"}


# ---------------------------------------------------------------- the pure helpers called directly


def test_helpers_directly() -> None:
    i1 = RUBRIC.item("I1")
    staff = {"unit.staff_actual": D(203), "unit.staff_quota": D(200)}
    m = metric_value(i1.rule, _value(staff), RD)
    assert m == D("101.50")
    assert per_point.score(i1, m, _given(staff)).readings == {
        "proportional": D("4.25"),
        "whole": D("4.5"),
        "started": D(4),
    }
    i3 = RUBRIC.item("I3")
    assert ladder.score(i3, D("80"), _given({})).score == 4
    assert ladder.score(i3, None, _given({})).note == I3_NOTE + NUMERATOR_ZERO
    assert per_count.score(RUBRIC.item("P2"), None, _given({"basis.special_late": D(3)})).score == D("1.5")
    assert checklist.score(RUBRIC.item("P7"), None, _given(yes("basis.p7_1", "basis.p7_5"))).score == D("1.5")
    assert judgement.score(RUBRIC.item("O1"), None, _given({}, D("5.01"))).score == 5
    assert quantize(D("4.315"), 2) == D("4.32")
    assert quantize(D("-4.315"), 2) == D("-4.32")


# ---------------------------------------------------------------- grade


GRADE_CASES = [
    ("100", "优秀"),
    ("90", "优秀"),
    ("89.99", "良好"),
    ("80", "良好"),
    ("79.99", "中"),
    ("60", "中"),
    ("59.99", "差"),
    ("0", "差"),
    ("-1", "差"),
]


@pytest.mark.parametrize(("total", "label"), GRADE_CASES, ids=[c[0] for c in GRADE_CASES])
def test_grade(total: str, label: str) -> None:
    assert grade(D(total), GRADES) == label
    assert xl_eval(grade_formula("TOTAL", GRADES), {"TOTAL": D(total)}) == label


def test_grade_blank_total_is_lowest() -> None:
    assert grade(D(0), GRADES) == xl_eval(grade_formula("TOTAL", GRADES), {"TOTAL": None}) == "差"


# ---------------------------------------------------------------- through compute(): formula cells feed rules


PLAN = build_plan(ED)


def _money(**kw: str) -> dict[str, object]:
    return {k.replace("__", "."): D(v) for k, v in kw.items()}


# 累计结余 = 收入合计 − 支出合计, summed over the institution rows; 上年结转 is summed too.
P3_COMPUTED = [
    ("deficit-0.38", "104.05", "-0.38", 3),
    ("balance0", "103.67", "0", 3),
    ("balance0.01", "103.66", "0.01", 2),
    ("balance=carryover", "100", "3.67", 2),
    ("balance>carryover", "99.99", "3.68", 0),
]


@pytest.mark.parametrize(
    ("spent", "balance", "expected"), [c[1:] for c in P3_COMPUTED], ids=[c[0] for c in P3_COMPUTED]
)
def test_p3_through_compute(spent: str, balance: str, expected: int) -> None:
    inputs = _money(
        income__org__fiscal="90",
        income__org__carryover="3.00",
        income__sub1__fiscal="10",
        income__sub1__carryover="0.67",
        expense__org__personnel="50",
        expense__sub1__project="1",
    )
    inputs["expense.org.public"] = D(spent) - 51
    comp = compute(PLAN, inputs)
    assert comp.number("income.total.carryover") == D("3.67")
    assert comp.number("expense.total.balance_cum") == D(balance)
    assert comp.number("metric.P3") == D(balance)
    assert comp.outcomes["P3"].score == expected
    assert comp.number("score.P3.ref") == expected
    # and the same numbers given straight to the rule
    item = RUBRIC.item("P3")
    direct = {"expense.total.balance_cum": D(balance), "income.total.carryover": D("3.67")}
    assert py_outcome(item, direct).score == expected == xl_outcome(item, direct)[1]


def test_compute_sums_feed_rates_and_checklists() -> None:
    inputs: dict[str, object] = _money(
        sangong__org__reception="60",
        sangong__sub1__vehicle_ops="41.37",
        basis__sangong_prev="100",
        basis__sangong_budget="100",
        unit__staff_quota="200",
        unit__staff_actual="203",
    )
    inputs |= yes("basis.p7_1", "basis.p7_2", no=("basis.p7_3",))
    comp = compute(PLAN, inputs)
    assert comp.number("sangong.total.total") == D("101.37")
    assert comp.number("metric.I2") == D("1.37")
    assert comp.outcomes["I2"].score == D("4.32")
    assert comp.outcomes["P4"].readings == {"proportional": D("4.63"), "whole": D(5), "started": D(4)}
    assert comp.outcomes["I1"].score == D("4.25")
    assert comp.outcomes["P7"].score == D("1.5")
    assert comp.number("score.I1.ref") == D("4.25")


def test_grade_bands_match_rubric() -> None:
    assert grade_bands(PLAN) == GRADES == (("优秀", D(90)), ("良好", D(80)), ("中", D(60)), ("差", D(0)))
