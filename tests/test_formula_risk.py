"""Which formulas reach outside the workbook (perfxl.engine.formula_risk)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfxl.engine import formula_risk
from perfxl.engine.formula_risk import danger


def _lex_by_hand(formula: str) -> tuple[str, list[str], list[str]]:
    """The character-by-character lexer the tokenizing regex replaced (kept as the reference)."""
    code: list[str] = []
    literals: list[str] = []
    quoted: list[str] = []
    i, n = 0, len(formula)
    while i < n:
        ch = formula[i]
        if ch in "\"'":
            j, parts = i + 1, []
            while j < n:
                k = formula.find(ch, j)
                if k < 0:
                    parts.append(formula[j:])
                    j = n
                    break
                parts.append(formula[j:k])
                if formula.startswith(ch, k + 1):
                    parts.append(ch)
                    j = k + 2
                    continue
                j = k + 1
                break
            (literals if ch == '"' else quoted).append("".join(parts))
            code.append(" " if ch == '"' else "'Q'")
            i = j
        else:
            k = i
            while k < n and formula[k] not in "\"'":
                k += 1
            code.append(formula[i:k])
            i = k
    return "".join(code), literals, quoted


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("\"'[]!A1:|(), 表x")), max_size=40))
def test_the_lexer_agrees_with_the_one_it_replaced(formula: str) -> None:
    assert formula_risk._lex(formula) == _lex_by_hand(formula)


@pytest.mark.parametrize(
    ("formula", "says"),
    [
        ("cmd|' /C calc'!A0", "DDE"),
        ("[1]Sheet1!A1+1", "外部链接"),
        ("'C:\\报表\\[旧.xlsx]收支'!D7", "外部链接"),
        ("SUM('[other.xlsx]Sheet1'!A1:A3)", "外部链接"),
        ('HYPERLINK("http://example.com","点")', "HYPERLINK"),
        ("INDIRECT(\"'file:///C:/a.xlsx'!A1\")", "INDIRECT"),
        ('_xlfn.WEBSERVICE("http://x")', "WEBSERVICE"),
        ("_xll.MyAddin(1)", "加载项"),
    ],
)
def test_dangerous_formulas_are_named(formula: str, says: str) -> None:
    why = danger(formula)
    assert why is not None and says in why


@pytest.mark.parametrize(
    "formula",
    [
        "SUM('收支情况'!D7:D9)/'收支情况'!D10",
        "IF(LEN(TRIM('基本概况'!B2))=0,1,0)",
        '"自查："&COUNTIF($F$6:$F$99,"需修改")&" 项 | [说明]"',
        "表1[金额]+SUM(表1[[#本行],[金额]])",
        "HYPERLINK(\"#'审核意见'!A1\")",
        "'O''Brien'!A1*2",
        'INDIRECT("A"&ROW())',
    ],
)
def test_formulas_that_stay_inside_pass(formula: str) -> None:
    assert danger(formula) is None


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "SUM(",
                "cAll(",
                "_xlfn.",
                "_xll.",
                "Hyperlink(",
                "INDIRECT(",
                "(",
                ")",
                '"#a"',
                '"http://x"',
                "A1",
                ",",
                " ",
                "x",
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_skipping_formulas_without_a_risky_name_changes_nothing(formula: str) -> None:
    """The shortcut (no risky name anywhere: no call examined) gives what examining every call gives."""
    danger.cache_clear()
    fast = danger(formula)
    saved = formula_risk._RISKY_NAMES
    formula_risk._RISKY_NAMES = ("",)  # in every formula: every call examined
    try:
        danger.cache_clear()
        assert danger(formula) == fast
    finally:
        formula_risk._RISKY_NAMES = saved
        danger.cache_clear()
