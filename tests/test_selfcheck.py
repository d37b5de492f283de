"""The template's 自查 sheet says what the checker will say, before the unit sends the workbook.

The good return (the seed) is broken the ways ``tests/test_check_broken.py`` breaks it — every
case whose damage is an identity or score mistake, and more of the same kind below — and every
workbook is recalculated by ONE headless LibreOffice run, as the unit's spreadsheet program would
on opening it. Then, row by row, the 自查 status LibreOffice shows must be the checker's verdict
on the recalculated workbook at that rule and cell: 需修改 where it reports the 错误, 未填写 where
it reports a blank, a missing 扣分原因 or a 是/否 left blank that the score waits for, ✓ (or — for
an optional identity left blank) where it reports neither. Damage by text typed into number cells
is left out: the checker reads such text as the number it says and reports that instead
(``input.text_number``), which a formula cannot.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import mutate as m
import openpyxl
import pytest
import test_check_broken as broken
from lo_recalc import recalc_many, soffice_available

from perfxl.check import check_file
from perfxl.engine import selfcheck
from perfxl.engine.catalogue import entry
from perfxl.engine.findings import Finding
from perfxl.engine.layout import Plan
from perfxl.engine.selfcheck import BLANK, FIX, NOT_APPLICABLE, OK, STATUS, Check, SelfCheck

Mutation = Callable[[Path, Path], Path]
FAMILIES = ("sum.", "identity.", "score.", "total.self", "subtotal.self", "grade.self", "perf.")
TEXT_TYPED = ("input.text_number", "input.invalid", "input.normalized")


def _fields(values: dict[str, object]) -> Mutation:
    return lambda src, dst: m.set_fields(src, dst, values)


# The corpus's identity and score mistakes, and more of the same kind.
CASES: dict[str, Mutation] = {
    c.id: c.mutate
    for c in broken.CASES
    if any(rule.startswith(FAMILIES) for rule, *_ in c.added)
    and not any(r in TEXT_TYPED for r, *_ in c.added)
}
CASES |= {
    "intact": m.copy,
    "I1-another-reading": _fields(
        {"unit.staff_quota": 40, "unit.staff_actual": 41, "score.I1.self": 4, "score.I1.note": "超编 1 人"}
    ),
    "I1-no-reading": _fields(
        {"unit.staff_quota": 40, "unit.staff_actual": 41, "score.I1.self": 3.6, "score.I1.note": "超编"}
    ),
    "E4-ladder-wrong": _fields({"basis.satisfaction": 90}),
    "P3-fixed-with-reason": _fields({"score.P3.self": 2, "score.P3.note": "有结余，未超过上年结转"}),
    "P3-fixed-without-reason": _fields({"score.P3.self": 2}),
    "P3-half-point-off": _fields({"score.P3.self": 2.004, "score.P3.note": "见说明"}),
    "econ-identity-wrong": _fields({"basis.econ_family": 20}),
    "econ-identity-partly-filled": _fields({"basis.econ_family": None}),
    "expense-total-typed": _fields({"expense.org.total": 300}),
    "expense-basic-typed-right": _fields({"expense.org.basic": 256.7}),
    "sum-cleared-where-zero": _fields({"income.total.fund": None}),
    "grade-cleared": _fields({"grade.self": None}),
    "total-typed-right": _fields({"total.self": 98}),
    "judgement-over-max": _fields({"score.O2.self": 8}),
    "negative-score": _fields({"score.E1.self": -1}),
    "all-self-scores-blank": _fields({f"score.{i.id}.self": None for i in m.plan().edition.rubric.items}),
    "required-inputs-blank": _fields({"unit.contact": None, "basis.p5_1": None, "reporter.phone": "  "}),
    # a 是/否 left blank is not 否: in the range the answers allow the score waits for them (未填写);
    # below it (or above) it is wrong whatever they will say (需修改)
    "P10-answer-blank-in-range": _fields({"basis.p10_2": None}),
    "P7-answer-blank-below-range": _fields({"basis.p7_1": None, "score.P7.self": 0.5, "score.P7.note": "x"}),
}


def verdict(check: Check, findings: list[Finding]) -> str:
    """What the checker's findings say about one 自查 row."""
    if check.kind == "required":
        blank = [f for f in findings if f.rule == "input.blank" and f.sheet == check.sheet]
        return BLANK if blank else OK
    rules = {f.rule for f in findings if f.sheet == check.sheet and f.cell == check.ref}
    if check.kind == "item":
        if {check.rule, f"{check.rule}.range"} & rules:
            return FIX
        waiting = {f"{check.rule}.blank", f"{check.rule}.reason", f"{check.rule}.unanswered"}
        return BLANK if waiting & rules else OK
    return FIX if check.rule in rules else OK


def shown(path: Path, sc: SelfCheck) -> dict[int, object]:
    """The 自查 status column as the workbook shows it, by row."""
    wb = openpyxl.load_workbook(path, data_only=True)
    try:
        ws = wb[selfcheck.SHEET]
        return {c.row: ws.cell(c.row + 1, STATUS + 1).value for c in sc.checks}
    finally:
        wb.close()


# --------------------------------------------------------------------------- the sheet as data


def test_every_identity_and_score_has_a_row_with_a_catalogued_rule() -> None:
    plan = m.plan()
    sc = selfcheck.build(plan)
    rows = [c for c in sc.checks if c.kind != "heading"]
    rules = {c.rule for c in rows}
    assert {f"score.{i.id}" for i in plan.edition.rubric.items} <= rules
    assert {f"identity.{i.id}" for i in plan.edition.rubric.identities} <= rules
    assert {c.rule for c in rows if c.kind == "formula"} >= {
        "sum.income.total",
        "identity.expense.balance_cum",
    }
    assert all(entry(c.rule or "").severity in ("错误", "警告") for c in rows)
    assert [c.number for c in rows] == list(range(1, len(rows) + 1))
    # the recomputation reads the form's inputs only: formula cells are recomputed on the sheet itself
    formula_cells = {(c.sheet, c.ref) for c in plan.formulas()}
    for c in rows:
        for text in (c.expected or "", *c.helpers):
            assert not [(s, r) for s, r in formula_cells if f"'{s}'!{r}" in text], (c.label, text)


def test_the_sheet_is_second_and_counts_on_填报说明(tmp_path: Path) -> None:
    path = broken.write_good(tmp_path / "good.xlsx")
    with m.quiet():
        wb = openpyxl.load_workbook(path)
    try:
        assert wb.sheetnames[:3] == ["填报说明", selfcheck.SHEET, "基本概况"]
        assert wb.active.title == "基本概况"
        ws = wb[selfcheck.SHEET]
        assert ws.protection.sheet and not ws.protection.password
        assert str(ws["A2"].value).startswith('="自查："&COUNTIF(')
        assert selfcheck.STATUS_NAME in wb.defined_names
        lines = [c.value for row in wb["填报说明"].iter_rows() for c in row if c.value]
        assert f"='{selfcheck.SHEET}'!A2" in lines
        marked = {rng.sqref for rng in wb["评分表"].conditional_formatting}
        assert any("F8" in str(s) for s in marked)  # P3's self-score is marked while it needs fixing
    finally:
        wb.close()
    with m.quiet():
        cached = openpyxl.load_workbook(path, data_only=True)
    try:
        assert cached[selfcheck.SHEET]["A2"].value == "自查：1 项需修改，0 项未填写"
    finally:
        cached.close()


# --------------------------------------------------------------------------- the proof, in LibreOffice


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every case broken from a fresh good return, then ONE LibreOffice run over them all."""
    if not soffice_available():
        pytest.skip("soffice (LibreOffice) not on PATH")
    src = tmp_path_factory.mktemp("selfcheck_src")
    good = broken.write_good(src / "good.xlsx")
    made = {
        name: mutate(m.copy(good, src / "step.xlsx"), src / f"{name}.xlsx") for name, mutate in CASES.items()
    }
    done = recalc_many(list(made.values()), tmp_path_factory.mktemp("selfcheck_lo"))
    return {name: done[path] for name, path in made.items()}


def disagreements(
    path: Path, plan: Plan
) -> tuple[dict[tuple[str | None, str | None], tuple[object, str]], int]:
    """({(rule, cell): (自查 status, checker's verdict)} where they differ, rows compared) of a
    recalculated workbook; — (an optional identity left blank) is the checker's silence."""
    sc = selfcheck.build(plan)
    status = shown(path, sc)
    findings = check_file(path).findings
    checks = [c for c in sc.checks if c.kind != "heading"]
    out = {}
    for c in checks:
        said, want = status[c.row], verdict(c, findings)
        if (OK if said == NOT_APPLICABLE else said) != want:
            out[(c.rule, c.ref)] = (said, want)
    return out, len(checks)


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", list(CASES))
def test_selfcheck_status_is_the_checkers_verdict(name: str, recalculated: dict[str, Path]) -> None:
    differ, compared = disagreements(recalculated[name], m.plan())
    assert differ == {}
    assert compared > 80


@pytest.mark.libreoffice
def test_the_corpus_reaches_every_status(recalculated: dict[str, Path]) -> None:
    sc = selfcheck.build(m.plan())
    seen = {v for path in recalculated.values() for v in shown(path, sc).values()}
    assert {OK, FIX, BLANK, NOT_APPLICABLE} <= seen


@pytest.mark.libreoffice
def test_required_counts_are_the_checkers(recalculated: dict[str, Path]) -> None:
    sc = selfcheck.build(m.plan())
    rows = [c for c in sc.checks if c.kind == "required"]
    path = recalculated["required-inputs-blank"]
    findings = check_file(path).findings
    wb = openpyxl.load_workbook(path, data_only=True)
    try:
        ws = wb[selfcheck.SHEET]
        for c in rows:
            count = ws.cell(c.row + 1, selfcheck.HELPER + 1).value
            assert Decimal(str(count)) == sum(
                1 for f in findings if f.rule == "input.blank" and f.sheet == c.sheet
            )
    finally:
        wb.close()
