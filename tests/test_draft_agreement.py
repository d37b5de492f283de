"""The 评价报告's drafts, recalculated by LibreOffice, are Python's drafts character for character.

The seed's return, 24 randomized returns pushed where the number formats bite (rounding ties,
negative balances, zero bases, seven-digit amounts, blank rows, quotes and line breaks in the
texts a draft quotes) and three returns of a variant edition (thousands separators, one rate
decimal, a literal longer than Excel's 255 characters) are written with write_template and
recalculated by ONE soffice run; every draft cell must equal engine.compute's text exactly.
(tests/test_recalc_agreement.py compares the drafts too, among all formula cells.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from inputgen import PROFILES, random_inputs
from lo_recalc import recalc_many, soffice_available

from perfxl.engine.compute import compute
from perfxl.engine.layout import Plan, build_plan
from perfxl.form.prefill import coerce, load_prefill
from perfxl.form.template import write_template
from perfxl.spec import Edition, load_edition, read_edition

ROOT = Path(__file__).resolve().parents[1]
N_RANDOM = 24
D = Decimal
QUOTED = '他说："资金要用在刀刃上。"\n第二段，含英文 "quote" 与 ％、—。'
LONG_LITERAL = "本段为测试用的长句，" * 30  # 300 characters: Excel splits string constants at 255


@dataclass
class Case:
    name: str
    edition: Edition
    values: dict[str, Any]


def _variant(tmp: Path) -> Edition:
    """hunan-2020 with other number codes, one rate decimal and a long, quoted literal."""
    form = yaml.safe_load((ROOT / "templates" / "hunan-2020.yaml").read_text("utf-8"))
    rubric = yaml.safe_load((ROOT / "checks" / "hunan-2020.yaml").read_text("utf-8"))
    form["narrative"]["formats"] = {"amount": "#,##0.00;-#,##0.00;0.00", "count": "#,##0"}
    rubric["rate_decimals"] = 1
    part = next(p for c in form["narrative"]["chapters"] for p in c["parts"] if p["id"] == "measures")
    part["draft"] = [
        f'{LONG_LITERAL}“引号"与\\n换行”{{basis.satisfaction}}，{{total.ref}}分，'
        "{unit.staff_actual / unit.staff_quota|share}，{income.total.total}万元。"
    ]
    (tmp / "f.yaml").write_text(yaml.safe_dump(form, allow_unicode=True), "utf-8")
    (tmp / "r.yaml").write_text(yaml.safe_dump(rubric, allow_unicode=True), "utf-8")
    return read_edition(tmp / "f.yaml", tmp / "r.yaml")


def _stress(plan: Plan, values: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Push a random return to where a draft's number formats and texts can go wrong."""
    values["unit.year"] = D(rng.choice([2020, 2021]))
    roll = rng.random()
    if roll < 0.25:  # half-cent ties: ROUND must go away from zero in both renderings
        for fid in ("basis.econ_wages", "basis.econ_goods", "sangong.org.reception", "expense.org.public"):
            values[fid] = D(rng.randint(0, 99999)) / 100 + D("0.005")
    elif roll < 0.45:  # zero bases: every share says "—"
        for fid in ("expense.org.personnel", "expense.org.public", "basis.sangong_budget"):
            values[fid] = D(0)
    elif roll < 0.65:  # seven-digit amounts and a large negative balance
        values["expense.org.project"] = D(rng.randint(1000000, 9999999)) + D(rng.randint(0, 99)) / 100
    if rng.random() < 0.4:
        values["unit.duties"] = QUOTED
        values["perf.qual.1.done"] = QUOTED
        values["score.P1.note"] = QUOTED
    for k in range(1, 7):
        if rng.random() < 0.2:
            values[f"perf.qual.{k}.done"] = None
    return values


def _cases(tmp: Path) -> list[Case]:
    hunan = load_edition()
    seed = load_prefill(ROOT / "sample_workbooks" / "君山区信访局_2020.yaml")
    cases = [Case("seed", hunan, dict(seed.values))]
    plan = build_plan(hunan)
    for n in range(N_RANDOM):
        rng = random.Random(42000 + n)
        values = random_inputs(plan, rng, PROFILES[n % len(PROFILES)])
        cases.append(Case(f"random{n:02d}", hunan, _stress(plan, values, rng)))
    variant = _variant(tmp)
    vplan = build_plan(variant)
    cases.append(Case("variant_seed", variant, dict(seed.values)))
    for n in range(2):
        rng = random.Random(43000 + n)
        cases.append(Case(f"variant{n}", variant, _stress(vplan, random_inputs(vplan, rng, "mixed"), rng)))
    return cases


@dataclass
class Written:
    case: Case
    path: Path
    plan: Plan
    drafts: dict[str, str | None]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[Written]:
    root = tmp_path_factory.mktemp("drafts")
    out = []
    for case in _cases(root):
        path = root / f"{case.name}.xlsx"
        plan = write_template(path, edition=case.edition, values=case.values)
        inputs = {k: coerce(plan, k, v) for k, v in case.values.items() if v is not None and v != ""}
        calc = compute(plan, inputs)
        drafts = {c.id: calc.values[c.id] for c in plan.formulas() if c.id.startswith("draft.")}
        out.append(Written(case, path, plan, drafts))  # type: ignore[arg-type]
    return out


def _shown(path: Path, plan: Plan, ids: list[str]) -> dict[str, object]:
    wb = openpyxl.load_workbook(path, data_only=True)
    try:
        return {fid: wb[plan.cells[fid].sheet][plan.cells[fid].ref].value for fid in ids}
    finally:
        wb.close()


def test_the_cases_reach_what_they_promise(written: list[Written]) -> None:
    texts = [t for w in written for t in w.drafts.values() if t]
    assert len(written) >= 1 + 20
    assert any("—" in t for t in texts)  # a zero base
    assert any("-" in t and "万元" in t for t in texts)  # a negative amount
    assert any("," in t for t in texts)  # thousands separators
    assert any('"' in t and "\n" in t for t in texts)  # quotes and line breaks
    assert any(LONG_LITERAL in t for t in texts)


@pytest.mark.libreoffice
@pytest.mark.skipif(not soffice_available(), reason="soffice (LibreOffice) not on PATH")
def test_libreoffice_writes_the_drafts_python_writes(written: list[Written], tmp_path: Path) -> None:
    recalculated = recalc_many([w.path for w in written], tmp_path)  # one soffice run for all
    compared = nonblank = 0
    bad = []
    for w in written:
        ids = sorted(w.drafts)
        shown = _shown(recalculated[w.path], w.plan, ids)
        for fid in ids:
            python, office = w.drafts[fid] or "", shown[fid] or ""
            compared += 1
            nonblank += bool(python)
            if python != office:
                bad.append(f"{w.case.name} {fid}:\n  LibreOffice {office!r}\n  Python      {python!r}")
    assert not bad, f"{len(bad)} of {compared} drafts differ:\n" + "\n".join(bad[:10])
    assert compared >= 28 * 9 and nonblank >= 28 * 7, (compared, nonblank)
