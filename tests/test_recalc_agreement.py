"""The template's live formulas, recalculated by LibreOffice, agree with perfxl.engine.compute.

Dozens of workbooks (seeded random inputs of every profile and several layouts, the hand-made
edge cases of tests/inputgen.py, and the blank template) are written with write_template and
recalculated by ONE headless LibreOffice call.  For every workbook and every formula cell of its
plan, LibreOffice's value must equal compute()'s: numbers within 1e-6, texts equal, and "" where
compute() says the formula shows nothing.  The cached values xlsxwriter stored must equal
compute() as well (that part needs no LibreOffice).  A last test proves the generator reaches
what it promises: zero denominators, rates over 100 %, every band edge and threshold.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from inputgen import PROFILES, edge_targets, named_edge_cases, random_inputs
from lo_recalc import recalc_many, soffice_available
from test_selfcheck import disagreements

from perfxl.engine import selfcheck
from perfxl.engine.compute import Computation, Scalar, compute
from perfxl.engine.layout import Plan, build_plan
from perfxl.form.prefill import coerce
from perfxl.form.template import write_template
from perfxl.spec import expr, load_edition, rule_refs

N_RANDOM = 50
TOLERANCE = 1e-6
# Layouts other than the default, used by every 6th random workbook in turn.
LAYOUTS: list[dict[str, Any]] = [
    {"sub_units": 0},
    {"sub_units": 3, "reviewers": 2},
    {"sub_units": 1, "qualitative": 2, "indicators": {"quality": 1, "cost": 4}},
]


@dataclass(frozen=True)
class Case:
    name: str
    options: Mapping[str, Any] | None
    values: Mapping[str, object]


def _cases() -> list[Case]:
    edition = load_edition()
    plan = build_plan(edition)
    cases = [Case("blank", None, {})]
    cases += [Case(name, None, values) for name, values in named_edge_cases(plan)]
    for n in range(N_RANDOM):
        options = LAYOUTS[(n // 6) % len(LAYOUTS)] if n % 6 == 5 else None
        profile = PROFILES[n % len(PROFILES)]
        values = random_inputs(build_plan(edition, options), random.Random(20200 + n), profile)
        cases.append(Case(f"random{n:02d}_{profile}", options, values))
    return cases


CASES = _cases()
IDS = [c.name for c in CASES]


def _inputs(plan: Plan, values: Mapping[str, object]) -> dict[str, Scalar]:
    """The inputs write_template stores (its Unit() is empty, so only ``values`` count)."""
    return {fid: coerce(plan, fid, v) for fid, v in values.items() if v is not None and v != ""}


@dataclass
class Written:
    case: Case
    path: Path
    plan: Plan
    inputs: dict[str, Scalar]
    expected: Computation


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Written]:
    """Every case written to its own workbook (once per module)."""
    root = tmp_path_factory.mktemp("agreement")
    out = {}
    for case in CASES:
        path = root / f"{case.name}.xlsx"
        plan = write_template(path, values=case.values, options=case.options)
        inputs = _inputs(plan, case.values)
        out[case.name] = Written(case, path, plan, inputs, compute(plan, inputs))
    return out


@pytest.fixture(scope="module")
def recalculated(written: dict[str, Written], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """ONE LibreOffice run over all workbooks: case name -> recalculated copy."""
    if not soffice_available():
        pytest.skip("soffice (LibreOffice) not on PATH")
    out_dir = tmp_path_factory.mktemp("recalculated")
    done = recalc_many([w.path for w in written.values()], out_dir)
    return {name: done[w.path] for name, w in written.items()}


def _read_formula_cells(path: Path, plan: Plan) -> dict[str, object]:
    """The value shown in each formula cell of ``plan`` (openpyxl, data_only)."""
    wanted = {(c.sheet, c.row + 1, c.col + 1): c.id for c in plan.formulas()}
    sheets = {s for s, _, _ in wanted}
    found: dict[str, object] = {}
    wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    try:
        for name in sheets:
            for row in wb[name].iter_rows():
                for cell in row:
                    key = (name, getattr(cell, "row", None), getattr(cell, "column", None))
                    if key in wanted:
                        found[wanted[key]] = cell.value
    finally:
        wb.close()
    return {c.id: found.get(c.id) for c in plan.formulas()}


def _agrees(python: Scalar, shown: object) -> bool:
    if python is None:
        return shown is None or shown == ""
    if isinstance(python, Decimal):
        return (
            isinstance(shown, int | float)
            and not isinstance(shown, bool)
            and abs(float(shown) - float(python)) <= TOLERANCE
        )
    return shown == python


def _feeding_inputs(plan: Plan, fid: str) -> list[str]:
    """The input cells a formula cell depends on, transitively."""
    out: list[str] = []

    def walk(f: str) -> None:
        cell = plan.cells[f]
        calc = cell.calc
        if calc is None:
            if f not in out:
                out.append(f)
            return
        refs = list(calc.args)
        if calc.expr is not None:
            refs += list(expr.refs(calc.expr))
        if calc.item is not None:
            item = plan.edition.rubric.item(calc.item)
            refs += rule_refs(item.rule)
            if calc.kind == "score":
                refs += [f"score.{item.id}.self"]
                refs += [f"metric.{item.id}"] if f"metric.{item.id}" in plan.cells else []
        for r in refs:
            walk(r)

    walk(fid)
    return out


def _formula_refs(plan: Plan, fid: str) -> list[str]:
    """The formula cells a formula cell reads directly."""
    calc = plan.cells[fid].calc
    assert calc is not None
    refs = list(calc.args) + (list(expr.refs(calc.expr)) if calc.expr is not None else [])
    if calc.item is not None:
        refs += rule_refs(plan.edition.rubric.item(calc.item).rule)
        if calc.kind == "score":
            refs.append(f"metric.{calc.item}")
    return [r for r in dict.fromkeys(refs) if r in plan.cells and not plan.cells[r].is_input]


def _report(w: Written, source: str, shown: Mapping[str, object], bad: list[str]) -> str:
    wb = openpyxl.load_workbook(w.path)  # formula text
    try:
        lines = [f"{len(bad)} formula cell(s) of {w.path} disagree ({source} vs compute()):"]
        for fid in bad[:25]:
            cell = w.plan.cells[fid]
            text = wb[cell.sheet][cell.ref].value
            feeds = ", ".join(
                f"{f}={w.inputs.get(f)!s}"
                for f in _feeding_inputs(w.plan, fid)
                if w.inputs.get(f) is not None
            )
            lines += [
                f"  {fid}  {cell.sheet}!{cell.ref}  {text}",
                f"      {source}: {shown[fid]!r}   Python: {w.expected.values[fid]!r}",
            ]
            for ref in _formula_refs(w.plan, fid):
                lines.append(
                    f"      reads {ref} ({w.plan.cells[ref].where}): {source} {shown[ref]!r}, "
                    f"Python {w.expected.values[ref]!r}"
                )
            lines.append(f"      inputs: {feeds or '(all blank)'}")
        if len(bad) > 25:
            lines.append(f"  ... and {len(bad) - 25} more: {', '.join(bad[25:])}")
        return "\n".join(lines)
    finally:
        wb.close()


def _check(w: Written, source: str, path: Path) -> int:
    shown = _read_formula_cells(path, w.plan)
    bad = [fid for fid, v in shown.items() if not _agrees(w.expected.values[fid], v)]
    assert not bad, _report(w, source, shown, bad)
    return len(shown)


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", IDS)
def test_libreoffice_agrees_with_compute(
    name: str, written: dict[str, Written], recalculated: dict[str, Path]
) -> None:
    w = written[name]
    assert _check(w, "LibreOffice", recalculated[name]) == len(w.plan.formulas()) > 0


@pytest.mark.parametrize("name", IDS)
def test_cached_values_equal_compute(name: str, written: dict[str, Written]) -> None:
    w = written[name]
    assert _check(w, "cached value", w.path) == len(w.plan.formulas()) > 0


def _sheet_values(path: Path, sheet: str) -> dict[str, object]:
    wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    try:
        return {
            c.coordinate: c.value
            for row in wb[sheet].iter_rows()
            for c in row
            if getattr(c, "coordinate", None) and c.value not in (None, "")
        }
    finally:
        wb.close()


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", IDS)
def test_selfcheck_cached_values_are_libreoffices_and_say_what_the_checker_says(
    name: str, written: dict[str, Written], recalculated: dict[str, Path]
) -> None:
    """The 自查 sheet a fresh workbook opens with is what LibreOffice computes, and its statuses are
    the checker's verdicts (tests/test_selfcheck.py proves the same for broken returns)."""
    w = written[name]
    cached, lo = _sheet_values(w.path, selfcheck.SHEET), _sheet_values(recalculated[name], selfcheck.SHEET)
    assert set(cached) == set(lo)
    differ = {
        ref: (v, lo[ref])
        for ref, v in cached.items()
        if not (v == lo[ref] or _agrees(Decimal(str(v)) if isinstance(v, int | float) else v, lo[ref]))
    }
    assert differ == {}
    assert disagreements(recalculated[name], w.plan)[0] == {}


# ----------------------------------------------------------------------------- the generator


def test_random_inputs_are_deterministic_and_valid() -> None:
    edition = load_edition()
    for options in [None, *LAYOUTS]:
        plan = build_plan(edition, options)
        ids = {c.id for c in plan.inputs()}
        for profile in PROFILES:
            values = random_inputs(plan, random.Random(99), profile)
            assert values == random_inputs(plan, random.Random(99), profile)
            assert set(values) == ids
            for fid, v in values.items():
                _assert_valid(plan, fid, v)
    plan = build_plan(edition)
    for name, values in named_edge_cases(plan):
        assert set(values) == {c.id for c in plan.inputs()}, name
        for fid, v in values.items():
            _assert_valid(plan, fid, v)
    assert named_edge_cases(plan) == named_edge_cases(plan)


def _assert_valid(plan: Plan, fid: str, v: object) -> None:
    """In coerced form already, and accepted by the template's data validation."""
    cell = plan.cells[fid]
    if v is None:
        return
    assert coerce(plan, fid, v) == v, (fid, v)
    if cell.type == "yesno":
        assert v in ("是", "否"), (fid, v)
    elif cell.type in ("text", "longtext"):
        assert isinstance(v, str) and v, (fid, v)
    else:
        assert isinstance(v, Decimal), (fid, v)
        places = 0 if cell.type in ("integer", "count") else 2
        assert v == v.quantize(Decimal(1).scaleb(-places)), (fid, v)
        assert cell.signed or v >= 0, (fid, v)
        assert cell.min is None or v >= cell.min, (fid, v)
        assert cell.max is None or v <= cell.max, (fid, v)
        assert cell.type != "percent" or v <= 100, (fid, v)


def _half_cent(x: Decimal) -> bool:
    shape = x.normalize().as_tuple()
    return shape.exponent == -3 and shape.digits[-1] == 5


# What no input can produce: |x| is never negative; 在用 ≤ 合计 for fixed assets, so that rate
# never exceeds 100 % and its denominator is 0 only with a zero numerator.
def _unreachable(item_id: str, rate: Decimal) -> bool:
    return (item_id == "P1" and rate < 0) or (item_id == "P12" and rate > 100)


UNREACHABLE = {("P12", "over100"), ("P12", "zero_den")}


def test_generator_hits_what_it_promises() -> None:
    """Count, over all cases, the zero denominators, over-100 rates and exact edges reached."""
    edition = load_edition()
    rubric = edition.rubric
    plans = {None: build_plan(edition)}
    hits: Counter[tuple[str, str]] = Counter()
    raw_rates: dict[str, set[Decimal]] = {}
    for case in CASES:
        key = repr(case.options)
        plan = plans.setdefault(key, build_plan(edition, case.options))  # type: ignore[arg-type]
        inputs = _inputs(plan, case.values)
        calc = compute(plan, inputs)

        def num(
            fid: str, plan: Plan = plan, inputs: dict[str, Scalar] = inputs, calc: Computation = calc
        ) -> Decimal:
            v = inputs.get(fid) if plan.cells[fid].is_input else calc.values[fid]
            return v if isinstance(v, Decimal) else Decimal(0)

        for item in rubric.items:
            m, o = item.rule.metric, calc.outcomes[item.id]
            if m is None:
                continue
            if m.is_rate:
                assert m.num is not None and m.den is not None and item.rule.zero is not None
                den = expr.evaluate(m.den, num)
                if den == 0:
                    assert o.metric is None
                    zero_num = expr.evaluate(m.num, num) == 0
                    hits[(item.id, "zero_both" if zero_num else "zero_den")] += 1
                    assert o.note == item.rule.zero.note + ("（分子也为0）" if zero_num else "")
                    continue
                raw = expr.evaluate(m.num, num) * 100 / den
                raw_rates.setdefault(item.id, set()).add(raw)
                if raw > 100:
                    hits[(item.id, "over100")] += 1
                if _half_cent(raw):
                    hits[(item.id, "half_cent")] += 1
            assert o.metric is not None
            if item.rule.kind == "per_point":
                t = item.rule.threshold
                gap = o.metric - t if item.rule.direction == "over" else t - o.metric
                if gap > 0 and gap != gap.to_integral_value():
                    hits[(item.id, "fractional_excess")] += 1
                if o.score == 0 and gap * item.rule.step == item.max:
                    hits[(item.id, "exactly_zero_points")] += 1
                if gap > 0 and _half_cent(item.max - gap * item.rule.step):
                    hits[(item.id, "score_on_half_cent")] += 1
            else:
                for band in item.rule.bands:
                    for b in (band.low, band.high):
                        if b is not None and o.metric == expr.evaluate(b.value, num):
                            hits[
                                (
                                    item.id,
                                    f"edge {expr.to_excel(b.value, str)}"
                                    + ("" if isinstance(b.value, expr.Num) or o.metric else " (=0)"),
                                )
                            ] += 1
        for part in ("self", "ref"):
            total = calc.values[f"total.{part}"]
            for g in rubric.grades:
                if g.min > 0 and total == g.min:
                    hits[("grade", f"total.{part} = {g.min}")] += 1
        if calc.values["grade.self"] is None:
            hits[("grade", "no self-scores, no grade")] += 1

    missing = []
    for item in rubric.items:
        m = item.rule.metric
        if m is None:
            continue
        if m.is_rate:
            for kind in ("zero_both", "zero_den", "half_cent", "over100"):
                if (item.id, kind) not in UNREACHABLE and hits[(item.id, kind)] < 2:
                    missing.append(f"{item.id} {kind}: {hits[(item.id, kind)]}")
            for kind, target in edge_targets(item):
                if (
                    kind == "rate"
                    and target is not None
                    and not _unreachable(item.id, target)
                    and target not in raw_rates.get(item.id, set())
                ):
                    missing.append(f"{item.id} rate exactly {target}%")
        if item.rule.kind == "per_point":
            kinds = ["fractional_excess", "exactly_zero_points"]
            if any(_half_cent(item.rule.step * k / 100) for k in range(1, 1000)):
                kinds.append("score_on_half_cent")
            for kind in kinds:
                if hits[(item.id, kind)] < 1:
                    missing.append(f"{item.id} {kind}: {hits[(item.id, kind)]}")
        else:
            for band in item.rule.bands:
                for b in (band.low, band.high):
                    if b is not None and not any(
                        k[0] == item.id and k[1].startswith(f"edge {expr.to_excel(b.value, str)}")
                        for k in hits
                    ):
                        missing.append(f"{item.id} metric on edge {expr.to_excel(b.value, str)}")
    p3 = [k for k in hits if k[0] == "P3"]
    if ("P3", "edge income.total.carryover") not in p3:  # equal to a non-zero carryover
        missing.append("P3 balance == carryover > 0")
    for g in rubric.grades:
        for part in ("self", "ref"):
            if g.min > 0 and not hits[("grade", f"total.{part} = {g.min}")]:
                missing.append(f"total.{part} exactly {g.min}")
    if not hits[("grade", "no self-scores, no grade")]:
        missing.append("a case without self-scores")
    assert not missing, "the generator missed:\n  " + "\n  ".join(missing)
