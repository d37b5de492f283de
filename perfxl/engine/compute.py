"""Compute every formula cell of a plan from its inputs, exactly, as the template's formulas would.

Used twice: by the template writer for the cached values it stores, and by the checker for
the recomputation it compares a return against. Pure: no file I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from perfxl.engine import sentences
from perfxl.engine.layout import Cell, Plan
from perfxl.spec import expr, kinds, rule_refs, sentence
from perfxl.spec.kinds import Given, Outcome
from perfxl.spec.kinds.common import grade, metric_value

Scalar = Decimal | str | None


@dataclass(frozen=True)
class Computation:
    values: dict[str, Scalar]  # formula cell id -> value (None: the formula shows "")
    outcomes: dict[str, Outcome]  # rubric item id -> the rule's verdict

    def number(self, fid: str) -> Decimal | None:
        v = self.values.get(fid)
        return v if isinstance(v, Decimal) else None


def grade_bands(plan: Plan) -> tuple[tuple[str, Decimal], ...]:
    return tuple((g.label, g.min) for g in plan.edition.rubric.grades)


def compute(plan: Plan, inputs: Mapping[str, Scalar]) -> Computation:
    rubric = plan.edition.rubric
    values: dict[str, Scalar] = {}
    outcomes: dict[str, Outcome] = {}

    def get(fid: str) -> Scalar:
        cell = plan.cells[fid]
        if cell.calc is None:
            return inputs.get(fid)
        if fid not in values:
            values[fid] = _formula(cell)
        return values[fid]

    def num(fid: str) -> Decimal:
        v = get(fid)
        return v if isinstance(v, Decimal) else Decimal(0)

    def text(fid: str) -> object:
        return get(fid)

    def filled(fid: str) -> bool:
        v = get(fid)
        return (
            isinstance(v, Decimal)
            if plan.cells[fid].type in sentences.NUMERIC
            else isinstance(v, str) and v != ""
        )

    def outcome(item_id: str) -> Outcome:
        if item_id not in outcomes:
            item = rubric.item(item_id)
            self_score = num(f"score.{item_id}.self")
            given = Given(num, text, self_score, rubric.rate_decimals, rubric.score_decimals)
            outcomes[item_id] = kinds.score(item, given)
        return outcomes[item_id]

    def _formula(cell: Cell) -> Scalar:
        calc = cell.calc
        assert calc is not None
        if calc.kind == "expr":
            assert calc.expr is not None
            return expr.evaluate(calc.expr, num)
        if calc.kind == "sum":
            return sum((num(a) for a in calc.args), Decimal(0))
        if calc.kind == "metric":
            assert calc.item is not None
            return metric_value(rubric.item(calc.item).rule, num, rubric.rate_decimals)
        if calc.kind == "score":
            assert calc.item is not None
            return outcome(calc.item).score
        if calc.kind == "grade":
            total, *counted = calc.args
            if counted and all(not isinstance(get(c), Decimal) for c in counted):
                return None  # nothing self-scored yet: no grade to show
            return grade(num(total), grade_bands(plan))
        if calc.kind == "copy":
            return get(calc.args[0])
        if calc.kind == "draft":
            formats = sentences.formats_of(plan.edition)
            return sentences.render(calc.sentences, num, text, filled, formats) or None
        raise ValueError(f"unknown calc kind {calc.kind}")

    for cell in plan.formulas():
        get(cell.id)
    for item in rubric.items:
        outcome(item.id)
    return Computation(values, outcomes)


@lru_cache(maxsize=64)
def field_dependencies(plan: Plan) -> dict[str, frozenset[str]]:
    """Field id -> every field its value is computed from, formulas and inputs, itself included."""
    memo: dict[str, frozenset[str]] = {}

    def deps(fid: str) -> frozenset[str]:
        if fid not in memo:
            calc = plan.cells[fid].calc
            refs: list[str] = []
            if calc is not None:
                refs = list(calc.args) + (list(expr.refs(calc.expr)) if calc.expr is not None else [])
                refs += [r for s in calc.sentences for r in sentence.refs(s)]
                if calc.item is not None:
                    refs += rule_refs(plan.edition.rubric.item(calc.item).rule)
                    if calc.kind == "score":
                        refs.append(f"score.{calc.item}.self")
            memo[fid] = frozenset([fid]).union(*(deps(r) for r in refs))
        return memo[fid]

    for fid in plan.cells:
        deps(fid)
    return memo


@lru_cache(maxsize=64)
def input_dependencies(plan: Plan) -> dict[str, frozenset[str]]:
    """Field id -> the input cells its value is computed from (an input depends on itself)."""
    return {
        fid: frozenset(d for d in deps if plan.cells[d].is_input)
        for fid, deps in field_dependencies(plan).items()
    }


@lru_cache(maxsize=64)
def formula_inputs(plan: Plan) -> frozenset[str]:
    """Inputs that some formula of the workbook reads."""
    deps = input_dependencies(plan)
    return frozenset().union(*(deps[c.id] for c in plan.formulas()))
