"""Every 汇总 and every identity of the form is recomputed: a wrong value typed over any of them is caught
with the rule id the README documents (sum.<table>.<column> / identity.<table>.<column>)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import mutate as m
import pytest
import yaml

from perfxl.check import check_file
from perfxl.engine.layout import build_plan
from perfxl.form.meta import Unit
from perfxl.form.template import write_template
from perfxl.spec import load_edition

SEED = Path(__file__).resolve().parent.parent / "sample_workbooks" / "君山区信访局_2020.yaml"
PLAN = build_plan(load_edition())
FINANCE = [c for c in PLAN.formulas() if c.sheet == "收支情况" and c.id.split(".")[1] in ("total", "org")]


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    values = yaml.safe_load(SEED.read_text(encoding="utf-8"))["values"]
    path = tmp_path_factory.mktemp("good") / "seed.xlsx"
    write_template(path, unit=Unit("岳阳市君山区信访局", "430611-XFJ", 2020), values=values)
    return path


def _rule(cell_id: str) -> str:
    table, row, col = cell_id.split(".")
    return f"sum.{table}.{col}" if row == "total" else f"identity.{table}.{col}"


@pytest.mark.parametrize("cell", FINANCE, ids=[c.id for c in FINANCE])
def test_wrong_value_over_a_formula_is_caught(cell, good: Path, tmp_path: Path) -> None:
    right = check_file(good).computed[cell.id]
    wrong = right + Decimal("1.23")
    result = check_file(m.set_field(good, tmp_path / "x.xlsx", cell.id, float(wrong)))
    hits = [f for f in result.findings if f.cell == cell.ref and f.sheet == cell.sheet]
    assert {f.rule for f in hits} == {"formula.overwritten", _rule(cell.id)}
    f = next(f for f in hits if f.rule == _rule(cell.id))
    assert f.severity == "错误" and f.difference == Decimal("1.23")
    assert f"{cell.sheet}!{cell.ref}" in f.message and "相差 1.23" in f.message


@pytest.mark.parametrize(
    ("field", "rule"),
    [("basis.econ_wages", "identity.econ.personnel"), ("basis.econ_capital", "identity.econ.public")],
)
def test_economic_breakdown_must_match_personnel_and_public(
    field: str, rule: str, good: Path, tmp_path: Path
) -> None:
    result = check_file(m.set_field(good, tmp_path / "x.xlsx", field, 1.00))
    (f,) = [f for f in result.findings if f.rule == rule]
    assert f.severity == "错误" and "万元" in f.message
