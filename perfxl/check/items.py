"""Rubric items: each self-score against the rule's score under every reading, with the reason in numbers."""

from __future__ import annotations

from decimal import Decimal

from perfxl.check.reader import Return
from perfxl.check.result import ItemResult
from perfxl.check.text import UNIT_TEXT, fmt, number_of, where
from perfxl.engine import rules
from perfxl.engine.catalogue import finding
from perfxl.engine.compute import Computation, Scalar, input_dependencies
from perfxl.engine.findings import Finding
from perfxl.engine.layout import Plan
from perfxl.spec import Item, expr


def check_item(
    plan: Plan, item: Item, ret: Return, inputs: dict[str, Scalar], calc: Computation, unknown: set[str]
) -> tuple[ItemResult, list[Finding]]:
    rubric = plan.edition.rubric
    outcome = calc.outcomes[item.id]
    self_id = f"score.{item.id}.self"
    found = ret.cells.get(self_id)
    own = inputs.get(self_id)
    own = own if isinstance(own, Decimal) else None
    place = where(found) if found else f"{plan.cells[self_id].where}"
    sheet, ref = (found.sheet, found.ref) if found else (None, None)
    out: list[Finding] = []
    missing = sorted(input_dependencies(plan)[f"score.{item.id}.ref"] - {self_id} & unknown)
    if missing:  # the rule cannot be recomputed: say so, and let the self-score stand unverified
        names = "、".join(plan.cells[m].label for m in missing[:3]) + ("等" if len(missing) > 3 else "")
        out.append(
            finding(
                f"score.{item.id}.unverified",
                f"{place} {item.name}：所依据的 {names} 无法读取，本项无法复核，暂按自评得分计",
                sheet=sheet,
                cell=ref,
                item=item.id,
                reported=own,
            )
        )
        return ItemResult(item.id, item.name, item.max, own, own or Decimal(0), note="无法复核"), out
    readings = outcome.readings or {"": outcome.score}
    defensible = tuple(sorted(set(readings.values())))
    matched = None
    tol = rubric.score_tolerance
    if own is not None:
        if not Decimal(0) <= own <= item.max:
            out.append(
                finding(
                    f"score.{item.id}.range",
                    f"{place} {item.name}：自评 {fmt(own)} 分，超出 0～{fmt(item.max)} 分的范围",
                    sheet=sheet,
                    cell=ref,
                    item=item.id,
                    reported=own,
                    expected=item.max,
                )
            )
        elif item.rule.kind != "judgement":
            matched = next((r for r, s in readings.items() if abs(s - own) <= tol), None)
            if matched is None:
                out.append(
                    finding(
                        f"score.{item.id}",
                        f"{place} {item.name}：自评 {fmt(own)} 分，按规则应为 "
                        f"{_alternatives(defensible)} 分（{_explain(plan, item, outcome, inputs, calc)}）",
                        sheet=sheet,
                        cell=ref,
                        item=item.id,
                        reported=own,
                        expected=outcome.score,
                        difference=own - outcome.score,
                    )
                )
            elif matched and matched != item.rule.readings[0]:
                out.append(
                    finding(
                        f"score.{item.id}.reading",
                        f"{place} {item.name}：自评 {fmt(own)} 分符合“{rubric.readings[matched]}”"
                        f"的读法（按“{rubric.readings[item.rule.readings[0]]}”为 {fmt(outcome.score)} 分）",
                        sheet=sheet,
                        cell=ref,
                        item=item.id,
                        reported=own,
                        expected=outcome.score,
                    )
                )
        note = inputs.get(f"score.{item.id}.note")
        if Decimal(0) <= own < item.max and not note:
            out.append(
                finding(
                    f"score.{item.id}.reason",
                    f"{place} {item.name}：自评 {fmt(own)} 分低于分值 {fmt(item.max)} 分，但未填写扣分原因",
                    sheet=sheet,
                    cell=ref,
                    item=item.id,
                    reported=own,
                )
            )
    if outcome.note and outcome.metric is None and item.rule.zero is not None:
        out.append(
            finding(
                f"score.{item.id}.zero",
                f"{place} {item.name}：{outcome.note}，按规则计 {fmt(outcome.score)} 分",
                sheet=sheet,
                cell=ref,
                item=item.id,
                reported=own,
                expected=outcome.score,
            )
        )
    result = ItemResult(
        item.id,
        item.name,
        item.max,
        own,
        outcome.score,
        defensible if len(defensible) > 1 else (),
        matched or None,
        outcome.metric,
        outcome.note,
    )
    return result, out


def _alternatives(scores: tuple[Decimal, ...]) -> str:
    return " 或 ".join(fmt(s) for s in scores)


def _explain(
    plan: Plan, item: Item, outcome: rules.Outcome, inputs: dict[str, Scalar], calc: Computation
) -> str:
    """Why the rule gives what it gives, with the numbers: quoted in the finding."""
    rule = item.rule

    def value(fid: str) -> Decimal:
        return number_of(plan, inputs, calc, fid) or Decimal(0)

    if rule.kind == "checklist":
        missing = [
            f"{plan.cells[f].label[:1]}（{fmt(p)} 分）" for f, p in rule.checks if inputs.get(f) != "是"
        ]
        return "未满足：" + "、".join(missing) if missing else "各项均为“是”"
    if rule.kind == "per_count":
        assert rule.count is not None
        return f"{plan.cells[rule.count].label} {fmt(value(rule.count))}，每个扣 {fmt(rule.step)} 分"
    metric = rule.metric
    assert metric is not None
    if outcome.metric is None:
        return outcome.note or ""
    unit = "%" if metric.is_rate else UNIT_TEXT.get("amount" if metric.unit == "万元" else "percent", "")
    text = f"{metric.label.split('（')[0]} {fmt(outcome.metric)}{unit}"
    if rule.kind == "ladder":
        band = next(
            (
                b
                for b in rule.bands
                if rules._in_band(outcome.metric, b, value, plan.edition.rubric.rate_decimals)
            ),
            None,
        )
        if band is not None:
            bounds = [
                b.value for b in (band.low, band.high) if b is not None and isinstance(b.value, expr.Ref)
            ]
            extra = "，".join(f"{plan.cells[b.field].label} {fmt(value(b.field))}{unit}" for b in bounds)
            text += f"，{band.label or '属于“' + band.text + '”档'}" + (f"（{extra}）" if extra else "")
        return text
    side = "超过" if rule.direction == "over" else "低于"
    return f"{text}，每{side} {fmt(rule.threshold)}% 一个百分点扣 {fmt(rule.step)} 分"
