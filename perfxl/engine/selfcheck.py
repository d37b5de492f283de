"""The self-check (自查) a unit runs inside its own workbook before sending it, as plain data.

One row per check the checker makes of identities and scores — every formula cell whose wrong
value is an 错误 (汇总 rows, row identities, score totals and subtotals, grades), every rubric
identity, every rubric item's self-score — and, per sheet, one row for its required inputs. A row
names the rule id the checker reports when the check fails and the cell it concerns, and holds
three Excel formulas: what the return holds (填报值), what it should hold (应为) and the status
(✓ 通过 / 需修改 / 未填写, and — for an optional identity left blank).

应为 is the checker's own recomputation, in Excel: every formula cell a check needs is computed
again on this sheet from the input cells alone (``formulas.formula`` reading inputs where they are
and formula cells from here), so a total typed over upstream cannot hide a mistake downstream,
just as the checker never trusts a formula's result. Each status compares as the checker does,
with the rubric's tolerances. ``cached`` is the Python twin that gives a fresh template its
cached values (LibreOffice and previewers show those without recalculating). Pure: no file I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from perfxl.engine.catalogue import entry, formula_rule
from perfxl.engine.compute import Computation, Scalar, compute, input_dependencies
from perfxl.engine.findings import ERROR
from perfxl.engine.formulas import Place, formula
from perfxl.engine.layout import Cell, Plan, a1, col_letter
from perfxl.spec import Item, expr
from perfxl.spec.kinds.common import NOISE_PLACES, number_text, quantize
from perfxl.spec.model import Identity

SHEET = "自查"
STATUS_NAME = "perfxl_selfcheck"  # defined name of the status column, read by the conditional formats
OK, FIX, BLANK, NOT_APPLICABLE = "✓", "需修改", "未填写", "—"
HEADER = ("序号", "检查项", "位置", "填报值", "应为", "状态", "说明")
WIDTHS = (5, 42, 14, 11, 11, 8, 48)
REPORTED, EXPECTED, STATUS, NOTE = 3, 4, 5, 6  # columns
HELPER = 7  # the first hidden column: a count, a recomputed metric, the other readings' scores
TITLE_ROW, SUMMARY_ROW, NOTE_ROW, HEADER_ROW = 0, 1, 2, 4
EXPLAINED = (
    "本表随填写自动核对各项合计、勾稽关系和自评得分，与财政部门审核的规则相同（金额允许误差 {tol} 万元）。"
    "状态：✓ 通过；需修改 —— 与规则或勾稽关系不符；未填写 —— 必填项、自评得分、扣分原因或评分所依据的"
    "是/否未填（空白不等于“否”）；"
    "— 选填项未填，不核对。"
    "点击“位置”可转到该单元格。表上红色为需修改，橙色为未填写。报送前请使“需修改”为 0。"
)


@dataclass(frozen=True)
class Check:
    """One row of the 自查 sheet: a heading, or a check with its formulas."""

    row: int
    kind: str  # heading | required | formula | identity | item
    label: str
    number: int | None = None  # 序号
    rule: str | None = None  # the rule id the checker reports when this check fails
    field: str | None = None  # the field whose cell the check concerns
    sheet: str | None = None  # where that cell is (the link, the marks)
    ref: str | None = None
    type: str | None = None  # field type of 填报值 and 应为 (their number format)
    reported: str | None = None  # formulas, with "="
    expected: str | None = None
    status: str | None = None
    note: str | None = None  # text, or a formula
    helpers: tuple[str, ...] = ()  # formulas of the hidden columns from HELPER on
    fields: tuple[str, ...] = ()  # a required row's cells


@dataclass(frozen=True)
class Mark:
    """A conditional format on a form cell (and its merged span): ``style`` while ``formula`` holds."""

    sheet: str
    row: int
    col: int
    rows: int
    cols: int
    formula: str
    style: str  # fix (红) | blank (橙)


@dataclass(frozen=True)
class SelfCheck:
    checks: tuple[Check, ...]  # in row order
    first: int  # the first and last row of the list
    last: int
    summary: str  # the live line “自查：n 项需修改，m 项未填写” (a formula)
    marks: tuple[Mark, ...]

    @property
    def status_range(self) -> str:
        col = col_letter(STATUS)
        return f"${col}${self.first + 1}:${col}${self.last + 1}"


# ------------------------------------------------------------------ the rows


@lru_cache(maxsize=64)
def build(plan: Plan) -> SelfCheck:
    """The 自查 sheet of a plan: its rows in the order of the form's sheets and cells."""
    rubric = plan.edition.rubric
    items = {f"score.{i.id}.self": i for i in rubric.items}
    # A 评价报告 draft is a suggestion, never compared: it has no rule to mirror.
    compared = [c for c in plan.formulas() if c.calc is not None and c.calc.kind != "draft"]
    formulas = {c.id: c for c in compared if entry(formula_rule(plan, c)).severity == ERROR}
    identities = {i.when_filled[0]: i for i in rubric.identities}
    todo: list[tuple[str, object]] = []  # (kind, what) in row order, headings included
    for sp in plan.sheets:
        required = [c for c in sp.cells if c.is_input and c.required and c.id not in items]
        targets = [c for c in sp.cells if c.id in formulas or c.id in identities or c.id in items]
        if not required and not targets:
            continue
        todo.append(("heading", sp.name))
        if required:
            todo.append(("required", tuple(required)))
        for c in sorted(targets, key=lambda c: (c.row, c.col)):
            kind = "formula" if c.id in formulas else "identity" if c.id in identities else "item"
            todo.append((kind, identities.get(c.id) or items.get(c.id) or c))
    first = HEADER_ROW + 1
    rows = {n: first + n for n in range(len(todo))}
    # Where the recomputation of each formula cell lives on this sheet (see the module docstring).
    shadow: dict[str, Place] = {}
    for n, (kind, what) in enumerate(todo):
        if kind == "formula":
            assert isinstance(what, Cell)
            shadow[what.id] = (SHEET, rows[n], EXPECTED)
        elif kind == "item":
            assert isinstance(what, Item)
            if f"metric.{what.id}" in plan.cells:
                shadow[f"metric.{what.id}"] = (SHEET, rows[n], HELPER)

    def where(fid: str) -> Place:
        cell = plan.cells[fid]
        if cell.is_input:
            return cell.sheet, cell.row, cell.col
        if fid not in shadow:
            raise ValueError(f"自查无法重算“{cell.label}”（{fid}）：它不在自查表上")
        return shadow[fid]

    build_row = _Rows(plan, where)
    checks: list[Check] = []
    number = 0
    for n, (kind, what) in enumerate(todo):
        if kind == "heading":
            checks.append(Check(rows[n], "heading", f"【{what}】"))
            continue
        number += 1
        checks.append(build_row.check(kind, what, rows[n], number))
    last = first + len(todo) - 1
    rng = f"${col_letter(STATUS)}${first + 1}:${col_letter(STATUS)}${last + 1}"
    fix, blank = f'COUNTIF({rng},"{FIX}")', f'COUNTIF({rng},"{BLANK}")'
    summary = f'="自查："&{fix}&" 项需修改，"&{blank}&" 项未填写"&IF({fix}+{blank}=0,"，可以报送","")'
    marks = _marks(plan, checks, first)
    return SelfCheck(tuple(checks), first, last, summary, marks)


class _Rows:
    """Builds each kind of row; ``where`` places fields for the recomputation."""

    def __init__(self, plan: Plan, where: Callable[[str], Place]) -> None:
        self.plan, self.where = plan, where
        self.rubric = plan.edition.rubric

    def ref(self, fid: str) -> str:
        sheet, row, col = self.where(fid)
        return a1(row, col) if sheet == SHEET else f"'{sheet}'!{a1(row, col)}"

    def check(self, kind: str, what: object, row: int, number: int) -> Check:
        if kind == "required":
            assert isinstance(what, tuple)
            return self.required(what, row, number)
        if kind == "formula":
            assert isinstance(what, Cell)
            return self.formula(what, row, number)
        if kind == "identity":
            assert isinstance(what, Identity)
            return self.identity(what, row, number)
        assert isinstance(what, Item)
        return self.item(what, row, number)

    def required(self, cells: tuple[Cell, ...], row: int, number: int) -> Check:
        count = "=" + "+".join(f"IF(LEN(TRIM({self.ref(c.id)}))=0,1,0)" for c in cells)
        h = a1(row, HELPER)
        return Check(
            row,
            "required",
            f"必填项（共 {len(cells)} 项）",
            number,
            rule="input.blank",
            field=cells[0].id,
            sheet=cells[0].sheet,
            ref=cells[0].ref,
            status=f'=IF({h}=0,"{OK}","{BLANK}")',
            note=f'=IF({h}=0,"已全部填写",{h}&" 项未填写（已用橙色标出）")',
            helpers=(count,),
            fields=tuple(c.id for c in cells),
        )

    def formula(self, cell: Cell, row: int, number: int) -> Check:
        x, e = f"'{cell.sheet}'!{cell.ref}", a1(row, EXPECTED)
        if cell.type == "text":
            test = f'IF(TRIM({x})={e},"{OK}","{FIX}")'
        else:
            tol = self.rubric.score_tolerance if cell.type == "score" else self.rubric.tolerance
            test = f'IF(ISBLANK({x}),"{FIX}",IF({_differ(x, e, tol)},"{FIX}","{OK}"))'
        # A formula showing nothing reports nothing: the checker cannot tell it from a result never
        # saved (formula.no_cache) and does not compare it; neither does this.
        status = f'=IFERROR(IF(AND(NOT(ISBLANK({x})),LEN({x})=0),"{OK}",{test}),"{FIX}")'
        return Check(
            row,
            "formula",
            _label(self.plan, cell),
            number,
            rule=formula_rule(self.plan, cell),
            field=cell.id,
            sheet=cell.sheet,
            ref=cell.ref,
            type=cell.type,
            reported=f'=IF(ISBLANK({x}),"",{x})',
            expected=formula(self.plan, cell, where=self.where, sheet=SHEET),
            status=status,
            note=_formula_note(self.plan, cell),
        )

    def identity(self, ident: Identity, row: int, number: int) -> Check:
        first = self.plan.cells[ident.when_filled[0]]
        left, right = (expr.to_excel(side, self.ref) for side in (ident.left, ident.right))
        filled = f"COUNT({','.join(self.ref(f) for f in ident.when_filled)})<{len(ident.when_filled)}"
        tol = self.rubric.tolerance
        return Check(
            row,
            "identity",
            ident.label,
            number,
            rule=f"identity.{ident.id}",
            field=first.id,
            sheet=first.sheet,
            ref=first.ref,
            type="amount",
            reported=f'=IF({filled},"",{right})',
            expected=f"={left}",
            status=f'=IF({filled},"{NOT_APPLICABLE}",'
            f'IFERROR(IF({_differ(f"({left})", f"({right})", tol)},"{FIX}","{OK}"),"{FIX}"))',
            note="选填；填写后须相符（“填报值”为右边各项之和，“应为”为左边）",
        )

    def item(self, item: Item, row: int, number: int) -> Check:
        plan, rubric = self.plan, self.rubric
        own, note = f"score.{item.id}.self", f"score.{item.id}.note"
        s = self.ref(own)
        ref_cell = plan.cells[f"score.{item.id}.ref"]
        readings: tuple[str | None, ...] = item.rule.readings or (None,)
        scores = [formula(plan, ref_cell, where=self.where, sheet=SHEET, reading=r) for r in readings]
        helpers: list[str] = []
        if f"metric.{item.id}" in plan.cells:
            helpers.append(formula(plan, plan.cells[f"metric.{item.id}"], where=self.where, sheet=SHEET))
        else:
            helpers.append("")
        helpers += scores[1:]
        places = [a1(row, EXPECTED)] + [a1(row, HELPER + k) for k in range(1, len(scores))]
        tol, top = rubric.score_tolerance, expr.num(item.max)
        differs = "AND(" + ",".join(_differ(s, p, tol) for p in places) + ")"
        reason = (
            f'IF(AND({s}<{top},LEN(TRIM({self.ref(note)}))=0),"{BLANK}","{OK}")'
            if note in plan.cells
            else f'"{OK}"'
        )
        verdict = f'IF(OR({s}<0,{s}>{top}),"{FIX}",IF({differs},"{FIX}",{reason}))'
        answers = checklist(plan, item)
        if answers:
            # A 是/否 left blank is not “否” (as the checker reads it): while any is blank the rule gives
            # only a range, from every blank a “否” (应为, as 参考得分 counts it) to every blank a “是”
            # (recomputed here from hidden copies of the answers with the blanks read as “是”).
            # A self-score in that range waits for the answers (未填写); one outside is wrong either way.
            first = HELPER + len(helpers)
            copies = {f: (SHEET, row, first + 2 + k) for k, f in enumerate(answers)}

            def as_yes(fid: str) -> Place:
                return copies.get(fid) or self.where(fid)

            high = formula(plan, ref_cell, where=as_yes, sheet=SHEET, reading=readings[0])
            count = "=" + "+".join(f"IF(LEN(TRIM({self.ref(f)}))=0,1,0)" for f in answers)
            helpers += [count, high]
            helpers += [f'=IF(LEN(TRIM({self.ref(f)}))=0,"是",{self.ref(f)})' for f in answers]
            n, h = a1(row, first), a1(row, first + 1)
            low = a1(row, EXPECTED)
            outside = (
                f"OR(ROUND({low}-{s},{NOISE_PLACES})>{expr.num(tol)},"
                f"ROUND({s}-{h},{NOISE_PLACES})>{expr.num(tol)})"
            )
            verdict = f'IF({n}>0,IF({outside},"{FIX}","{BLANK}"),{verdict})'
        status = f'=IFERROR(IF(ISBLANK({s}),"{BLANK}",IF(NOT(ISNUMBER({s})),"{FIX}",{verdict})),"{FIX}")'
        cell = plan.cells[own]
        return Check(
            row,
            "item",
            f"{item.id} {item.name}",
            number,
            rule=f"score.{item.id}",
            field=own,
            sheet=cell.sheet,
            ref=cell.ref,
            type="score",
            reported=f'=IF(ISBLANK({s}),"",{s})',
            expected=scores[0],
            status=status,
            note=_item_note(plan, item),
            helpers=tuple(helpers),
        )


def checklist(plan: Plan, item: Item) -> tuple[str, ...]:
    """The 是/否 answers an item's rule reads (its checklist), in the form's order."""
    needs = input_dependencies(plan)[f"score.{item.id}.ref"]
    found = [plan.cells[f] for f in needs if plan.cells[f].type == "yesno"]
    return tuple(c.id for c in sorted(found, key=lambda c: (c.sheet, c.row, c.col)))


def _differ(a: str, b: str, tol: Decimal) -> str:
    """Excel: a and b differ by more than ``tol`` (binary noise rounded off, as ``shown`` does)."""
    return f"ROUND(ABS({a}-{b}),{NOISE_PLACES})>{expr.num(tol)}"


def _label(plan: Plan, cell: Cell) -> str:
    if cell.sheet == plan.sheet("finance").name:
        table = re.sub(r"[（(][^）)]*[）)]$", "", cell.path[1])  # without its “（万元）”
        return f"{table}：{cell.label}（{cell.path[2]}）"
    return cell.label


def _formula_note(plan: Plan, cell: Cell) -> str:
    calc = cell.calc
    assert calc is not None
    if calc.kind == "expr":
        assert calc.expr is not None
        return f"{cell.label} = " + expr.to_excel(calc.expr, lambda f: plan.cells[f].label)
    if calc.kind == "sum":
        finance = cell.sheet == plan.sheet("finance").name
        return "应等于各单位（机构）之和" if finance else "应等于所属各项自评得分之和"
    if calc.kind == "grade":
        return "应为总分所对应的等次"
    source = plan.cells[calc.args[0]]
    return f"应与“{source.sheet}”的{source.label}一致"


def _item_note(plan: Plan, item: Item) -> str:
    rubric = plan.edition.rubric
    if item.rule.kind == "judgement":
        text = f"主观评分：填 0～{number_text(item.max)} 分"
    else:
        text = "自评得分应与参考得分一致"
        others = [rubric.readings[r].split("（")[0] for r in item.rule.readings[1:]]
        if others:
            text += "（" + "、".join(others) + "的得分也接受）"
    if checklist(plan, item):
        text += "；所依据的是/否须逐项填写（空白不等于“否”）"
    return text + "；扣分须写明原因"


def _marks(plan: Plan, checks: list[Check], first: int) -> tuple[Mark, ...]:
    """Red on a cell whose check needs fixing, orange on a required cell left blank."""
    out: list[Mark] = []

    def mark(cell: Cell, formula: str, style: str) -> None:
        sp = next(s for s in plan.sheets if s.name == cell.sheet)
        rows, cols = sp.merges.get((cell.row, cell.col), (1, 1))
        out.append(Mark(cell.sheet, cell.row, cell.col, rows, cols, formula, style))

    for c in checks:
        if c.kind in ("heading", "required") or c.field is None:
            continue
        status = f"INDEX({STATUS_NAME},{c.row - first + 1})"
        cell = plan.cells[c.field]
        mark(cell, f'{status}="{FIX}"', "fix")
        if c.kind == "item" and f"score.{c.field.split('.')[1]}.note" in plan.cells:
            note = plan.cells[f"score.{c.field.split('.')[1]}.note"]
            missing = f"NOT(ISBLANK({_absolute(cell)})),LEN(TRIM({_absolute(note)}))=0"
            mark(note, f'AND({status}="{BLANK}",{missing})', "blank")
    for cell in plan.inputs():
        if cell.required:
            mark(cell, f"LEN(TRIM({_absolute(cell)}))=0", "blank")
    return tuple(out)


def _absolute(cell: Cell) -> str:
    return f"${col_letter(cell.col)}${cell.row + 1}"


# ------------------------------------------------------------------ cached values


def cached(
    sc: SelfCheck, plan: Plan, inputs: Mapping[str, Scalar], calc: Computation
) -> dict[tuple[int, int], Scalar]:
    """(row, col) -> the value each formula of the sheet shows for a workbook just written with
    ``inputs`` (whose formula cells therefore hold ``calc``'s values): the Python twin."""
    rubric = plan.edition.rubric
    out: dict[tuple[int, int], Scalar] = {}

    def value(fid: str) -> Scalar:
        return inputs.get(fid) if plan.cells[fid].is_input else calc.values.get(fid)

    def num(fid: str) -> Decimal:
        v = value(fid)
        return v if isinstance(v, Decimal) else Decimal(0)

    for c in sc.checks:
        if c.kind == "required":
            n = sum(1 for fid in c.fields if _blank(inputs.get(fid)))
            out[(c.row, HELPER)] = Decimal(n)
            out[(c.row, STATUS)] = OK if n == 0 else BLANK
            out[(c.row, NOTE)] = "已全部填写" if n == 0 else f"{n} 项未填写（已用橙色标出）"
        elif c.kind == "formula":
            assert c.field is not None
            shown = calc.values.get(c.field)
            out[(c.row, REPORTED)] = "" if shown is None else shown
            out[(c.row, EXPECTED)] = "" if shown is None else shown
            out[(c.row, STATUS)] = OK  # a fresh workbook's formula cells hold the recomputation
        elif c.kind == "identity":
            ident = next(i for i in rubric.identities if f"identity.{i.id}" == c.rule)
            left, right = expr.evaluate(ident.left, num), expr.evaluate(ident.right, num)
            filled = all(isinstance(inputs.get(f), Decimal) for f in ident.when_filled)
            out[(c.row, REPORTED)] = right if filled else ""
            out[(c.row, EXPECTED)] = left
            out[(c.row, STATUS)] = (
                NOT_APPLICABLE if not filled else FIX if _differs(left, right, rubric.tolerance) else OK
            )
        elif c.kind == "item":
            assert c.field is not None
            item = rubric.item(c.field.split(".")[1])
            outcome = calc.outcomes[item.id]
            scores = (
                [outcome.readings[r] for r in item.rule.readings] if outcome.readings else [outcome.score]
            )
            own = inputs.get(c.field)
            out[(c.row, REPORTED)] = "" if own is None else own
            out[(c.row, EXPECTED)] = scores[0]
            metric = calc.values.get(f"metric.{item.id}") if f"metric.{item.id}" in plan.cells else None
            out[(c.row, HELPER)] = "" if metric is None else metric
            for k, s in enumerate(scores[1:], start=1):
                out[(c.row, HELPER + k)] = s
            note = inputs.get(f"score.{item.id}.note")
            answers = checklist(plan, item)
            unanswered = [f for f in answers if _blank(inputs.get(f))]
            high = None
            if answers:
                first = HELPER + len(scores)
                high = scores[0]  # the score with every blank answer a “是” (none blank: the score)
                if unanswered:
                    high = (
                        compute(plan, {**inputs, **dict.fromkeys(unanswered, "是")}).outcomes[item.id].score
                    )
                out[(c.row, first)] = Decimal(len(unanswered))
                out[(c.row, first + 1)] = high
                for k, f in enumerate(answers):
                    out[(c.row, first + 2 + k)] = "是" if f in unanswered else inputs.get(f)
            status = _item_status(own, item.max, scores, note, rubric.score_tolerance)
            if unanswered and high is not None and isinstance(own, Decimal):
                outside = _differs_below(scores[0], own, rubric.score_tolerance) or _differs_below(
                    own, high, rubric.score_tolerance
                )
                status = FIX if outside else BLANK
            out[(c.row, STATUS)] = status
    statuses = [v for (_row, col), v in out.items() if col == STATUS]
    fix, blank = statuses.count(FIX), statuses.count(BLANK)
    out[(SUMMARY_ROW, 0)] = summary_text(fix, blank)
    return out


def summary_text(fix: int, blank: int) -> str:
    return f"自查：{fix} 项需修改，{blank} 项未填写" + ("，可以报送" if fix + blank == 0 else "")


def _item_status(own: Scalar, top: Decimal, scores: list[Decimal], note: Scalar, tol: Decimal) -> str:
    """The item's status as the checker sees it: blank, out of range, no reading matches, no reason."""
    if own is None:
        return BLANK
    if not isinstance(own, Decimal) or not Decimal(0) <= own <= top:
        return FIX
    if all(_differs(own, s, tol) for s in scores):
        return FIX
    if own < top and _blank(note):
        return BLANK
    return OK


def _differs_below(a: Decimal, b: Decimal, tol: Decimal) -> bool:
    """``a`` exceeds ``b`` by more than ``tol`` (as the sheet's ROUND(a-b)>tol)."""
    return quantize(a - b, NOISE_PLACES) > tol


def _differs(a: Decimal, b: Decimal, tol: Decimal) -> bool:
    return quantize(abs(a - b), NOISE_PLACES) > tol


def _blank(value: Scalar) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
