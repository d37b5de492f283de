"""Check a return: parse its inputs, recompute everything from them, and list what disagrees.

``check_file`` is the public entry (used by the CLI and by consolidation). The recomputation is
``compute.compute`` — the same code that wrote the template's cached values — so a clean
template checks clean, and any disagreement is the return's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from perfxl.check.reader import Located, Return, UnusableInput, read_return, squash_spaces
from perfxl.check.result import CheckResult, ItemResult
from perfxl.engine import rules
from perfxl.engine.compute import (
    Computation,
    Scalar,
    compute,
    formula_inputs,
    grade_bands,
    input_dependencies,
)
from perfxl.engine.findings import ERROR, INFO, SEVERITIES, WARNING, Finding
from perfxl.engine.formulas import formulas_of
from perfxl.engine.layout import Cell, Plan
from perfxl.engine.numbers import parse_number, parse_yesno
from perfxl.spec import NUMBER_UNITS, Item, expr

UNIT_TEXT = {"amount": " 万元", "percent": "%", "score": " 分", "integer": " 人", "count": " 个"}
_DIGIT = re.compile(r"[0-9０-９零一二三四五六七八九十百千万亿两半]")


def check_file(path: str | Path, tolerance: Decimal | None = None) -> CheckResult:
    """Check one file; an unusable file gives a result with status "unusable", never an exception."""
    try:
        ret = read_return(path)
    except UnusableInput as e:
        return CheckResult(
            file=str(path),
            status="unusable",
            reason=str(e),
            findings=[Finding("file.unusable", ERROR, f"{Path(path).name}：{e}")],
        )
    return check_return(ret, tolerance)


def check_return(ret: Return, tolerance: Decimal | None = None) -> CheckResult:
    plan = ret.plan
    rubric = plan.edition.rubric
    tol = tolerance if tolerance is not None else rubric.tolerance
    findings = list(ret.findings)
    read = _read_inputs(plan, ret, findings)
    inputs = read.values
    calc = compute(plan, inputs)
    findings += _check_formulas(plan, ret, calc, tol, read)
    items = []
    for item in rubric.items:
        item_result, found = _check_item(plan, item, ret, inputs, calc, read.unknown)
        items.append(item_result)
        findings += found
    findings += _check_identities(plan, inputs, calc, tol, read.unknown)
    findings += _check_blank_tables(plan, ret, inputs)
    findings += _plausibility(plan, ret, inputs, calc)
    recomputed = sum((i.recomputed for i in items), Decimal(0))
    reported = _number(ret.cells.get("total.self"), "score")
    if reported is None:
        selfs = [i.self for i in items if i.self is not None]
        reported = sum(selfs, Decimal(0)) if selfs else None
    findings += _grade_edge(plan, recomputed)
    findings += _meta(ret, inputs)
    grade_cell = ret.cells.get("grade.self")
    reported_grade = grade_cell.value if grade_cell and isinstance(grade_cell.value, str) else None
    result = CheckResult(
        file=ret.path,
        sha256=ret.sha256,
        edition=plan.edition.name,
        unit=_text(inputs.get("unit.name")) or ret.meta.get("unit") or None,
        code=_text(inputs.get("unit.code")) or ret.meta.get("code") or None,
        year=_year(inputs.get("unit.year"), ret.meta.get("year")),
        generated_at=ret.meta.get("generated_at"),
        reported_total=reported,
        recomputed_total=recomputed,
        reported_grade=reported_grade or None,
        recomputed_grade=rules.grade(recomputed, grade_bands(plan)),
        items=items,
        findings=_sorted(plan, ret, findings),
        facts={k: v for k, v in inputs.items() if v is not None},
        computed=dict(calc.values),
    )
    result.status = "errors" if result.counts[ERROR] else "ok"
    return result


# ------------------------------------------------------------------ reading inputs


@dataclass
class _Read:
    """The inputs as read: values, which could not be read at all, which Excel sees as text."""

    values: dict[str, Scalar] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)  # missing sheet/row, or unreadable text
    textual: set[str] = field(default_factory=set)  # numbers stored as text: Excel's sums skip them


def _read_inputs(plan: Plan, ret: Return, out: list[Finding]) -> _Read:
    read = _Read()
    for cell in plan.inputs():
        found = ret.cells.get(cell.id)
        if found is None:
            # A deleted row reads as blank (its label_missing finding says so); a whole missing sheet
            # leaves its inputs unknown, so nothing is recomputed from them.
            if cell.sheet not in ret.sheet_names:
                read.unknown.add(cell.id)
            continue
        value, status = _parse(cell, found, out, cell.id in formula_inputs(plan))
        read.values[cell.id] = value
        if status == "error":
            read.unknown.add(cell.id)
        elif status == "text":
            read.textual.add(cell.id)
        if value is None and status != "error" and cell.required:
            blank_score = cell.id.startswith("score.") and cell.id.endswith(".self")
            item = cell.id.split(".")[1] if blank_score else None
            out.append(
                Finding(
                    f"score.{item}.blank" if item else "input.blank",
                    ERROR if blank_score else WARNING,
                    f"{_where(found)} {cell.label}：未填写"
                    + ("，按 0 分计入总分" if blank_score else ("，按 0 计算" if cell.feeds else "")),
                    found.sheet,
                    found.ref,
                    item=item,
                )
            )
    return read


def _parse(cell: Cell, found: Located, out: list[Finding], in_formulas: bool) -> tuple[Scalar, str]:
    """(value, status): status is ok | error (unreadable) | text (a number Excel holds as text)."""
    raw = found.value
    if cell.type in ("text", "longtext"):
        if raw is None:
            return None, "ok"
        text = _int_text(raw) if isinstance(raw, float) else str(raw).strip()
        return text or None, "ok"
    note = None
    if cell.unit == "年" and isinstance(raw, str) and raw.strip().endswith("年"):
        note, raw = f"“{raw.strip()}”按 {raw.strip()[:-1].strip()} 读取", raw.strip()[:-1]
    parsed = parse_yesno(raw) if cell.type == "yesno" else parse_number(raw, NUMBER_UNITS[cell.type])
    if parsed.error:
        out.append(
            Finding(
                "input.invalid",
                ERROR,
                f"{_where(found)} {cell.label}：{parsed.error}",
                found.sheet,
                found.ref,
                reported=found.value,
            )
        )
        return None, "error"
    value, note = parsed.value, parsed.note or note
    as_text = in_formulas and isinstance(raw, str) and isinstance(value, Decimal)
    if as_text:
        why = note or f"“{str(raw).strip()}”是以文本形式存储的数字"
        out.append(
            Finding(
                "input.text_number",
                WARNING,
                f"{_where(found)} {cell.label}：{why}；Excel 的合计和公式会把文本当作 0，"
                "请改填纯数字（审核已按该数字计算）",
                found.sheet,
                found.ref,
                reported=found.value,
                expected=value,
            )
        )
    elif note:
        out.append(
            Finding(
                "input.normalized",
                INFO,
                f"{_where(found)} {cell.label}：{note}",
                found.sheet,
                found.ref,
                reported=found.value,
                expected=value,
            )
        )
    if isinstance(value, Decimal):
        bad = _out_of_range(cell, value)
        if bad:
            out.append(
                Finding(
                    "input.range",
                    ERROR,
                    f"{_where(found)} {cell.label}：{bad}",
                    found.sheet,
                    found.ref,
                    reported=value,
                )
            )
    return value, "text" if as_text else "ok"


def _out_of_range(cell: Cell, value: Decimal) -> str | None:
    if value < 0 and not cell.signed and cell.type != "score":
        return f"不应为负数（填报 {_fmt(value)}）"
    if cell.type in ("integer", "count") and value != value.to_integral_value():
        return f"应为整数（填报 {_fmt(value)}）"
    if cell.type == "percent" and value > 100:
        return f"百分比不应超过 100（填报 {_fmt(value)}）"
    return None


def _int_text(x: float) -> str:
    return str(int(x)) if x == int(x) else repr(x)


# ------------------------------------------------------------------ formula cells


def _check_formulas(
    plan: Plan, ret: Return, calc: Computation, tol: Decimal, read: _Read
) -> Iterator[Finding]:
    rubric = plan.edition.rubric
    expected = _expected_formulas(plan)
    deps = input_dependencies(plan)
    # A result built on an unreadable input, or on a number Excel holds as text, is not the
    # return's fault twice: the input's own finding says it; comparing would only cascade.
    doubtful = read.unknown | read.textual
    uncached = 0
    for cell in plan.formulas():
        found = ret.cells.get(cell.id)
        if found is None:
            continue
        if found.formula is None and found.value is None:
            yield Finding(
                "formula.overwritten",
                WARNING,
                f"{_where(found)} {_label(plan, cell)}：公式被删除（现为空白）；请恢复公式",
                found.sheet,
                found.ref,
            )
        elif found.formula is None:
            yield Finding(
                "formula.overwritten",
                WARNING,
                f"{_where(found)} {_label(plan, cell)}：原为公式，现被改为固定值"
                f"“{_show(found.value)}”；请恢复公式",
                found.sheet,
                found.ref,
                reported=found.value,
            )
        elif (
            found.how == "name"
            and found.ref == cell.ref
            and _norm_formula(found.formula) != expected[cell.id]
        ):
            yield Finding(
                "formula.changed",
                WARNING,
                f"{_where(found)} {_label(plan, cell)}：公式被改动（现为 ={found.formula}，"
                f"应为 {formulas_of(plan)[cell.id]}）",
                found.sheet,
                found.ref,
                reported="=" + found.formula,
                expected=formulas_of(plan)[cell.id],
            )
        want = calc.values.get(cell.id)
        if not found.cached:  # saved without a result (or with an empty one): nothing was reported
            uncached += want is not None
            continue
        if deps[cell.id] & doubtful:
            continue
        if cell.type == "text":
            reported_text = _text(found.value) or None
            if reported_text != want:
                yield _mismatch(plan, cell, found, reported_text, want, None)
            continue
        reported = _number(found, cell.type)
        if reported is None and want is None:
            continue
        limit = rubric.score_tolerance if cell.type == "score" else tol
        if reported is None or not isinstance(want, Decimal) or abs(reported - want) > limit:
            diff = reported - want if reported is not None and isinstance(want, Decimal) else None
            yield _mismatch(plan, cell, found, reported, want, diff)
    if uncached:
        yield Finding(
            "formula.no_cache",
            INFO,
            f"有 {uncached} 个公式单元格没有计算结果（文件可能由其他软件另存），其结果未能核对；"
            "得分与合计已按填报数据重新计算",
        )


_FORMULA_NOISE = re.compile(r"[\s$']")


def _norm_formula(text: str) -> str:
    """Formula text without what re-saving tools change: spaces, $, sheet-name quotes, case."""
    return _FORMULA_NOISE.sub("", text.lstrip("=")).upper()


@lru_cache(maxsize=64)
def _expected_formulas(plan: Plan) -> dict[str, str]:
    return {k: _norm_formula(v) for k, v in formulas_of(plan).items()}


def _mismatch(
    plan: Plan, cell: Cell, found: Located, reported: Any, expected: Any, diff: Decimal | None
) -> Finding:
    kind = cell.calc.kind if cell.calc else ""
    rid, severity, why = _formula_rule(plan, cell)
    unit = UNIT_TEXT.get(cell.type, "")
    if reported is not None:
        shown = f"{_fmt(reported)}{unit}"
    else:  # an error value such as #VALUE! is quoted as it shows
        shown = f"“{found.value}”" if isinstance(found.value, str) and found.value.strip() else "空白"
    want = f"{_fmt(expected)}{unit}" if expected is not None else "空白"
    gap = f"（相差 {_fmt(diff)}）" if diff is not None and kind in ("sum", "expr") else ""
    return Finding(
        rid,
        severity,
        f"{_where(found)} {_label(plan, cell)}：填报 {shown}，{why.format(want=want)}{gap}",
        found.sheet,
        found.ref,
        item=cell.calc.item if cell.calc else None,
        reported=reported,
        expected=expected,
        difference=diff,
    )


def _formula_rule(plan: Plan, cell: Cell) -> tuple[str, str, str]:
    """(rule id, severity, phrase with {want}) for a formula cell whose reported value is wrong."""
    calc = cell.calc
    assert calc is not None
    parts = cell.id.split(".")
    if calc.kind == "sum" and cell.sheet == plan.sheet("finance").name:
        return f"sum.{parts[0]}.{parts[2]}", ERROR, "按各单位（机构）合计应为 {want}"
    if calc.kind == "expr":
        return f"identity.{parts[0]}.{parts[2]}", ERROR, f"按“{_identity_text(plan, cell)}”应为 {{want}}"
    if calc.kind == "metric":
        return f"metric.{calc.item}", WARNING, "按填报数据计算应为 {want}"
    if calc.kind == "score":
        return f"ref.{calc.item}", WARNING, "按评分标准计算应为 {want}（公式被改动或未重新计算）"
    if cell.id.startswith("perf."):
        return cell.id, ERROR, "应与评分表一致，即 {want}"
    part = parts[-1]
    severity = ERROR if part == "self" else WARNING
    if calc.kind == "grade":
        return f"grade.{part}", severity, "按总分及等次标准应为 {want}"
    return (
        f"{'total' if cell.id.startswith('total.') else 'subtotal'}.{part}",
        severity,
        "按各项得分合计应为 {want}",
    )


def _identity_text(plan: Plan, cell: Cell) -> str:
    assert cell.calc is not None and cell.calc.expr is not None
    return f"{cell.label} = " + expr.to_excel(cell.calc.expr, lambda f: plan.cells[f].label)


def _label(plan: Plan, cell: Cell) -> str:
    """A formula cell's name as a finance officer says it: 收入合计（1、局机关）."""
    if cell.sheet == plan.sheet("finance").name:
        return f"{cell.label}（{cell.path[2]}）"
    return cell.label


# ------------------------------------------------------------------ rubric items


def _check_item(
    plan: Plan, item: Item, ret: Return, inputs: dict[str, Scalar], calc: Computation, unknown: set[str]
) -> tuple[ItemResult, list[Finding]]:
    rubric = plan.edition.rubric
    outcome = calc.outcomes[item.id]
    self_id = f"score.{item.id}.self"
    found = ret.cells.get(self_id)
    own = inputs.get(self_id)
    own = own if isinstance(own, Decimal) else None
    where = _where(found) if found else f"{plan.cells[self_id].where}"
    sheet, ref = (found.sheet, found.ref) if found else (None, None)
    out: list[Finding] = []
    missing = sorted(input_dependencies(plan)[f"score.{item.id}.ref"] - {self_id} & unknown)
    if missing:  # the rule cannot be recomputed: say so, and let the self-score stand unverified
        names = "、".join(plan.cells[m].label for m in missing[:3]) + ("等" if len(missing) > 3 else "")
        out.append(
            Finding(
                f"score.{item.id}.unverified",
                WARNING,
                f"{where} {item.name}：所依据的 {names} 无法读取，本项无法复核，暂按自评得分计",
                sheet,
                ref,
                item.id,
                own,
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
                Finding(
                    f"score.{item.id}.range",
                    ERROR,
                    f"{where} {item.name}：自评 {_fmt(own)} 分，超出 0～{_fmt(item.max)} 分的范围",
                    sheet,
                    ref,
                    item.id,
                    own,
                    item.max,
                )
            )
        elif item.rule.kind != "judgement":
            matched = next((r for r, s in readings.items() if abs(s - own) <= tol), None)
            if matched is None:
                out.append(
                    Finding(
                        f"score.{item.id}",
                        ERROR,
                        f"{where} {item.name}：自评 {_fmt(own)} 分，按规则应为 "
                        f"{_alternatives(defensible)} 分（{_explain(plan, item, outcome, inputs, calc)}）",
                        sheet,
                        ref,
                        item.id,
                        own,
                        outcome.score,
                        own - outcome.score,
                    )
                )
            elif matched and matched != item.rule.readings[0]:
                out.append(
                    Finding(
                        f"score.{item.id}.reading",
                        INFO,
                        f"{where} {item.name}：自评 {_fmt(own)} 分符合“{rubric.readings[matched]}”"
                        f"的读法（按“{rubric.readings[item.rule.readings[0]]}”为 {_fmt(outcome.score)} 分）",
                        sheet,
                        ref,
                        item.id,
                        own,
                        outcome.score,
                    )
                )
        note = inputs.get(f"score.{item.id}.note")
        if Decimal(0) <= own < item.max and not note:
            out.append(
                Finding(
                    f"score.{item.id}.reason",
                    WARNING,
                    f"{where} {item.name}：自评 {_fmt(own)} 分低于分值 {_fmt(item.max)} 分，但未填写扣分原因",
                    sheet,
                    ref,
                    item.id,
                    own,
                )
            )
    if outcome.note and outcome.metric is None and item.rule.zero is not None:
        out.append(
            Finding(
                f"score.{item.id}.zero",
                INFO,
                f"{where} {item.name}：{outcome.note}，按规则计 {_fmt(outcome.score)} 分",
                sheet,
                ref,
                item.id,
                own,
                outcome.score,
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
    return " 或 ".join(_fmt(s) for s in scores)


def _explain(
    plan: Plan, item: Item, outcome: rules.Outcome, inputs: dict[str, Scalar], calc: Computation
) -> str:
    """Why the rule gives what it gives, with the numbers: quoted in the finding."""
    rule = item.rule

    def value(fid: str) -> Decimal:
        return _number_of(plan, inputs, calc, fid) or Decimal(0)

    if rule.kind == "checklist":
        missing = [
            f"{plan.cells[f].label[:1]}（{_fmt(p)} 分）" for f, p in rule.checks if inputs.get(f) != "是"
        ]
        return "未满足：" + "、".join(missing) if missing else "各项均为“是”"
    if rule.kind == "per_count":
        assert rule.count is not None
        return f"{plan.cells[rule.count].label} {_fmt(value(rule.count))}，每个扣 {_fmt(rule.step)} 分"
    metric = rule.metric
    assert metric is not None
    if outcome.metric is None:
        return outcome.note or ""
    unit = "%" if metric.is_rate else UNIT_TEXT.get("amount" if metric.unit == "万元" else "percent", "")
    text = f"{metric.label.split('（')[0]} {_fmt(outcome.metric)}{unit}"
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
            extra = "，".join(f"{plan.cells[b.field].label} {_fmt(value(b.field))}{unit}" for b in bounds)
            text += f"，{band.label or '属于“' + band.text + '”档'}" + (f"（{extra}）" if extra else "")
        return text
    side = "超过" if rule.direction == "over" else "低于"
    return f"{text}，每{side} {_fmt(rule.threshold)}% 一个百分点扣 {_fmt(rule.step)} 分"


# ------------------------------------------------------------------ identities, tables, plausibility


def _check_identities(
    plan: Plan, inputs: dict[str, Scalar], calc: Computation, tol: Decimal, unknown: set[str]
) -> Iterator[Finding]:
    deps = input_dependencies(plan)

    def value(fid: str) -> Decimal:
        return _number_of(plan, inputs, calc, fid) or Decimal(0)

    for ident in plan.edition.rubric.identities:
        if any(not isinstance(inputs.get(f), Decimal) for f in ident.when_filled):
            continue
        if any(deps[r] & unknown for r in [*expr.refs(ident.left), *expr.refs(ident.right)]):
            continue
        left, right = expr.evaluate(ident.left, value), expr.evaluate(ident.right, value)
        if abs(left - right) > tol:
            first = plan.cells[ident.when_filled[0]]
            yield Finding(
                f"identity.{ident.id}",
                ERROR,
                f"{first.where} {ident.label}：左边 {_fmt(left)} 万元，右边 {_fmt(right)} 万元"
                f"（相差 {_fmt(left - right)}）",
                first.sheet,
                first.ref,
                reported=right,
                expected=left,
                difference=right - left,
            )


def _check_blank_tables(plan: Plan, ret: Return, inputs: dict[str, Scalar]) -> Iterator[Finding]:
    for table in plan.edition.form.tables:
        cells = [c for c in plan.inputs() if c.id.startswith(f"{table.id}.org.")]
        located = [c for c in cells if c.id in ret.cells]
        if located and len(located) == len(cells) and all(ret.cells[c.id].value is None for c in cells):
            yield Finding(
                "input.table_blank",
                WARNING,
                f"{cells[0].where} {table.title}：局机关一行全部未填写",
                cells[0].sheet,
                cells[0].ref,
            )


def _plausibility(plan: Plan, ret: Return, inputs: dict[str, Scalar], calc: Computation) -> Iterator[Finding]:
    p = plan.edition.rubric.plausibility

    def value(fid: str) -> Decimal | None:
        return _number_of(plan, inputs, calc, fid)

    for cell in plan.inputs():
        v = value(cell.id) if cell.type == "amount" else None
        if v is not None and abs(v) > p["max_amount"]:
            yield Finding(
                "plausible.yuan",
                WARNING,
                f"{cell.where} {cell.label}：{_fmt(v)} 万元（即 {_fmt(v / 10000)} 亿元）过大，"
                "是否按元填写？本表金额单位为万元",
                cell.sheet,
                cell.ref,
                reported=v,
            )
    spent, staff = value("expense.total.total"), value("unit.staff_actual")
    if spent and staff and spent / staff > p["max_per_capita"]:
        where = plan.cells["expense.total.total"]
        yield Finding(
            "plausible.per_capita",
            WARNING,
            f"{where.where} 支出合计 {_fmt(spent)} 万元，人均 {_fmt(_q(spent / staff))} 万元，"
            f"超过 {_fmt(p['max_per_capita'])} 万元/人，是否按元填写？",
            where.sheet,
            where.ref,
            reported=spent,
        )
    for a, b in p["pairs"]:
        va, vb = value(a), value(b)
        if va and vb and (abs(va / vb) >= p["pair_ratio"] or abs(vb / va) >= p["pair_ratio"]):
            ca, cb = plan.cells[a], plan.cells[b]
            yield Finding(
                "plausible.scale",
                WARNING,
                f"{ca.where} {ca.label} {_fmt(va)} 万元与 {cb.label} {_fmt(vb)} 万元相差上千倍，"
                "是否有一项按元填写？",
                ca.sheet,
                ca.ref,
                reported=va,
                expected=vb,
            )
    for cell in plan.inputs():
        if re.fullmatch(r"perf\.[a-z]+(\.\d+)?\.done", cell.id) and not cell.id.startswith("perf.qual."):
            target = inputs.get(cell.id.replace(".done", ".target"))
            done = inputs.get(cell.id)
            if target and isinstance(done, str) and not _DIGIT.search(done):
                yield Finding(
                    "plausible.no_number",
                    INFO,
                    f"{cell.where} {cell.label}：“{done[:20]}”没有任何数字，定量目标的完成情况宜写明完成数",
                    cell.sheet,
                    cell.ref,
                    reported=done,
                )


def _grade_edge(plan: Plan, total: Decimal) -> Iterator[Finding]:
    margin = plan.edition.rubric.plausibility["grade_margin"]
    for g in plan.edition.rubric.grades:
        if g.min > 0 and abs(total - g.min) < margin:
            cell = plan.cells["total.ref"]
            side = "以上" if total >= g.min else "以下"
            yield Finding(
                "plausible.grade_edge",
                INFO,
                f"{cell.where} 复核总分 {_fmt(total)} 分，距“{g.label}”分界线 {_fmt(g.min)} 分不足 "
                f"{_fmt(margin)} 分（在分界线{side}），请重点复核",
                cell.sheet,
                cell.ref,
                reported=total,
                expected=g.min,
            )


def _meta(ret: Return, inputs: dict[str, Scalar]) -> Iterator[Finding]:
    name, year = _text(inputs.get("unit.name")), inputs.get("unit.year")
    if ret.meta.get("unit") and name and squash_spaces(name) != squash_spaces(ret.meta["unit"]):
        yield Finding(
            "meta.unit",
            WARNING,
            f"基本概况 单位名称“{name}”与下发模板时的单位“{ret.meta['unit']}”不一致，请确认是否报错了表",
            reported=name,
            expected=ret.meta["unit"],
        )
    if ret.meta.get("year") and isinstance(year, Decimal) and str(int(year)) != ret.meta["year"]:
        yield Finding(
            "meta.year",
            WARNING,
            f"基本概况 年度 {int(year)} 与下发模板的年度 {ret.meta['year']} 不一致",
            reported=int(year),
            expected=int(ret.meta["year"]),
        )


# ------------------------------------------------------------------ helpers


def _number_of(plan: Plan, inputs: dict[str, Scalar], calc: Computation, fid: str) -> Decimal | None:
    """A field's number as the checker knows it: read (an input) or recomputed (a formula)."""
    v = inputs.get(fid) if plan.cells[fid].is_input else calc.values.get(fid)
    return v if isinstance(v, Decimal) else None


def _number(found: Located | None, ftype: str) -> Decimal | None:
    if found is None or found.value is None or isinstance(found.value, bool):
        return None
    parsed = parse_number(found.value, NUMBER_UNITS.get(ftype))
    return parsed.value if isinstance(parsed.value, Decimal) else None


def _where(found: Located) -> str:
    return f"{found.sheet}!{found.ref}"


def _text(v: object) -> str:
    return v.strip() if isinstance(v, str) else ""


def _year(value: Scalar, meta_year: str | None) -> int | None:
    if isinstance(value, Decimal):
        return int(value)
    return int(meta_year) if meta_year and meta_year.isdigit() else None


def _q(x: Decimal) -> Decimal:
    return rules.quantize(x, 2)


def _fmt(value: Any) -> str:
    """Numbers as a finance officer writes them: 3.29, 97, -0.38 (no exponent, no trailing zeros)."""
    if isinstance(value, Decimal):
        v = _q(value) if value == value.quantize(Decimal("0.01")) or abs(value) >= 1 else value
        text = format(v.normalize(), "f")
        return text
    return _show(value)


def _show(value: Any) -> str:
    if isinstance(value, float):
        return _int_text(value)
    return "" if value is None else str(value)


def _sorted(plan: Plan, ret: Return, findings: list[Finding]) -> list[Finding]:
    order = {sp.name: i for i, sp in enumerate(plan.sheets)}
    for plan_name, actual in ret.sheet_names.items():
        order[actual] = order.get(plan_name, 99)

    def key(f: Finding) -> tuple[int, int, int, int]:
        row, col = 0, 0
        if f.cell:
            m = re.match(r"([A-Z]+)(\d+)", f.cell)
            if m:
                row, col = int(m.group(2)), len(m.group(1)) * 100 + ord(m.group(1)[-1])
        return SEVERITIES.index(f.severity), order.get(f.sheet or "", -1), row, col

    return sorted(findings, key=key)
