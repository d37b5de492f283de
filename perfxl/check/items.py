"""Rubric items: each self-score against the rule's score under every reading, with the reason in numbers."""

from __future__ import annotations

from decimal import Decimal

from perfxl.check.inputs import Read
from perfxl.check.reader import Return
from perfxl.check.result import ItemResult
from perfxl.check.text import fmt, number_of, where
from perfxl.engine.catalogue import finding
from perfxl.engine.compute import Computation, Scalar, compute, input_dependencies
from perfxl.engine.findings import Finding
from perfxl.engine.layout import Plan
from perfxl.spec import Item, kinds


def check_item(
    plan: Plan, item: Item, ret: Return, read: Read, calc: Computation
) -> tuple[ItemResult, list[Finding]]:
    rubric = plan.edition.rubric
    inputs = read.values
    outcome = calc.outcomes[item.id]
    self_id = f"score.{item.id}.self"
    found = ret.cells.get(self_id)
    own = inputs.get(self_id)
    own = own if isinstance(own, Decimal) else None
    place = where(found) if found else f"{plan.cells[self_id].where}"
    sheet, ref = (found.sheet, found.ref) if found else (None, None)
    out: list[Finding] = []
    needs = input_dependencies(plan)[f"score.{item.id}.ref"] - {self_id}
    missing = sorted(needs & read.unknown)
    blank = sorted(needs & read.unanswered)
    if blank and not missing:  # a 是/否 left blank is not “否”: the rule can only give a range
        return _unanswered(plan, item, inputs, calc, own, blank, place, sheet, ref)
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
        else:  # a judgement's rule gives the self-score itself, so it always matches
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


def _unanswered(
    plan: Plan,
    item: Item,
    inputs: dict[str, Scalar],
    calc: Computation,
    own: Decimal | None,
    blank: list[str],
    place: str,
    sheet: str | None,
    ref: str | None,
) -> tuple[ItemResult, list[Finding]]:
    """An item whose 是/否 answers are partly blank: between the score with every blank a “否” (as
    the template's 参考得分 counts it) and with every blank a “是”. A self-score in that range cannot be
    checked until the answers are given (a 警告 asking for them); one outside it is wrong either way."""
    low = calc.outcomes[item.id].score
    high = compute(plan, {**inputs, **dict.fromkeys(blank, "是")}).outcomes[item.id].score
    names = "、".join(plan.cells[f].label[:1] for f in blank)  # ①②…: the checklist's own numbering
    where_ = f"评分依据 {names}" if all(plan.cells[f].label[:1] in "①②③④⑤⑥⑦⑧⑨⑩" for f in blank) else names
    tol = plan.edition.rubric.score_tolerance
    if own is None:  # the blank self-score is the 错误; its blank answers are asked for one by one
        return ItemResult(item.id, item.name, item.max, None, Decimal(0), note="是/否未填写，无法复核"), []
    if not low - tol <= own <= high + tol:
        bound, word = (high, "最多") if own > high else (low, "至少")
        message = (
            f"{place} {item.name}：自评 {fmt(own)} 分，按规则{word} {fmt(bound)} 分"
            f"（{where_} 未填写；无论填“是”还是“否”，都不会是 {fmt(own)} 分）"
        )
        out = [
            finding(
                f"score.{item.id}",
                message,
                sheet=sheet,
                cell=ref,
                item=item.id,
                reported=own,
                expected=bound,
                difference=own - bound,
            )
        ]
        return ItemResult(item.id, item.name, item.max, own, bound, note=f"{where_} 未填写"), out
    message = (
        f"{place} {item.name}：所依据的 {where_} 未填写（空白不等于“否”），本项无法复核，暂按自评得分计；"
        f"请逐项填写“是”或“否”（按规则为 {fmt(low)}～{fmt(high)} 分）"
    )
    out = [finding(f"score.{item.id}.unanswered", message, sheet=sheet, cell=ref, item=item.id, reported=own)]
    return ItemResult(item.id, item.name, item.max, own, own, note="是/否未填写，无法复核"), out


def _alternatives(scores: tuple[Decimal, ...]) -> str:
    return " 或 ".join(fmt(s) for s in scores)


def _explain(
    plan: Plan, item: Item, outcome: kinds.Outcome, inputs: dict[str, Scalar], calc: Computation
) -> str:
    """Why the rule gives what it gives, with the numbers as the checker has them: quoted in the finding."""
    rubric = plan.edition.rubric

    def value(fid: str) -> Decimal:
        return number_of(plan, inputs, calc, fid) or Decimal(0)

    given = kinds.Given(value, inputs.get, Decimal(0), rubric.rate_decimals, rubric.score_decimals)
    return kinds.explain(item, outcome, given, lambda fid: plan.cells[fid].label)
