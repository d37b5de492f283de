"""The findings catalogue: lookups; what the checker emits against it; the README table and titles.

The corpus is every broken return of ``tests/test_check_broken.py``, the sample workbooks and the
edge cases of ``tests/inputgen.py``: each id it emits must be catalogued with the severity it is
emitted with, and each entry must be emitted by some case (or be listed in ``NOT_REACHED``).

After an intended change of the catalogue, regenerate README.md's rule table with
``PERFXL_UPDATE_README=1 python -m pytest tests/test_catalogue.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import mutate as m
import pytest
import test_check_broken as broken
from inputgen import named_edge_cases

from perfxl.batch.consolidate import rule_title
from perfxl.check import check_file
from perfxl.check.formula_cells import _formula_rule
from perfxl.engine.catalogue import CATALOGUE, UncataloguedRule, entry, finding, markdown_table
from perfxl.engine.findings import ERROR, INFO, WARNING, Finding
from perfxl.engine.layout import build_plan
from perfxl.form.template import write_template
from perfxl.spec import Edition, available_editions, load_edition

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "data" / "mini-2099"

# --------------------------------------------------------------------------- lookup


def test_patterns_match_one_segment_each() -> None:
    assert entry("score.P3").pattern == "score.<ID>"
    assert entry("score.P3.range").pattern == "score.<ID>.range"
    assert entry("identity.income.total").pattern == "identity.<表>.<列>"
    assert entry("identity.econ.personnel").pattern == "identity.econ.personnel"  # exact ids come first
    assert entry("sum.income.total").segments("sum.income.total") == {"表": "income", "列": "total"}
    assert entry("total.self").segments("total.self") == {}


def test_one_id_two_severities_are_two_entries() -> None:
    assert (entry("score.P4.blank").severity, entry("input.blank").severity) == (ERROR, WARNING)
    for family in ("total", "subtotal", "grade"):
        assert (entry(f"{family}.self").severity, entry(f"{family}.ref").severity) == (ERROR, WARNING)
    assert (entry("score.P3.reading").severity, entry("score.P3.reason").severity) == (INFO, WARNING)


def test_patterns_do_not_overlap() -> None:
    """No id falls under two patterns, so the catalogue's order never matters (exact ids come first)."""
    patterns = [e for e in CATALOGUE if "<" in e.pattern]
    for e in patterns:
        sample = e.pattern.replace("<", "x").replace(">", "")
        assert [o.pattern for o in patterns if o.segments(sample) is not None] == [e.pattern]


@pytest.mark.parametrize("rule", ["score.P3.typo", "nonsense", "score", "sum.income", "identity.a.b.c"])
def test_unknown_id_is_an_error_in_tests(rule: str) -> None:
    # entry() warns; pyproject.toml's filterwarnings = error makes that an exception under pytest
    with pytest.raises(UncataloguedRule, match="not in perfxl/engine/catalogue.py"):
        entry(rule)


def test_unknown_id_in_production_is_an_error_finding_not_a_crash() -> None:
    with pytest.warns(UncataloguedRule):
        f = finding("brand.new", "新的问题", sheet="评分表", cell="F8")
    assert (f.rule, f.severity, f.message, f.cell) == ("brand.new", ERROR, "新的问题", "F8")


def test_fixed_sentences_are_filled_in() -> None:
    f = finding("layout.sheet_missing", sheet="评分表", n=3)
    assert (f.severity, f.sheet) == (ERROR, "评分表")
    assert f.message == "缺少工作表“评分表”，该表的 3 个项目无法审核"
    assert finding("file.unusable", file="a.xlsx", reason="文件是空的").message == "a.xlsx：文件是空的"


# --------------------------------------------------------------------------- the corpus


# Entries no case of the corpus emits, each with the reason (keep it short: add a case instead).
NOT_REACHED: dict[str, str] = {
    # Emitted by the hostile corpus (tests/test_hostile.py checks it is catalogued with its severity)
    # and by the .xls/.ods test, which build their files byte by byte or with LibreOffice.
    "input.formula": "hostile kind plain-formula",
    "input.formula_dangerous": "hostile kinds dde-formula, webservice, external-reference …",
    "input.date": "hostile kind date-formatted-amount",
    "formula.dangerous": "hostile kind dangerous-formula-in-label",
    "file.external_links": "hostile kind external-reference",
    "file.macros": "hostile kind macro-enabled",
    "file.values_only": "tests/test_xls_ods.py (LibreOffice)",
}


@pytest.fixture(scope="module")
def emitted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Finding]]:
    """The findings of every case of the corpus, by case."""
    tmp = tmp_path_factory.mktemp("corpus")
    good = broken.write_good(tmp / "good.xlsx")
    out = {}
    for name, mutation in broken.corpus().items():
        out[name] = check_file(mutation(m.copy(good, tmp / "src.xlsx"), tmp / "broken.xlsx")).findings
    for path in sorted((ROOT / "sample_workbooks").glob("*.xlsx")):
        out[path.name] = check_file(path).findings
    for name, values in named_edge_cases(m.plan()):
        write_template(tmp / f"{name}.xlsx", values=values)
        out[name] = check_file(tmp / f"{name}.xlsx").findings
    return out


def _catalogued(rule: str) -> bool:
    return any(e.segments(rule) is not None for e in CATALOGUE)


def test_every_emitted_rule_is_catalogued_with_its_severity(emitted: dict[str, list[Finding]]) -> None:
    rules = {(f.rule, f.severity) for findings in emitted.values() for f in findings}
    assert sorted(r for r, _ in rules if not _catalogued(r)) == []
    assert sorted((r, s) for r, s in rules if entry(r).severity != s) == []


def test_every_entry_is_emitted_by_the_corpus(emitted: dict[str, list[Finding]]) -> None:
    reached = {entry(f.rule).pattern for findings in emitted.values() for f in findings}
    assert sorted(e.pattern for e in CATALOGUE if e.pattern not in reached) == sorted(NOT_REACHED)


def _editions() -> list[Edition]:
    mini = load_edition(
        "mini-2099", MINI / "templates" / "mini-2099.yaml", MINI / "checks" / "mini-2099.yaml"
    )
    return [*(load_edition(name) for name in available_editions()), mini]


@pytest.mark.parametrize("edition", _editions(), ids=lambda e: e.name)
def test_every_formula_cell_and_identity_of_every_edition_has_an_entry(edition: Edition) -> None:
    """What a formula cell or a rubric identity is reported as comes partly from the edition's data."""
    plan = build_plan(edition)
    # A 评价报告 draft's text is never compared (only its formula: formula.*), so it has no value rule.
    compared = [c for c in plan.formulas() if c.calc is not None and c.calc.kind != "draft"]
    rules = {_formula_rule(plan, cell)[0] for cell in compared}
    rules |= {f"identity.{ident.id}" for ident in edition.rubric.identities}
    assert sorted(r for r in rules if not _catalogued(r)) == []


# --------------------------------------------------------------------------- 规则统计 titles


TITLES = {
    "file.unusable": "文件无法使用",
    "formula.overwritten": "公式被改为固定数值",
    "input.blank": "必填项未填写",
    "layout.by_label": "定义名称丢失，按标签定位",
    "grade.ref": "参考等次与总分不符",
    "total.self": "自评总分与各项合计不符",
    "subtotal.ref": "评分表小计与各项合计不符",
    "perf.grade": "绩效自评表与评分表不一致",
    "score.P3": "资金结余：自评得分与评分标准不符",
    "score.P4.range": "“三公经费”控制率：自评得分超出分值范围",
    "score.O1.reason": "推进全面小康建设指标任务完成情况：扣分未说明原因",
    "score.I1.reading": "财政供养人员控制率：自评按另一种读法计分",
    "score.I3.zero": "重点支出安排率：分母为零，按规则计分",
    "score.E4.blank": "社会公众或服务对象满意度：未填自评得分",
    "metric.P1": "预算调整率：指标值公式结果不符",
    "ref.P3": "资金结余：参考得分公式结果不符",
    "sum.income.fiscal": "年度收入情况·公共财政拨款：汇总行不等于各行之和",
    "identity.expense.balance_cum": "部门（单位）年度支出和结余情况·累计结余：勾稽关系不符",
    "identity.econ.personnel": "勾稽关系：人员支出 = 工资福利支出 + 对个人和家庭的补助",
    # listed nowhere before the catalogue: the sheet showed the bare id
    "input.text_number": "数字以文本形式填写",
    "formula.no_cache": "公式单元格没有计算结果",
    "score.P3.unverified": "资金结余：所依据的数据无法读取，未能复核",
}


@pytest.mark.parametrize(("rule", "title"), TITLES.items(), ids=list(TITLES))
def test_rule_titles(rule: str, title: str) -> None:
    assert rule_title(rule, load_edition()) == title


def test_rule_titles_without_an_edition_name_items_by_id() -> None:
    assert rule_title("score.P3", None) == "P3：自评得分与评分标准不符"
    assert rule_title("sum.income.total", None) == "sum.income.total：汇总行不等于各行之和"


# --------------------------------------------------------------------------- the README's rule table


README = Path(__file__).resolve().parents[1] / "README.md"
TABLE_HEADING = "**规则 id**（`findings[].rule`）："


def test_readme_rule_table_is_the_catalogue() -> None:
    lines = README.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index(TABLE_HEADING + "\n") + 2  # the heading, a blank line, the table
    end = next(n for n in range(start, len(lines)) if not lines[n].startswith("|"))
    if os.environ.get("PERFXL_UPDATE_README") == "1":
        lines[start:end] = [markdown_table()]
        README.write_text("".join(lines), encoding="utf-8")
    assert "".join(lines[start:end]) == markdown_table(), (
        "README.md's rule table is not the catalogue's: regenerate it with "
        "PERFXL_UPDATE_README=1 python -m pytest tests/test_catalogue.py"
    )
