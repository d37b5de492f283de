"""Checking returns that a unit broke by hand: every damage is a clear finding, never a crash.

The good return is the seed (岳阳市君山区信访局 2020) drawn by the template writer; it checks with
exactly one 错误 (score.P3) and a few 提示. Each test copies it, breaks it with a helper from
``tests/mutate.py`` and compares the compact findings ``(rule, severity, sheet, cell)`` with the
intact return's: what the damage added and what it took away.

openpyxl (which the helpers edit with) writes formulas without cached results, as some tools do.
Nothing was reported in such a cell, so the checker must not report it (``formula.no_cache`` 提示
at most); today it reports many of them as “填报 空白” (``test_resave_without_cached_values``).
Findings that say 空白 about a formula cell that has no cached result, and the no_cache note, are
therefore left out of every other comparison, so that each test is about its own damage (and
keeps passing once that bug is fixed).

Each case is written as the checker must behave.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import mutate as m
import openpyxl
import pytest
import yaml
from lo_edit import edit_many, uno_python
from lo_recalc import recalc_many, soffice_available

from perfxl.check import check_file
from perfxl.check.result import CheckResult
from perfxl.check.xlsxread import read_xlsx
from perfxl.engine.findings import ERROR, INFO, WARNING, Finding
from perfxl.form.meta import Unit
from perfxl.form.template import write_template

D = Decimal
ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "sample_workbooks" / "君山区信访局_2020.yaml"
UNIT = Unit("岳阳市君山区信访局", "430611-XFJ", 2020)

Flat = tuple[str, str, str | None, str | None]
Mutation = Callable[[Path, Path], Path]

SEED_ERRORS = [("score.P3", ERROR, "评分表", "F8")]


# --------------------------------------------------------------------------- helpers


def flat(findings: list[Finding]) -> list[Flat]:
    return [(f.rule, f.severity, f.sheet, f.cell) for f in findings]


def _key(f: Flat) -> tuple[str, ...]:
    return tuple("" if x is None else x for x in f)


def errors(result: CheckResult) -> list[Flat]:
    return [t for t in flat(result.findings) if t[1] == ERROR]


UNCACHED_NOTE = "formula.no_cache"


@cache
def _uncalculated(path: str) -> frozenset[tuple[str, str]]:
    """(sheet, cell) of every formula cell saved without a result."""
    wb = read_xlsx(path)
    return frozenset(
        (name, ref)
        for name, sheet in wb.sheets.items()
        for ref, c in sheet.cells.items()
        if c.formula is not None and c.value is None
    )


def own(result: CheckResult) -> list[Finding]:
    """The findings of ``result`` without those about formula results nobody saved."""
    if result.status == "unusable" or not result.findings:
        return list(result.findings)
    blank = _uncalculated(result.file)
    return [
        f
        for f in result.findings
        if f.rule != UNCACHED_NOTE and not (f.reported is None and (f.sheet, f.cell) in blank)
    ]


@dataclass(frozen=True)
class Ref:
    """The intact return's check, to compare a broken one with."""

    result: CheckResult

    def delta(self, result: CheckResult) -> tuple[list[Flat], list[Flat]]:
        """(added, removed) compact findings compared with the intact return."""
        now, before = Counter(flat(own(result))), Counter(flat(self.result.findings))
        return (sorted((now - before).elements(), key=_key), sorted((before - now).elements(), key=_key))

    def added(self, result: CheckResult) -> list[Finding]:
        added = Counter(self.delta(result)[0])
        out = []
        for f in own(result):
            t = (f.rule, f.severity, f.sheet, f.cell)
            if added[t]:
                added[t] -= 1
                out.append(f)
        return out


def _only(result: CheckResult, rule: str, cell: str | None = None) -> Finding:
    hits = [f for f in result.findings if f.rule == rule and (cell is None or f.cell == cell)]
    assert len(hits) == 1, (rule, cell, flat(result.findings))
    return hits[0]


# --------------------------------------------------------------------------- fixtures


def write_good(path: Path) -> Path:
    """The good return (the seed) drawn by the template writer at ``path``."""
    values = yaml.safe_load(SEED.read_text(encoding="utf-8"))["values"]
    write_template(path, unit=UNIT, values=values)
    return path


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_good(tmp_path_factory.mktemp("good") / "君山区信访局_2020.xlsx")


@pytest.fixture(scope="module")
def original(good: Path) -> CheckResult:
    return check_file(good)


@pytest.fixture(scope="module")
def resaved(good: Path, tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    """The good return loaded and saved by openpyxl without any change."""
    return check_file(m.edit(good, tmp_path_factory.mktemp("resaved") / "resaved.xlsx", lambda wb: None))


@pytest.fixture(scope="module")
def ref(original: CheckResult) -> Ref:
    return Ref(original)


@pytest.fixture
def broken(good: Path, tmp_path: Path) -> Callable[[Mutation], CheckResult]:
    """Break a fresh copy of the good return and check it."""

    def run(mutation: Mutation) -> CheckResult:
        src = m.copy(good, tmp_path / "good.xlsx")
        path = mutation(src, tmp_path / "broken.xlsx")
        before = src.read_bytes()
        result = check_file(path)
        assert src.read_bytes() == before
        return result

    return run


# --------------------------------------------------------------------------- the intact return


def test_seed_checks_with_one_error(original: CheckResult) -> None:
    assert original.status == "errors" and original.exit_code == 1
    assert errors(original) == SEED_ERRORS
    assert [f for f in original.findings if f.severity == WARNING] == []
    assert any(f.severity == INFO for f in original.findings)
    assert (original.reported_total, original.recomputed_total) == (D(98), D(97))


def test_resave_without_cached_values(original: CheckResult, resaved: CheckResult) -> None:
    # A file saved by a tool that keeps formulas but no cached results: nothing was reported in
    # those cells, so nothing is wrong with them; at most one 提示 says they were not checked.
    notes = [f for f in resaved.findings if f.rule == UNCACHED_NOTE]
    assert [(f.severity, f.sheet, f.cell) for f in notes] in ([], [(INFO, None, None)])
    assert [t for t in flat(resaved.findings) if t[0] != UNCACHED_NOTE] == flat(original.findings)


# --------------------------------------------------------------------------- one damage, its findings


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Mutation
    added: list[Flat]
    removed: list[Flat] = field(default_factory=list)
    says: dict[str, tuple[str, ...]] = field(default_factory=dict)  # rule -> text its message quotes
    facts: dict[str, Any] | None = field(default_factory=dict)  # field -> value read (None: blank)


def _set(fid: str, value: Any) -> Mutation:
    return lambda src, dst: m.set_field(src, dst, fid, value)


def _fields(values: dict[str, Any]) -> Mutation:
    return lambda src, dst: m.set_fields(src, dst, values)


FIN, BASIS, SCORES, PERF, BASIC, REPORT = "收支情况", "评分依据", "评分表", "绩效自评", "基本概况", "评价报告"

CASES = [
    # ---- formula cells typed over or rewritten
    Case(
        "收入合计-typed-right-value",
        _set("income.org.total", 259.99),
        [("formula.overwritten", WARNING, FIN, "B7")],
        says={"formula.overwritten": ("收支情况!B7", "收入合计", "259.99", "公式")},
    ),
    Case(
        "收入合计-typed-wrong-value",
        _set("income.org.total", 300),
        [("identity.income.total", ERROR, FIN, "B7"), ("formula.overwritten", WARNING, FIN, "B7")],
        says={"identity.income.total": ("收支情况!B7", "300", "259.99", "40.01")},
    ),
    Case(
        "收入合计-other-formula",
        _set("income.org.total", "=C7+D7"),
        [("formula.changed", WARNING, FIN, "B7")],
        says={"formula.changed": ("收支情况!B7", "=C7+D7", "=C7+D7+E7+F7+G7")},
    ),
    Case(
        "收入合计-same-formula-respelled", _set("income.org.total", "=$C$7 + $D$7 + $E$7 + $F$7 + $G$7"), []
    ),
    Case(
        "收入合计-cleared",
        _set("income.org.total", None),
        [("identity.income.total", ERROR, FIN, "B7"), ("formula.overwritten", WARNING, FIN, "B7")],
        says={"identity.income.total": ("收支情况!B7", "259.99")},
    ),
    Case(
        "综合得分-typed",
        _set("perf.total", 95),
        [("perf.total", ERROR, PERF, "D25"), ("formula.overwritten", WARNING, PERF, "D25")],
        says={"perf.total": ("绩效自评!D25", "95", "98")},
    ),
    Case(
        "自评总分-typed",
        _set("total.self", 100),
        [("total.self", ERROR, SCORES, "F28"), ("formula.overwritten", WARNING, SCORES, "F28")],
        says={"total.self": ("评分表!F28", "100", "98")},
    ),
    Case(
        "评价等次-typed",
        _set("grade.self", "良好"),
        [("grade.self", ERROR, SCORES, "F29"), ("formula.overwritten", WARNING, SCORES, "F29")],
        says={"grade.self": ("评分表!F29", "良好", "优秀")},
    ),
    Case(
        "综合等次-typed",
        _set("perf.grade", "差"),
        [("perf.grade", ERROR, PERF, "D26"), ("formula.overwritten", WARNING, PERF, "D26")],
        says={"perf.grade": ("绩效自评!D26", "差", "优秀")},
    ),
    Case(
        "汇总行-typed",
        _set("income.total.fiscal", 999),
        [("sum.income.fiscal", ERROR, FIN, "D6"), ("formula.overwritten", WARNING, FIN, "D6")],
        says={"sum.income.fiscal": ("收支情况!D6", "999", "256.32", "742.68")},
    ),
    Case(
        "小计-typed",
        _set("group.1.1.self", 1),
        [("subtotal.self", ERROR, SCORES, "F33"), ("formula.overwritten", WARNING, SCORES, "F33")],
        says={"subtotal.self": ("评分表!F33", "1", "15")},
    ),
    Case(
        "参考小计-typed",
        _set("group.1.1.ref", 1),
        [("subtotal.ref", WARNING, SCORES, "G33"), ("formula.overwritten", WARNING, SCORES, "G33")],
        says={"subtotal.ref": ("评分表!G33", "1", "15")},
    ),
    Case(
        "参考总分-typed",
        _set("total.ref", 50),
        [("total.ref", WARNING, SCORES, "G28"), ("formula.overwritten", WARNING, SCORES, "G28")],
        says={"total.ref": ("评分表!G28", "50", "97")},
    ),
    Case(
        "参考等次-typed",
        _set("grade.ref", "差"),
        [("grade.ref", WARNING, SCORES, "G29"), ("formula.overwritten", WARNING, SCORES, "G29")],
        says={"grade.ref": ("评分表!G29", "差", "优秀")},
    ),
    Case(
        "参考得分-typed-wrong",
        _set("score.P3.ref", 3),
        [("formula.overwritten", WARNING, SCORES, "G8"), ("ref.P3", WARNING, SCORES, "G8")],
        says={"ref.P3": ("评分表!G8", "3", "2")},
    ),
    Case("参考得分-typed-right", _set("score.P3.ref", 2), [("formula.overwritten", WARNING, SCORES, "G8")]),
    # ---- text typed where a number belongs
    Case(
        "amount-with-万元",
        _set("income.org.fiscal", "256.32万元"),
        [("input.text_number", WARNING, FIN, "D7")],
        says={"input.text_number": ("收支情况!D7", "256.32万元")},
        facts={"income.org.fiscal": D("256.32")},
    ),
    Case(
        # an explicit unit is exact: 2563200 元 is 256.32 万元, converted and said (not read as 万元)
        "amount-with-元",
        _set("income.org.fiscal", "2563200元"),
        [("input.yuan", WARNING, FIN, "D7")],
        says={"input.yuan": ("收支情况!D7", "2563200元", "256.32 万元", "÷10000")},
        facts={"income.org.fiscal": D("256.32")},
    ),
    Case(
        "amount-full-width",
        _set("income.org.fiscal", "２５６．３２"),
        [("input.text_number", WARNING, FIN, "D7")],
        says={"input.text_number": ("收支情况!D7", "全角")},
        facts={"income.org.fiscal": D("256.32")},
    ),
    Case(
        "amount-dash-means-none",
        _set("sangong.org.vehicle_ops", "—"),
        [("input.normalized", INFO, FIN, "D24")],
        says={"input.normalized": ("收支情况!D24", "空白")},
        facts={"sangong.org.vehicle_ops": None},
    ),
    Case(
        "amount-in-words",
        _set("basis.econ_capital", "约二百万"),
        [("input.invalid", ERROR, BASIS, "B37")],
        says={"input.invalid": ("评分依据!B37", "约二百万", "阿拉伯数字")},
        facts={"basis.econ_capital": None},
    ),
    Case(
        "amount-thousands-separator",
        _set("assets.org.in_use", "1,234.5"),
        [("input.text_number", WARNING, FIN, "C32")],
        facts={"assets.org.in_use": D("1234.5")},
    ),
    Case(
        "amount-full-width-comma",
        _set("assets.org.in_use", "1，234.5"),
        [("input.text_number", WARNING, FIN, "C32")],
        facts={"assets.org.in_use": D("1234.5")},
    ),
    Case(
        "percent-as-fraction",
        _set("basis.satisfaction", 0.95),
        [("input.normalized", INFO, BASIS, "B16")],
        says={"input.normalized": ("评分依据!B16", "0.95", "95%")},
        facts={"basis.satisfaction": D(95)},
    ),
    Case(
        "percent-over-100",
        _set("basis.satisfaction", 120),
        [("input.range", ERROR, BASIS, "B16")],
        says={"input.range": ("评分依据!B16", "120", "100")},
        facts={"basis.satisfaction": D(120)},
    ),
    Case(
        "percent-as-text",
        _set("basis.satisfaction", "95%"),
        [("input.text_number", WARNING, BASIS, "B16")],
        facts={"basis.satisfaction": D(95)},
    ),
    Case(
        "percent-full-width-sign",
        _set("basis.satisfaction", "95％"),
        [("input.text_number", WARNING, BASIS, "B16")],
        facts={"basis.satisfaction": D(95)},
    ),
    Case(
        "score-with-分",
        _set("score.P4.self", "6分"),
        [("input.text_number", WARNING, SCORES, "F9")],
        facts={"score.P4.self": D(6)},
    ),
    Case(
        "people-with-人",
        _set("unit.staff_actual", "10人"),
        [("input.text_number", WARNING, BASIC, "D5")],
        facts={"unit.staff_actual": D(10)},
    ),
    Case(
        "yes-as-tick",
        _set("basis.p5_1", "√"),
        [("input.normalized", INFO, BASIS, "B18")],
        facts={"basis.p5_1": "是"},
    ),
    Case(
        "formula-error-value-typed",
        _set("basis.econ_goods", "#DIV/0!"),
        [("input.invalid", ERROR, BASIS, "B36")],
        facts={"basis.econ_goods": None},
        says={"input.invalid": ("#DIV/0!",)},
    ),
    # ---- required cells left blank
    Case(
        "self-score-blank",
        _set("score.P4.self", None),
        [("score.P4.blank", ERROR, SCORES, "F9")],
        says={"score.P4.blank": ("评分表!F9", "未填写", "0 分")},
        facts={"score.P4.self": None},
    ),
    Case(
        "basis-amount-blank",
        _set("basis.card_due", None),
        [("input.blank", WARNING, BASIS, "B13"), ("score.P9.zero", INFO, SCORES, "F14")],
        says={"input.blank": ("评分依据!B13", "公务卡应刷卡金额", "未填写")},
        facts={"basis.card_due": None},
    ),
    Case(
        # blank is not 否: the three answers are asked for, P5 cannot be checked until then
        "checklist-left-blank",
        _fields({"basis.p5_1": None, "basis.p5_2": None, "basis.p5_3": None}),
        [
            ("input.blank", WARNING, BASIS, "B18"),
            ("input.blank", WARNING, BASIS, "B19"),
            ("input.blank", WARNING, BASIS, "B20"),
            ("score.P5.unanswered", WARNING, SCORES, "F10"),
        ],
        says={"score.P5.unanswered": ("①、②、③", "未填写", "无法复核"), "input.blank": ("空白不等于“否”",)},
        facts={"basis.p5_1": None, "basis.p5_2": None, "basis.p5_3": None},
    ),
    Case(
        # ① and ③ 否, ② blank: P5 is 0 or 1 whatever ② says, so a self-score of 3 is wrong either way
        "checklist-blank-cannot-reach-self-score",
        _fields({"basis.p5_1": "否", "basis.p5_2": None, "basis.p5_3": "否"}),
        [("input.blank", WARNING, BASIS, "B19"), ("score.P5", ERROR, SCORES, "F10")],
        says={"score.P5": ("最多 1 分", "② 未填写")},
        facts={"basis.p5_1": "否", "basis.p5_2": None, "basis.p5_3": "否"},
    ),
    # ---- self-scores
    Case(
        "self-score-over-max",
        _set("score.P4.self", 7),
        [("score.P4.range", ERROR, SCORES, "F9")],
        says={"score.P4.range": ("评分表!F9", "7", "6")},
        facts={"score.P4.self": D(7)},
    ),
    Case(
        "judgement-deducted-without-reason",
        _set("score.O1.self", 4),
        [("score.O1.reason", WARNING, SCORES, "F18")],
        says={"score.O1.reason": ("评分表!F18", "4", "5", "扣分原因")},
        facts={"score.O1.self": D(4)},
    ),
    Case(
        "judgement-deducted-with-reason",
        _fields({"score.O1.self": 4, "score.O1.note": "两项任务跨年完成"}),
        [],
        facts={"score.O1.self": D(4), "score.O1.note": "两项任务跨年完成"},
    ),
    Case(
        "judgement-deducted-blank-reason",
        _fields({"score.O1.self": 4, "score.O1.note": "   "}),
        [("score.O1.reason", WARNING, SCORES, "F18")],
        facts={"score.O1.self": D(4)},
    ),
    Case(
        "rule-deducted-without-reason",
        _set("score.P5.self", 2),
        [("score.P5", ERROR, SCORES, "F10"), ("score.P5.reason", WARNING, SCORES, "F10")],
        says={"score.P5": ("评分表!F10", "2", "3")},
        facts={"score.P5.self": D(2)},
    ),
    # ---- 元 instead of 万元
    Case(
        "all-amounts-in-元",
        lambda src, dst: m.scale_amounts(src, dst, 10000),
        [
            ("plausible.yuan", ERROR, FIN, "D7"),
            ("plausible.per_capita", WARNING, FIN, "B15"),
            ("plausible.yuan", ERROR, FIN, "D16"),
            ("plausible.yuan", ERROR, FIN, "E16"),
            ("plausible.yuan", ERROR, BASIS, "B6"),
            ("plausible.yuan", ERROR, BASIS, "B34"),
            ("plausible.yuan", ERROR, BASIS, "B36"),
            # the report, still in 万元, now disagrees with every table figure it states
            *[("narrative.figure", WARNING, REPORT, "B11")] * 5,
            *[("narrative.figure", WARNING, REPORT, "B15")] * 8,
        ],
        says={
            "plausible.per_capita": ("收支情况!B15", "2567000", "256700", "元"),
            "plausible.yuan": ("疑似以元填报，需核实", "不计入全区收支汇总"),
            "narrative.figure": ("万元”与", "00.00 万元不一致", "报表是否按元填写"),
        },
        facts=None,
    ),
    Case(
        "one-amount-in-元",
        _set("basis.sangong_budget", 48600),
        [
            ("plausible.scale", WARNING, BASIS, "B5"),
            ("narrative.figure", WARNING, REPORT, "B15"),  # “财政下达控制数为4.86万元”
            ("narrative.share", WARNING, REPORT, "B15"),  # “完成财政下达控制数的98.56%”
        ],
        says={
            "plausible.scale": ("评分依据!B5", "48600", "4.79"),
            "narrative.figure": ("“控制数为4.86万元”", "48600.00 万元", "报表是否按元填写"),
        },
        facts={"basis.sangong_budget": D(48600)},
    ),
    # ---- layout and identity that still check
    Case("no-defined-names", m.remove_defined_names, [("layout.by_label", INFO, None, None)]),
    Case(  # as a return of form version 1, made before the sheet existed: complete without it
        "评价报告-deleted",
        lambda src, dst: m.delete_sheet(src, dst, REPORT),
        [("narrative.missing", INFO, REPORT, None)],
        says={"narrative.missing": ("评价报告", "旧版模板", "未核对")},
        facts=None,
    ),
    Case(
        "sheet-renamed",
        lambda src, dst: m.rename_sheet(src, dst, FIN, "Sheet3"),
        [("layout.by_label", INFO, None, None), ("layout.sheet_renamed", WARNING, "Sheet3", None)],
        says={"layout.sheet_renamed": ("收支情况", "Sheet3")},
    ),
    Case(
        # openpyxl inserts the row without rewriting a single formula, as no spreadsheet program does:
        # every formula reading a cell below row 6 of 评分依据 now reads the wrong one, and says so
        "row-inserted-in-评分依据-names-dropped",
        lambda src, dst: m.remove_defined_names(m.insert_rows(src, dst.with_name("ins.xlsx"), BASIS, 6), dst),
        [
            ("layout.by_label", INFO, None, None),
            ("layout.rows_moved", WARNING, BASIS, None),
            *[("formula.changed", WARNING, BASIS, f"B{r}") for r in (42, 43, 46, 47, 49)],
            *[("formula.changed", WARNING, SCORES, f"G{r}") for r in (*range(3, 18), 27)],
            *[("formula.changed", WARNING, REPORT, f"B{r}") for r in (14, 17, 21, 24)],  # its drafts
        ],
        says={"formula.changed": ("应为",)},
    ),
    Case(
        # unprotected (there is no password) and retyped, defined names intact: still the same row
        "row-label-retyped-names-intact",
        lambda src, dst: m.set_cells(src, dst, {(FIN, "A7"): "局机关本级"}),
        [("layout.label_changed", INFO, FIN, "A7")],
        says={"layout.label_changed": ("1、局机关", "局机关本级")},
    ),
    Case(
        "row-label-cleared-names-intact",
        lambda src, dst: m.set_cells(src, dst, {(BASIS, "A6"): None}),
        [("layout.label_changed", INFO, BASIS, "A6")],
        says={"layout.label_changed": ("年初预算数", "删除")},
    ),
    Case("instructions-sheet-deleted", lambda src, dst: m.delete_sheet(src, dst, "填报说明"), []),
    Case("meta-sheet-plain-hidden", m.hide_meta_sheet, []),
    Case(
        "meta-sheet-deleted-properties-kept",
        lambda src, dst: m.strip_metadata(src, dst, properties=False),
        [],
    ),
    Case("meta-properties-deleted-sheet-kept", lambda src, dst: m.strip_metadata(src, dst, sheet=False), []),
    Case(
        "fingerprint-changed",
        lambda src, dst: m.set_meta(src, dst, "fingerprint", "0123456789ab"),
        [("layout.fingerprint", WARNING, m.META_SHEET, None)],
    ),
    Case(
        "unit-name-changed",
        _set("unit.name", "君山区财政局"),
        [("meta.unit", WARNING, BASIC, "B2")],
        says={"meta.unit": ("君山区财政局", "岳阳市君山区信访局", "以模板为准")},
        facts={"unit.name": "君山区财政局"},
    ),
    Case(
        "year-changed",
        _set("unit.year", 2021),
        [("meta.year", WARNING, BASIC, "D3")],
        says={"meta.year": ("2021", "2020")},
        facts={"unit.year": D(2021)},
    ),
    Case(
        "code-changed",
        _set("unit.code", "430611-JYJ"),
        [("meta.code", WARNING, BASIC, "B3")],
        says={"meta.code": ("430611-JYJ", "430611-XFJ")},
        facts={"unit.code": "430611-JYJ"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_damage(case: Case, broken: Callable[[Mutation], CheckResult], ref: Ref) -> None:
    result = broken(case.mutate)
    assert result.status != "unusable", result.reason
    assert ref.delta(result) == (sorted(case.added, key=_key), sorted(case.removed, key=_key))
    assert result.status == ("errors" if errors(result) else "ok")
    assert result.exit_code == (1 if errors(result) else 0)
    for f in ref.added(result):
        assert f.message and f.message.strip() == f.message
        if f.cell:
            assert f"{f.sheet}!{f.cell}" in f.message, f.message
        for text in case.says.get(f.rule, ()):
            assert text in f.message, (text, f.message)
    assert set(case.says) <= {f.rule for f in ref.added(result)}
    if case.facts is not None:
        expected = {**ref.result.facts, **case.facts}
        assert result.facts == {k: v for k, v in expected.items() if v is not None}


# --------------------------------------------------------------------------- messages and misreadings


def test_typed_identity_never_reassigns_the_return(
    broken: Callable[[Mutation], CheckResult], ref: Ref
) -> None:
    """Another unit's name, code and year typed into 基本概况: a 警告 at each cell, and the return still
    counts as the unit and year the template was issued for (the metadata is the identity)."""
    typed = {"unit.name": "岳阳市君山区教育局", "unit.code": "430611-JYJ", "unit.year": 2021}
    result = broken(_fields(typed))
    assert (result.unit, result.code, result.year) == ("岳阳市君山区信访局", "430611-XFJ", 2020)
    assert ref.delta(result) == (
        [
            ("meta.code", WARNING, BASIC, "B3"),
            ("meta.unit", WARNING, BASIC, "B2"),
            ("meta.year", WARNING, BASIC, "D3"),
        ],
        [],
    )


def test_root_cause_comes_first_and_its_consequences_point_to_it(
    broken: Callable[[Mutation], CheckResult],
) -> None:
    """收入合计 typed over with 300: the 警告 that says so is listed before the 错误 it causes (the row's
    identity no longer holds), and the 错误 names it, in the message and in the JSON's ``cause``."""
    result = broken(_set("income.org.total", 300))
    rules = [f.rule for f in result.findings]
    assert rules.index("formula.overwritten") < rules.index("identity.income.total")
    n = rules.index("identity.income.total")
    consequence = result.findings[n]
    assert consequence.cause is not None and result.findings[consequence.cause].rule == "formula.overwritten"
    assert "（起因：收支情况!B7 公式被改为固定数值）" in consequence.message
    assert result.to_json()["findings"][n]["cause"] == consequence.cause
    p3 = next(f for f in result.findings if f.rule == "score.P3")
    assert p3.cause is None  # the unit's own self-score is no consequence of the typed total


def test_cleared_formula_says_so(broken: Callable[[Mutation], CheckResult]) -> None:
    f = _only(broken(_set("income.org.total", None)), "formula.overwritten")
    assert "“”" not in f.message
    assert any(word in f.message for word in ("空白", "删除", "清除")), f.message


def test_overall_score_message_is_not_self_contradicting(broken: Callable[[Mutation], CheckResult]) -> None:
    f = _only(broken(_set("perf.total", 95)), "perf.total")
    assert "与评分表一致，应为" not in f.message
    assert "95" in f.message and "98" in f.message and "评分表" in f.message


UNREADABLE = [
    pytest.param("score.P4.self", "满分", id="self-score-in-words"),
    pytest.param("basis.p5_1", "对", id="yesno-other-word"),
    pytest.param("assets.org.in_use", "69,54", id="decimal-comma"),
    pytest.param("income.org.other", "约二百万", id="words-in-optional-cell"),
]


@pytest.mark.parametrize(("fid", "typed"), UNREADABLE)
def test_unreadable_entry_is_one_finding(
    fid: str, typed: str, broken: Callable[[Mutation], CheckResult]
) -> None:
    result = broken(_set(fid, typed))
    sheet, cell = m.field_ref(fid)
    invalid = _only(result, "input.invalid")
    assert (invalid.severity, invalid.sheet, invalid.cell, invalid.reported) == (ERROR, sheet, cell, typed)
    assert f"{sheet}!{cell}" in invalid.message and typed in invalid.message
    blank = [
        f
        for f in result.findings
        if "未填写" in f.message and f.sheet == sheet and (f.cell == cell or f.rule == "input.table_blank")
    ]
    assert blank == [], [f.message for f in blank]


def test_year_with_unit_is_read(broken: Callable[[Mutation], CheckResult], ref: Ref) -> None:
    result = broken(_set("unit.year", "2020年"))
    # the year feeds the 评价报告's drafts, which take “2020年” for no year: a 警告, not a 提示
    assert ref.delta(result) == ([("input.text_number", WARNING, BASIC, "D3")], [])
    assert result.facts["unit.year"] == D(2020)


def test_number_stored_as_text_is_noted(broken: Callable[[Mutation], CheckResult], ref: Ref) -> None:
    result = broken(_set("income.org.fiscal", "256.32"))
    assert result.facts["income.org.fiscal"] == D("256.32")
    f = _only(result, "input.text_number", "D7")
    assert "文本" in f.message and f.severity == WARNING


# --------------------------------------------------------------------------- rows inserted or deleted


INCOME_SUB2_ROW = 9  # 收支情况, 年度收入情况: “3、二级机构2”
BASIS_ROW = 6  # 评分依据: before 年初预算数


def _delete_sub2(src: Path, dst: Path) -> Path:
    return m.delete_rows(src, dst, FIN, INCOME_SUB2_ROW)


def _insert_basis(src: Path, dst: Path) -> Path:
    return m.insert_rows(src, dst, BASIS, BASIS_ROW)


def _no_names(mutation: Mutation) -> Mutation:
    return lambda src, dst: m.remove_defined_names(mutation(src, dst.with_name("step.xlsx")), dst)


ROW_EDITS = [
    pytest.param(
        _delete_sub2,
        FIN,
        "3、二级机构2",
        id="delete-income-row-stale-names",
    ),
    pytest.param(
        _no_names(_delete_sub2),
        FIN,
        "3、二级机构2",
        id="delete-income-row-no-names",
    ),
    pytest.param(_insert_basis, BASIS, None, id="insert-basis-row-stale-names"),
    pytest.param(_no_names(_insert_basis), BASIS, None, id="insert-basis-row-no-names"),
]


@pytest.mark.parametrize(("mutation", "sheet", "deleted_label"), ROW_EDITS)
def test_rows_moved(
    mutation: Mutation,
    sheet: str,
    deleted_label: str | None,
    broken: Callable[[Mutation], CheckResult],
    ref: Ref,
) -> None:
    result = broken(mutation)
    assert result.status != "unusable"
    added, removed = ref.delta(result)
    assert ("layout.rows_moved", WARNING, sheet, None) in added
    assert ("layout.by_label", INFO, None, None) in added
    assert removed == []
    # A deleted row may be reported as missing; nothing else may become an error.
    missing = [f for f in ref.added(result) if f.rule == "layout.label_missing"]
    assert all(deleted_label and deleted_label in f.message for f in missing), [f.message for f in missing]
    assert [t for t in added if t[1] == ERROR and t[0] != "layout.label_missing"] == []
    # Every value that is still in the workbook is read as before.
    lost = {f"income.sub2.{c}" for c in ("carryover", "fiscal", "fund", "special", "other")}
    assert {k: v for k, v in result.facts.items() if k not in lost} == {
        k: v for k, v in ref.result.facts.items() if k not in lost
    }


def test_edited_label_loses_only_its_row(broken: Callable[[Mutation], CheckResult], ref: Ref) -> None:
    result = broken(_no_names(lambda src, dst: m.set_cells(src, dst, {(FIN, "A16"): "局机关"})))
    missing = [f for f in result.findings if f.rule == "layout.label_missing"]
    assert len(missing) <= 1 and all("1、局机关" in f.message for f in missing)
    for prefix in ("income.", "sangong.", "assets."):
        assert {k: v for k, v in result.facts.items() if k.startswith(prefix)} == {
            k: v for k, v in ref.result.facts.items() if k.startswith(prefix)
        }
    lower_tables = [
        f for f in ref.added(result) if f.sheet == FIN and f.cell and int(re.sub(r"\D", "", f.cell)) >= 20
    ]
    assert lower_tables == []


# --------------------------------------------------------------------------- whole sheets deleted


SHEETS = ["基本概况", "收支情况", "评分依据", "绩效自评", "评价人员", "评分表"]


def _delete_sheet(sheet: str) -> Mutation:
    return lambda src, dst: m.delete_sheet(src, dst, sheet)


@pytest.mark.parametrize("sheet", SHEETS)
def test_sheet_deleted(sheet: str, broken: Callable[[Mutation], CheckResult]) -> None:
    result = broken(_delete_sheet(sheet))
    assert result.status == "errors" and result.exit_code == 1
    f = _only(result, "layout.sheet_missing")
    assert (f.severity, f.sheet) == (ERROR, sheet) and sheet in f.message


@pytest.mark.parametrize("sheet", SHEETS)
def test_sheet_deleted_adds_no_consequential_findings(
    sheet: str, broken: Callable[[Mutation], CheckResult], ref: Ref
) -> None:
    result = broken(_delete_sheet(sheet))
    added, _removed = ref.delta(result)
    assert [t for t in added if t[1] == ERROR] == [("layout.sheet_missing", ERROR, sheet, None)]
    on_sheet = [t for t in flat(own(result)) if t[2] == sheet]
    assert on_sheet == [("layout.sheet_missing", ERROR, sheet, None)]


# --------------------------------------------------------------------------- not checkable at all


def _meta(key: str, value: str) -> Mutation:
    return lambda src, dst: m.set_meta(src, dst, key, value)


def _bytes(maker: Callable[[Path], Path]) -> Mutation:
    return lambda src, dst: maker(dst)


def _truncated(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


UNUSABLE = [
    pytest.param(
        _meta("edition", "guangdong-2030"), ("guangdong-2030", "版本", "hunan-2020"), id="unknown-edition"
    ),
    pytest.param(_meta("form_version", "99"), ("v99", "升级"), id="newer-form-version"),
    pytest.param(_meta("rubric_version", "99"), ("v99", "升级"), id="newer-rubric-version"),
    pytest.param(_meta("form_version", "abc"), ("损坏",), id="corrupt-form-version"),
    pytest.param(_meta("options", "{bad json"), ("损坏",), id="corrupt-options"),
    pytest.param(m.strip_metadata, ("不是 perfxl 生成",), id="metadata-deleted"),
    pytest.param(_bytes(m.text_as_xlsx), ("xlsx",), id="text-renamed-xlsx"),
    pytest.param(_bytes(m.empty_file), ("空", "0 字节"), id="empty-file"),
    pytest.param(_bytes(m.zip_not_xlsx), ("xlsx",), id="zip-not-xlsx"),
    pytest.param(_bytes(m.old_xls), (".xls", "另存为 .xlsx"), id="old-xls-header"),
    pytest.param(_truncated, ("xlsx",), id="truncated-download"),
]


@pytest.mark.parametrize(("mutation", "says"), UNUSABLE)
def test_unusable(
    mutation: Mutation, says: tuple[str, ...], broken: Callable[[Mutation], CheckResult]
) -> None:
    result = broken(mutation)
    assert (result.status, result.exit_code) == ("unusable", 2)
    assert result.reason and re.search(r"[\u4e00-\u9fff]", result.reason)
    for text in says:
        assert text in result.reason, (text, result.reason)
    assert flat(result.findings) == [("file.unusable", ERROR, None, None)]
    assert "broken.xlsx" in result.findings[0].message and result.reason in result.findings[0].message
    assert result.items == [] and result.recomputed_total is None


def test_empty_file_says_empty(broken: Callable[[Mutation], CheckResult]) -> None:
    assert "空" in (broken(_bytes(m.empty_file)).reason or "")


def test_corrupt_options_reason_is_chinese(broken: Callable[[Mutation], CheckResult]) -> None:
    reason = broken(_meta("options", "{bad json")).reason or ""
    assert not re.search(r"[A-Za-z]{4,}", reason), reason


# --------------------------------------------------------------------------- re-saved by LibreOffice


LO_SOURCES: dict[str, Mutation] = {
    "lo_intact": m.copy,
    "lo_meta_hidden": m.hide_meta_sheet,
    "lo_wanyuan": _set("income.org.fiscal", "256.32万元"),
    "lo_fullwidth": _set("income.org.fiscal", "２５６．３２"),
}

_skip_without_lo = pytest.mark.skipif(not soffice_available(), reason="soffice (LibreOffice) not on PATH")


def lo_test(fn: Callable[..., None]) -> Callable[..., None]:
    """A test that needs LibreOffice: marked ``libreoffice`` and skipped where soffice is absent."""
    return pytest.mark.libreoffice(_skip_without_lo(fn))


@pytest.fixture(scope="module")
def lo(good: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every LibreOffice case, converted by one soffice run (recalculated on load, saved as .xlsx)."""
    src_dir = tmp_path_factory.mktemp("lo_src")
    sources = {
        name: make(m.copy(good, src_dir / "good.xlsx"), src_dir / f"{name}.xlsx")
        for name, make in LO_SOURCES.items()
    }
    (src_dir / "good.xlsx").unlink()
    out = recalc_many(list(sources.values()), tmp_path_factory.mktemp("lo_out"))
    return {name: out[path] for name, path in sources.items()}


def _sheet_state(path: Path, sheet: str) -> str:
    with m.quiet():
        wb = openpyxl.load_workbook(path)
    try:
        return str(wb[sheet].sheet_state)
    finally:
        wb.close()


@lo_test
@pytest.mark.parametrize("name", ["lo_intact", "lo_meta_hidden"])
def test_libreoffice_resave_checks_like_original(
    name: str, lo: dict[str, Path], original: CheckResult
) -> None:
    path = lo[name]
    assert _sheet_state(path, m.META_SHEET) == "hidden"  # LibreOffice does not keep veryHidden
    result = check_file(path)
    assert flat(result.findings) == flat(original.findings)
    assert (result.status, result.exit_code) == (original.status, original.exit_code)
    assert result.facts == original.facts
    assert [(i.id, i.self, i.recomputed) for i in result.items] == [
        (i.id, i.self, i.recomputed) for i in original.items
    ]


@lo_test
@pytest.mark.parametrize("name", ["lo_wanyuan", "lo_fullwidth"])
def test_libreoffice_text_number_is_one_finding(
    name: str, lo: dict[str, Path], original: CheckResult
) -> None:
    result = check_file(lo[name])
    assert result.facts["income.org.fiscal"] == D("256.32")
    new = list((Counter(flat(result.findings)) - Counter(flat(original.findings))).elements())
    assert [t for t in new if t[3] != "D7"] == []  # nothing but the cell itself
    assert len(new) == 1 and new[0][0] == "input.text_number" and new[0][1] == WARNING


@lo_test
def test_libreoffice_error_value_is_not_reported_as_blank(lo: dict[str, Path]) -> None:
    """After recalculation B7 shows #VALUE! (text in D7): one finding at D7, none “空白” downstream."""
    result = check_file(lo["lo_wanyuan"])
    assert not [f for f in result.findings if f.cell == "B7"]
    assert not [f for f in result.findings if "空白" in f.message and f.sheet == FIN]
    assert _only(result, "input.text_number", "D7").severity == WARNING


# --------------------------------------------------------------------------- rows inserted in LibreOffice


def _unprotected(sheet: str, *steps: list[Any]) -> list[list[Any]]:
    """A user's steps: unprotect the sheet (there is no password), then edit it."""
    return [["unprotect", sheet], *steps]


LO_EDITS: dict[str, list[list[Any]]] = {
    # one more row inside the income table (between 二级机构1 and 二级机构2), left blank
    "insert-blank-row-in-table": _unprotected(FIN, ["insert_rows", FIN, INCOME_SUB2_ROW, 1]),
    # a blank row between the income table and the next one
    "insert-row-between-tables": _unprotected(FIN, ["insert_rows", FIN, INCOME_SUB2_ROW + 1, 1]),
    # two rows near the top of 评分依据: every metric formula and the 评分表 formulas that read it move
    "insert-rows-in-basis": _unprotected(BASIS, ["insert_rows", BASIS, BASIS_ROW, 2]),
    # one more 二级机构 row, filled in: the 汇总 formulas now add up a row the template does not have
    "insert-filled-sub-row": _unprotected(
        FIN,
        ["insert_rows", FIN, INCOME_SUB2_ROW, 1],
        ["set", FIN, f"A{INCOME_SUB2_ROW}", "3、二级机构3"],
        ["set", FIN, f"D{INCOME_SUB2_ROW}", 12.5],
        ["set", FIN, f"B{INCOME_SUB2_ROW}", f"=SUM(C{INCOME_SUB2_ROW}:G{INCOME_SUB2_ROW})"],
    ),
}

_skip_without_uno = pytest.mark.skipif(uno_python() is None, reason="no Python with LibreOffice's uno module")


@pytest.fixture(scope="module")
def lo_edited(good: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every LibreOffice edit, made by one headless LibreOffice."""
    out = tmp_path_factory.mktemp("lo_edited")
    jobs = [(good, out / f"{name}.xlsx", steps) for name, steps in LO_EDITS.items()]
    edit_many(jobs)
    return {name: out / f"{name}.xlsx" for name in LO_EDITS}


@pytest.mark.libreoffice
@_skip_without_uno
@pytest.mark.parametrize(
    "name", ["insert-blank-row-in-table", "insert-row-between-tables", "insert-rows-in-basis"]
)
def test_rows_inserted_in_libreoffice_change_nothing(
    name: str, lo_edited: dict[str, Path], original: CheckResult
) -> None:
    """Formulas are compared by the cells they read, so the references LibreOffice rewrote are no
    “公式被改动”; names moved with their cells, so nothing needs locating by label either."""
    result = check_file(lo_edited[name])
    assert flat(result.findings) == flat(original.findings)
    assert result.facts == original.facts
    assert (result.reported_total, result.recomputed_total) == (
        original.reported_total,
        original.recomputed_total,
    )


@pytest.mark.libreoffice
@_skip_without_uno
def test_filled_extra_row_is_named_where_it_is_summed(lo_edited: dict[str, Path], ref: Ref) -> None:
    """A row the template does not have, with 12.5 in it: the 汇总 formulas that add it up now compute
    something else (it is named), the 汇总 no longer equals the rows we check (an 错误), and the
    columns where the new row is blank stay quiet."""
    result = check_file(lo_edited["insert-filled-sub-row"])
    added, removed = ref.delta(result)
    assert removed == []
    assert sorted(added) == sorted(
        [
            ("formula.changed", WARNING, FIN, "B6"),
            ("formula.changed", WARNING, FIN, "D6"),
            ("sum.income.total", ERROR, FIN, "B6"),
            ("sum.income.fiscal", ERROR, FIN, "D6"),
        ]
    )
    changed = _only(result, "formula.changed", "D6")
    assert "D9" in changed.message and "模板之外" in changed.message


def corpus() -> dict[str, Mutation]:
    """Every damage of this module's tables, by name (tests/test_catalogue.py checks what each emits)."""
    out = {c.id: c.mutate for c in CASES}
    out |= {p.id: _set(*p.values) for p in UNREADABLE}
    out |= {p.id: p.values[0] for p in ROW_EDITS}
    out |= {f"delete-{sheet}": _delete_sheet(sheet) for sheet in SHEETS}
    out |= {p.id: p.values[0] for p in UNUSABLE}
    return out


def test_mutations_never_touch_the_good_return(good: Path, tmp_path: Path) -> None:
    before = good.read_bytes()
    m.delete_rows(good, tmp_path / "a.xlsx", FIN, INCOME_SUB2_ROW)
    m.strip_metadata(good, tmp_path / "b.xlsx")
    m.scale_amounts(good, tmp_path / "c.xlsx")
    assert good.read_bytes() == before
