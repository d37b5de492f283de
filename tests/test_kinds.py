"""Adding a rule kind is one module: the registry in perfxl.spec.kinds is the only place that knows kinds.

A tiny "fixed" kind (a constant score) is defined and registered in this test only; a small edition
(mini-2099 with O1 made "fixed") then loads, scores in Python, renders its 参考得分 formula and is
checked, through the very same code as the shipped kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfxl.check import reader
from perfxl.check.run import check_return
from perfxl.engine.compute import compute
from perfxl.engine.formulas import formula
from perfxl.engine.layout import build_plan
from perfxl.form.template import write_template
from perfxl.spec import Edition, Item, Rule, SpecError, expr, kinds, read_edition
from perfxl.spec.ctx import Ctx, as_dec, keys
from perfxl.spec.kinds import KINDS, Cells, Given, Kind, Outcome
from perfxl.spec.kinds.common import Label, number_text

D = Decimal
MINI = Path(__file__).resolve().parent / "data" / "mini-2099"
MINI_FORM = MINI / "templates" / "mini-2099.yaml"
MINI_RUBRIC = MINI / "checks" / "mini-2099.yaml"


# ------------------------------------------------------------------ the whole new kind


@dataclass(frozen=True)
class Fixed:
    points: Decimal


def load(ctx: Ctx, raw: Mapping[str, Any], maximum: Decimal, readings: Mapping[str, str]) -> Rule:
    keys(ctx, raw, ("kind", "points"))
    points = as_dec(ctx.at("points"), raw["points"])
    if not 0 <= points <= maximum:
        raise ctx.at("points").fail(f"得分 {points} 超出 0～{maximum}")
    return Rule("fixed", params=Fixed(points))


def _points(item: Item) -> Decimal:
    assert isinstance(item.rule.params, Fixed)
    return item.rule.params.points


def score(item: Item, metric: Decimal | None, given: Given) -> Outcome:
    return Outcome(_points(item))


def formula_text(item: Item, metric: str | None, cells: Cells) -> str:
    return expr.num(_points(item))


def explain(item: Item, outcome: Outcome, given: Given, label: Label) -> str:
    return f"本项固定计 {number_text(_points(item))} 分"


FIXED = Kind("fixed", load, score, formula_text, explain)


# ------------------------------------------------------------------ a small edition using it


@pytest.fixture
def fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(KINDS, "fixed", FIXED)


def _rubric_with_o1(tmp_path: Path, rule: dict[str, Any]) -> Path:
    data = yaml.safe_load(MINI_RUBRIC.read_text(encoding="utf-8"))
    items = [i for s in data["sections"] for g in s["groups"] for i in g["items"]]
    next(i for i in items if i["id"] == "O1")["rule"] = rule
    path = tmp_path / "mini-2099.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def edition(fixed: None, tmp_path: Path) -> Edition:
    return read_edition(MINI_FORM, _rubric_with_o1(tmp_path, {"kind": "fixed", "points": 3}))


def test_fixed_kind_loads(edition: Edition) -> None:
    item = edition.rubric.item("O1")
    assert item.rule == Rule("fixed", params=Fixed(D(3)))
    assert kinds.rule_refs(item.rule) == []


def test_fixed_kind_scores_in_python_and_as_a_formula(edition: Edition) -> None:
    plan = build_plan(edition)
    calc = compute(plan, {"score.O1.self": D(5)})
    assert calc.outcomes["O1"].score == 3
    assert calc.values["score.O1.ref"] == 3
    assert formula(plan, plan.cells["score.O1.ref"]) == "=3"
    assert "metric.O1" not in plan.cells  # no metric, so no metric cell


def test_fixed_kind_is_checked_and_explained(
    edition: Edition, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "return.xlsx"
    write_template(path, edition=edition, values={"score.O1.self": 5})
    # The return names edition mini-2099, which is not shipped: let the reader find this one.
    monkeypatch.setattr(reader, "available_editions", lambda: [edition.name])
    monkeypatch.setattr(reader, "load_edition", lambda name: edition)
    result = check_return(reader.read_return(path))
    (o1,) = [i for i in result.items if i.id == "O1"]
    assert (o1.self, o1.recomputed) == (5, 3)
    (finding,) = [f for f in result.findings if f.rule == "score.O1"]
    assert "按规则应为 3 分（本项固定计 3 分）" in finding.message


def test_fixed_kind_validates_its_parameters(fixed: None, tmp_path: Path) -> None:
    o1 = "sections.2.groups.0.items.0.rule"
    for rule, key, text in (
        ({"kind": "fixed", "points": 6}, "points", "超出 0～5"),
        ({"kind": "fixed", "points": "x"}, "points", "应为数字"),
        ({"kind": "fixed"}, "points", "缺少此项"),
        ({"kind": "fixed", "points": 3, "pionts": 3}, "pionts", "未知的键；可用：kind, points"),
    ):
        rubric = _rubric_with_o1(tmp_path, rule)
        with pytest.raises(SpecError) as info:
            read_edition(MINI_FORM, rubric)
        msg = str(info.value)
        assert msg.startswith(f"{rubric}: {o1}.{key}: ") and text in msg, msg


def test_unregistered_kind_is_refused_at_load(tmp_path: Path) -> None:
    rubric = _rubric_with_o1(tmp_path, {"kind": "fixed", "points": 3})
    with pytest.raises(SpecError) as info:
        read_edition(MINI_FORM, rubric)
    msg = str(info.value)
    assert msg.startswith(
        f"{rubric}: sections.2.groups.0.items.0.rule.kind: 未知的规则类型 “fixed”；可用："
    ), msg
    for name in ("ladder", "per_point", "per_count", "checklist", "judgement"):
        assert name in msg
