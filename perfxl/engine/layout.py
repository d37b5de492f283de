"""Place an edition on sheets: every label, input and formula cell of the form, as plain data.

The template writer draws this plan; the reader finds inputs through it; the field dictionary
is read off it. Nothing here touches a file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any

from perfxl.engine.text import wrapped_lines
from perfxl.spec import Edition, FieldDef, Item, SpecError, expr, rule_refs, sentence
from perfxl.spec.narrative import Narrative, draft_id, expand, text_ids
from perfxl.spec.narrative import Part as NarrativePart

META_SHEET = "_perfxl"
# Printed pages: A4 in points, and the margins (inches) the template sets; each sheet prints one page wide.
A4 = (595.0, 842.0)
MARGINS = {"left": 0.5, "right": 0.5, "top": 0.6, "bottom": 0.7}
LINE_10PT, LINE_11PT = 14.5, 15.5  # points per wrapped line of 10 / 11 point text


@lru_cache(maxsize=256)
def col_letter(col: int) -> str:
    s = ""
    col += 1
    while col:
        col, r = divmod(col - 1, 26)
        s = chr(65 + r) + s
    return s


def a1(row: int, col: int) -> str:
    return f"{col_letter(col)}{row + 1}"


_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def parse_a1(ref: str) -> tuple[int, int]:
    """(row, column), from 0, of an A1 reference; ValueError if it is none."""
    # Every check parses the reference of every text cell of every sheet; a real one ($XFD$1048576
    # at most) is worked out once. A longer text is never a reference to remember.
    return _parse_a1(ref) if len(ref) <= 12 else _parse_a1.__wrapped__(ref)


@lru_cache(maxsize=4096)
def _parse_a1(ref: str) -> tuple[int, int]:
    m = _A1.match(ref.upper())
    if not m:
        raise ValueError(ref)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


@dataclass(frozen=True)
class Calc:
    """How a formula cell is computed (rendered to Excel by formulas.py, to Python by compute.py).

    kind: expr (an expression over fields) | sum (of args) | metric / score (of rubric item) |
    grade (of the total in args[0]; blank while args[1:], if any, are all blank) | copy (of args[0]) |
    draft (the 评价报告 text written by ``sentences``).
    """

    kind: str
    expr: expr.Expr | None = None
    args: tuple[str, ...] = ()
    item: str | None = None
    sentences: tuple[sentence.Sentence, ...] = ()


@dataclass(frozen=True)
class Cell:
    """A field placed on the form: an input or a formula cell."""

    id: str
    sheet: str
    row: int
    col: int
    type: str
    label: str
    path: tuple[str, ...]
    unit: str | None = None
    required: bool = False
    signed: bool = False
    min: Decimal | None = None
    max: Decimal | None = None
    calc: Calc | None = None
    feeds: tuple[str, ...] = ()

    # Derived once per cell (a plan's cells are read on every check): the instance is frozen, its
    # fields never change, so the cached text is always right.
    @cached_property
    def ref(self) -> str:
        return a1(self.row, self.col)

    @property
    def is_input(self) -> bool:
        return self.calc is None

    @cached_property
    def name(self) -> str:
        """The workbook-level defined name (letters, digits, underscores; never a cell address)."""
        return "px_" + re.sub(r"[^0-9A-Za-z]", "_", self.id)

    @cached_property
    def where(self) -> str:
        return f"{self.sheet}!{self.ref}"


@dataclass(frozen=True)
class Slot:
    """A static piece of the form: title, header, label or note (possibly merged)."""

    row: int
    col: int
    text: str
    role: str  # title | subtitle | header | label | text | note | blank
    rows: int = 1
    cols: int = 1


@dataclass(eq=False)  # identity semantics: hashable, so per-sheet facts can be cached
class SheetPlan:
    key: str
    name: str
    landscape: bool
    widths: list[float]
    slots: list[Slot] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    merges: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)  # cell merges
    heights: dict[int, float] = field(default_factory=dict)
    repeat: tuple[int, int] | None = None  # rows repeated on every printed page
    optional: bool = False  # a return made before the sheet was added is complete without it
    breaks: list[int] = field(default_factory=list)  # rows that start a new printed page
    row: int = 0  # next free row while building

    def put(self, row: int, col: int, text: str, role: str, rows: int = 1, cols: int = 1) -> None:
        self.slots.append(Slot(row, col, text, role, rows, cols))

    def add(self, cell: Cell, rows: int = 1, cols: int = 1) -> None:
        self.cells.append(cell)
        if rows > 1 or cols > 1:
            self.merges[(cell.row, cell.col)] = (rows, cols)


@dataclass(frozen=True, eq=False)  # identity semantics: plans are cached, so they can key caches
class Plan:
    edition: Edition
    options: Mapping[str, Any]
    sheets: tuple[SheetPlan, ...]
    cells: Mapping[str, Cell]
    fingerprint: str

    def inputs(self) -> tuple[Cell, ...]:
        return self._split[0]

    def formulas(self) -> tuple[Cell, ...]:
        return self._split[1]

    @cached_property
    def _split(self) -> tuple[tuple[Cell, ...], tuple[Cell, ...]]:
        cells = tuple(self.cells.values())
        return tuple(c for c in cells if c.is_input), tuple(c for c in cells if not c.is_input)

    def sheet(self, key: str) -> SheetPlan:
        return next(s for s in self.sheets if s.key == key)


# ------------------------------------------------------------------ options


def resolve_options(edition: Edition, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The edition's default counts with per-unit overrides applied and validated."""
    opts: dict[str, Any] = json.loads(json.dumps(edition.form.options))
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key == "indicators":
            for cat, n in dict(value).items():
                if cat not in opts["indicators"]:
                    raise SpecError(f"未知指标类别 “{cat}”；可用：{', '.join(opts['indicators'])}")
                opts["indicators"][cat] = n
        elif key in opts:
            opts[key] = value
        else:
            raise SpecError(f"未知模板选项 “{key}”；可用：{', '.join(opts)}")
    for key in ("sub_units", "qualitative", "reviewers"):
        opts[key] = _count(key, opts[key], low=0 if key == "sub_units" else 1)
    opts["indicators"] = {k: _count(k, v, 1) for k, v in opts["indicators"].items()}
    return opts


def _count(key: str, value: Any, low: int) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise SpecError(f"模板选项 {key} 应为整数，实际为 “{value}”") from None
    if not low <= n <= 50:
        raise SpecError(f"模板选项 {key} 应在 {low}～50 之间，实际为 {n}")
    return n


# ------------------------------------------------------------------ building


def build_plan(edition: Edition, overrides: Mapping[str, Any] | None = None) -> Plan:
    """The plan for these options; plans are immutable in use, so equal requests share one."""
    opts = resolve_options(edition, overrides)
    return _cached_plan(edition, json.dumps(opts, sort_keys=True))


@lru_cache(maxsize=64)
def _cached_plan(edition: Edition, options: str) -> Plan:
    return _build_plan(edition, json.loads(options))


def _build_plan(edition: Edition, opts: dict[str, Any]) -> Plan:
    sheets = [
        _instructions(edition),
        _basic(edition),
        _finance(edition, opts),
        _basis(edition),
        _performance(edition, opts),
        _reviewers(edition, opts),
        _rubric(edition),
    ]
    if edition.form.narrative is not None:
        sheets.append(_narrative(edition, edition.form.narrative, opts))
    cells: dict[str, Cell] = {}
    for sp in sheets:
        for c in sp.cells:
            if c.id in cells:
                raise SpecError(f"{edition.form.source}: 字段 id “{c.id}” 在表上出现两次")
            cells[c.id] = c
    feeds = _feeds(edition)
    for sp in sheets:
        sp.cells = [replace(c, feeds=feeds.get(c.id, ())) for c in sp.cells]
    types = {fid: c.type for fid, c in cells.items()}
    inputs = {fid for fid, c in cells.items() if c.is_input}
    for sp in sheets:
        sp.cells = [_resolve_draft(c, types, inputs, edition.form.source) for c in sp.cells]
    cells = {c.id: c for sp in sheets for c in sp.cells}
    for c in cells.values():
        if c.calc is not None:
            for ref in _calc_refs(c.calc):
                if ref not in cells:
                    raise SpecError(f"{edition.form.source}: 公式 “{c.id}” 引用了不存在的字段 “{ref}”")
    return Plan(edition, opts, tuple(sheets), cells, _fingerprint(edition, opts, cells))


def _calc_refs(calc: Calc) -> list[str]:
    out = list(calc.args)
    if calc.expr is not None:
        out += list(expr.refs(calc.expr))
    for s in calc.sentences:
        out += sentence.refs(s)
    return out


# How a draft writes a field it names without saying how: by the field's type.
SLOT_FORMATS = {
    "amount": "amount",
    "integer": "count",
    "count": "count",
    "percent": "percent",
    "score": "score",
    "text": "text",
    "longtext": "text",
    "yesno": "text",
}


def _resolve_draft(cell: Cell, types: Mapping[str, str], inputs: set[str], source: str) -> Cell:
    """A draft cell whose slots all have a format fitting their fields, and whose ``when`` are inputs."""
    if cell.calc is None or cell.calc.kind != "draft":
        return cell

    def fail(msg: str) -> SpecError:
        return SpecError(f"{source}: narrative: 段落 {cell.id.removeprefix('draft.')}：{msg}")

    resolved = []
    for s in cell.calc.sentences:
        for ref in sentence.refs(s):
            if ref not in types:
                raise fail(f"引用了表上不存在的字段 “{ref}”")
        for ref in s.when:
            if ref not in inputs:
                raise fail(f"when 中的 “{ref}” 不是填写项")
        parts: list[sentence.Part] = []
        for p in s.parts:
            if isinstance(p, sentence.Slot):
                kinds = {SLOT_FORMATS[types[r]] for r in expr.refs(p.expr)}
                fmt = p.format or next(iter(kinds))
                numeric = fmt != "text"
                if (numeric and "text" in kinds) or (not numeric and kinds != {"text"}):
                    raise fail(f"“{expr.to_excel(p.expr, str)}” 的写法 {fmt} 与字段类型不符")
                p = sentence.Slot(p.expr, fmt)
            parts.append(p)
        resolved.append(sentence.Sentence(tuple(parts), s.when))
    return replace(cell, calc=replace(cell.calc, sentences=tuple(resolved)))


def _feeds(edition: Edition) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for item in edition.rubric.items:
        for ref in rule_refs(item.rule):
            out.setdefault(ref, [])
            if item.id not in out[ref]:
                out[ref].append(item.id)
    for ident in edition.rubric.identities:
        for ref in [*expr.refs(ident.left), *expr.refs(ident.right)]:
            out.setdefault(ref, []).append(ident.id)
    return {k: tuple(v) for k, v in out.items()}


def _fingerprint(edition: Edition, opts: Mapping[str, Any], cells: Mapping[str, Cell]) -> str:
    shape = [edition.name, edition.form.version, edition.rubric.version, opts]
    shape += [[c.id, c.sheet, c.ref, c.type, c.calc is not None] for c in cells.values()]
    blob = json.dumps(shape, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _input(sheet: str, row: int, col: int, f: FieldDef, path: tuple[str, ...]) -> Cell:
    return Cell(f.id, sheet, row, col, f.type, f.label, path, f.unit, f.required, f.signed, f.min, f.max)


def _instructions(ed: Edition) -> SheetPlan:
    spec = ed.form.instructions
    sp = SheetPlan("instructions", spec["name"], False, [6, 88])
    sp.put(0, 0, spec["title"], "title", cols=2)
    for i, line in enumerate(spec["lines"], start=1):
        sp.put(i + 1, 0, f"{i}.", "note")
        sp.put(i + 1, 1, line, "note")
        sp.heights[i + 1] = 15 * max(1, -(-len(line) // 44)) + 6
    sp.put(len(spec["lines"]) + 3, 0, "浅黄色：填写项　　浅绿色：自动计算（勿改）", "note", cols=2)
    return sp


def _basic(ed: Edition) -> SheetPlan:
    spec = ed.form.basic
    name = spec["name"]
    sp = SheetPlan("basic", name, False, [18, 30, 14, 26])
    sp.put(0, 0, spec["title"], "title", cols=4)
    sp.heights[0] = 30
    row = 1
    for fields in ed.form.basic_rows:
        if len(fields) == 2:
            for k, f in enumerate(fields):
                sp.put(row, 2 * k, f.label, "label")
                sp.add(_input(name, row, 2 * k + 1, f, (name, f.label)))
            sp.heights[row] = 22
        else:
            f = fields[0]
            sp.put(row, 0, f.label, "label")
            sp.add(_input(name, row, 1, f, (name, f.label)), cols=3)
            sp.heights[row] = 150 if f.type == "longtext" else 22
        row += 1
    return sp


def unit_rows(ed: Edition, opts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(row id, row label) of the finance tables: the 汇总 row, then the unit rows."""
    rows = ed.form.finance["rows"]
    out = [("total", rows["total"]), ("org", f"1、{rows['org']}")]
    out += [(f"sub{n}", f"{n + 1}、{rows['sub']}{n}") for n in range(1, opts["sub_units"] + 1)]
    return out


def _finance(ed: Edition, opts: Mapping[str, Any]) -> SheetPlan:
    spec = ed.form.finance
    name = spec["name"]
    width = max(len(t.columns) for t in ed.form.tables)
    sp = SheetPlan("finance", name, True, [24] + [13.5] * width)
    sp.put(0, 0, spec["title"], "title", cols=width + 1)
    sp.heights[0] = 30
    rows = unit_rows(ed, opts)
    per_page = int(spec.get("tables_per_page", len(ed.form.tables)))
    row = 2
    for t, table in enumerate(ed.form.tables):
        if t and t % per_page == 0:
            sp.breaks.append(row)  # each table whole on one page
        sp.put(row, 0, table.title, "subtitle", cols=width + 1)
        row += 1
        depth = max(len(c.header) for c in table.columns)
        sp.put(row, 0, spec["row_header"], "header", rows=depth)
        _headers(sp, row, 1, depth, [c.header for c in table.columns])
        for k in range(depth):
            sp.heights[row + k] = 30 if k == depth - 1 else 20
        row += depth
        for r, (rid, rlabel) in enumerate(rows):
            sp.put(row, 0, rlabel, "label")
            for c, col in enumerate(table.columns):
                fid = f"{table.id}.{rid}.{col.id}"
                path = (name, table.title, rlabel, col.header[-1])
                calc = None
                if r == 0:  # 汇总 row: the sum of the unit rows
                    calc = Calc("sum", args=tuple(f"{table.id}.{u}.{col.id}" for u, _ in rows[1:]))
                elif col.formula:
                    calc = Calc("expr", expr=_row_expr(col.formula, table.id, rid))
                # Blank amounts read as 0, as on the official form; whole blank tables are flagged by check.
                sp.add(
                    Cell(
                        fid,
                        name,
                        row,
                        c + 1,
                        "amount",
                        col.header[-1],
                        path,
                        "万元",
                        signed=col.signed,
                        calc=calc,
                    )
                )
            row += 1
        row += 1
    return sp


def _row_expr(text: str, table: str, row: str) -> expr.Expr:
    node = expr.parse(text.replace("{row}", row))
    return expr.map_refs(node, lambda f: f if "." in f else f"{table}.{row}.{f}")


def _headers(sp: SheetPlan, top: int, left: int, depth: int, paths: list[tuple[str, ...]]) -> None:
    """Multi-level headers: equal group labels merge across, a path's last label runs down."""
    for level in range(depth):
        c = 0
        while c < len(paths):
            path = paths[c]
            if level >= len(path):
                c += 1
                continue
            if level == len(path) - 1:
                sp.put(top + level, left + c, path[level], "header", rows=depth - level)
                c += 1
                continue
            end = c + 1
            while (
                end < len(paths)
                and len(paths[end]) > level + 1
                and paths[end][: level + 1] == path[: level + 1]
            ):
                end += 1
            sp.put(top + level, left + c, path[level], "header", cols=end - c)
            c = end


def _basis(ed: Edition) -> SheetPlan:
    spec = ed.form.basis
    name = spec["name"]
    sp = SheetPlan("basis", name, False, [50, 14, 7, 26])
    sp.put(0, 0, spec["title"], "title", cols=4)
    sp.heights[0] = 30
    sp.put(1, 0, "项目", "header")
    sp.put(1, 1, "数值", "header")
    sp.put(1, 2, "单位", "header")
    sp.put(1, 3, "用于评分项", "header")
    sp.repeat = (1, 1)
    feeds = _feeds(ed)
    names = {i.id: i.name for i in ed.rubric.items}
    row = 2
    for title, fields in ed.form.basis_groups:
        sp.put(row, 0, title, "subtitle", cols=4)
        row += 1
        for f in fields:
            sp.put(row, 0, f.label, "label_left")
            sp.add(_input(name, row, 1, f, (name, title, f.label)))
            sp.put(row, 2, "是/否" if f.type == "yesno" else (f.unit or ""), "label")
            used = [f"{i} {names[i]}" for i in feeds.get(f.id, ()) if i in names]
            sp.put(row, 3, "；".join(used) or "勾稽关系核对", "label")
            sp.heights[row] = 30 if len(f.label) > 24 else 20
            row += 1
    sp.put(row, 0, "计算结果（自动计算，勿填）", "subtitle", cols=4)
    row += 1
    for item in ed.rubric.items:
        metric = item.rule.metric
        if metric is None:
            continue
        sp.put(row, 0, metric.label, "label_left")
        sp.add(
            Cell(
                f"metric.{item.id}",
                name,
                row,
                1,
                "amount" if metric.unit == "万元" else "percent",
                metric.label,
                (name, "计算结果", metric.label),
                metric.unit,
                calc=Calc("metric", item=item.id),
            )
        )
        sp.put(row, 2, metric.unit, "label")
        sp.put(row, 3, f"{item.id} {item.name}", "label")
        sp.heights[row] = 20
        row += 1
    return sp


def _performance(ed: Edition, opts: Mapping[str, Any]) -> SheetPlan:
    spec = ed.form.performance
    name = spec["name"]
    sp = SheetPlan("performance", name, False, [9, 12, 10, 34, 34])
    sp.put(0, 0, spec["title"], "title", cols=5)
    sp.heights[0] = 30
    qual = spec["qualitative"]
    n = opts["qualitative"]
    sp.put(1, 0, qual["label"], "header", rows=n + 1, cols=3)
    sp.put(1, 3, qual["target"], "header")
    sp.put(1, 4, qual["done"], "header")
    for i in range(1, n + 1):
        row = 1 + i
        for col, part, label in ((3, "target", qual["target"]), (4, "done", qual["done"])):
            sp.add(
                Cell(
                    f"perf.qual.{i}.{part}",
                    name,
                    row,
                    col,
                    "longtext",
                    f"目标{i}{label}",
                    (name, qual["label"], f"目标{i}", label),
                    required=i == 1,
                )
            )
        sp.heights[row] = 45
    quant = spec["quantitative"]
    top = 2 + n
    sp.put(top, 1, quant["header"][0], "header", cols=2)
    sp.put(top, 3, quant["header"][1], "header")
    sp.put(top, 4, quant["header"][2], "header")
    row = top + 1
    for glabel, cats in ed.form.categories:
        gstart = row
        for cat in cats:
            count = opts["indicators"][cat.id] if cat.counted else 1
            sp.put(row, 2, cat.label, "label", rows=count)
            for k in range(1, count + 1):
                base = f"perf.{cat.id}.{k}" if cat.counted else f"perf.{cat.id}"
                tag = f"指标{k}" if cat.counted else "指标"
                where = f"第{k}项" if cat.counted else ""  # the category already says 指标
                for col, part, label in ((3, "target", quant["header"][1]), (4, "done", quant["header"][2])):
                    sp.add(
                        Cell(
                            f"{base}.{part}",
                            name,
                            row,
                            col,
                            "longtext",
                            f"{cat.label}{where}{label}",
                            (name, glabel.split("（")[0], cat.label, tag, label),
                            required=k == 1,
                        )
                    )
                sp.heights[row] = 36
                row += 1
        sp.put(gstart, 1, glabel, "label", rows=row - gstart)
    sp.put(top, 0, quant["label"], "header", rows=row - top)
    total_id = "total.self"
    sp.put(row, 0, spec["total_label"], "label", cols=3)
    sp.add(
        Cell(
            "perf.total",
            name,
            row,
            3,
            "score",
            spec["total_label"],
            (name, spec["total_label"]),
            "分",
            calc=Calc("copy", args=(total_id,)),
        ),
        cols=2,
    )
    sp.heights[row] = 24
    sp.put(row + 1, 0, spec["grade_label"], "label", cols=3)
    sp.add(
        Cell(
            "perf.grade",
            name,
            row + 1,
            3,
            "text",
            spec["grade_label"],
            (name, spec["grade_label"]),
            calc=Calc("copy", args=("grade.self",)),
        ),
        cols=2,
    )
    sp.heights[row + 1] = 24
    return sp


def _reviewers(ed: Edition, opts: Mapping[str, Any]) -> SheetPlan:
    spec = ed.form.reviewers
    name = spec["name"]
    sp = SheetPlan("reviewers", name, False, [18, 26, 26, 18])
    sp.put(0, 0, spec["title"], "title", cols=4)
    sp.heights[0] = 30
    for c, label in enumerate(spec["columns"]):
        sp.put(1, c, label, "header")
    parts = ("name", "title", "org")
    for i in range(1, opts["reviewers"] + 1):
        row = 1 + i
        for c, part in enumerate(parts):
            label = spec["columns"][c].replace(" ", "")
            sp.add(
                Cell(
                    f"reviewer.{i}.{part}",
                    name,
                    row,
                    c,
                    "text",
                    f"评价人员{i}{label}",
                    (name, f"评价人员{i}", label),
                    required=i == 1 and part == "name",
                )
            )
        sp.put(row, 3, "", "blank")
        sp.heights[row] = 26
    row = 2 + opts["reviewers"]
    for text in spec["signatures"]:
        sp.put(row, 0, text + "\n\n\n\n" + " " * 90 + "（签章）    年    月    日", "text", cols=4)
        sp.heights[row] = 110
        row += 1
    row += 1
    for k, f in enumerate(ed.form.reporter):
        sp.put(row, 2 * k, f.label, "label")
        sp.add(_input(name, row, 2 * k + 1, f, (name, f.label)))
    sp.heights[row] = 24
    return sp


def _score_cell(item: Item, name: str, row: int, col: int, part: str, label: str) -> Cell:
    path = (name, item.name, label)
    if part == "self":
        return Cell(
            f"score.{item.id}.self",
            name,
            row,
            col,
            "score",
            f"{item.id} {item.name}自评得分",
            path,
            "分",
            required=True,
            min=Decimal(0),
            max=item.max,
        )
    if part == "note":
        return Cell(f"score.{item.id}.note", name, row, col, "longtext", f"{item.id} 扣分原因", path)
    return Cell(
        f"score.{item.id}.ref",
        name,
        row,
        col,
        "score",
        f"{item.id} {item.name}参考得分",
        path,
        "分",
        calc=Calc("score", item=item.id),
    )


def _rubric(ed: Edition) -> SheetPlan:
    spec = ed.form.rubric_sheet
    name = spec["name"]
    rub = ed.rubric
    # 三级指标 (C) fits a name in two lines, 扣分原因 (H) a one-sentence reason in one or two; the sheet
    # prints one page wide, so the widths also set how many rows a page holds (see _keep_on_page)
    sp = SheetPlan("rubric", name, True, [8, 10, 19, 76, 6, 8, 8, 30])
    sp.put(0, 0, spec["title"], "title", cols=8)
    sp.heights[0] = 30
    for c, label in enumerate(spec["header"]):
        sp.put(1, c, label, "header")
    sp.heights[1] = 30
    sp.repeat = (1, 1)
    row = 2
    blocks = []  # rows that print together: each section, then the totals, then the summary table
    for s in rub.sections:
        sstart = row
        for g in s.groups:
            gstart = row
            std_row, std_text = row, ""
            for item in g.items:
                if item.standard is not None:
                    if row > std_row:
                        _standard(sp, std_row, row, std_text)
                    std_row, std_text = row, item.standard
                sp.put(row, 2, item.name, "label")
                sp.put(row, 4, _fmt(item.max), "label")
                sp.add(_score_cell(item, name, row, 5, "self", spec["header"][5]))
                sp.add(_score_cell(item, name, row, 6, "ref", spec["header"][6]))
                sp.add(_score_cell(item, name, row, 7, "note", spec["header"][7]))
                sp.heights[row] = max(24, LINE_11PT * _lines(item.name, sp.widths[2], 11) + 6)
                row += 1
            _standard(sp, std_row, row, std_text)
            sp.put(gstart, 1, f"{g.label}\n（{_fmt(g.max)}分）", "label", rows=row - gstart)
        sp.put(sstart, 0, f"{s.label}\n（{_fmt(s.max)}分）", "label", rows=row - sstart)
        blocks.append((sstart, row - 1))
    items = [i.id for i in rub.items]
    sp.put(row, 0, spec["total_label"], "label", cols=4)
    sp.put(row, 4, _fmt(rub.total), "label")
    for col, part in ((5, "self"), (6, "ref")):
        sp.add(
            Cell(
                f"total.{part}",
                name,
                row,
                col,
                "score",
                f"总分（{spec['header'][col]}）",
                (name, spec["total_label"], spec["header"][col]),
                "分",
                calc=Calc("sum", args=_scores(items, part)),
            )
        )
    sp.put(row, 7, "", "blank")
    sp.heights[row] = 24
    row += 1
    sp.put(row, 0, spec["grade_label"], "label", cols=5)
    for col, part in ((5, "self"), (6, "ref")):
        sp.add(
            Cell(
                f"grade.{part}",
                name,
                row,
                col,
                "text",
                f"评价等次（{spec['header'][col]}）",
                (name, spec["grade_label"], spec["header"][col]),
                calc=Calc("grade", args=_grade_args(part, items)),
            )
        )
    grade_text = "；".join(f"{g.label} ≥ {_fmt(g.min)}" for g in rub.grades if g.min > 0)
    sp.put(row, 7, f"{grade_text}；其余为{rub.grades[-1].label}", "text")  # inside the table's border
    sp.heights[row] = 32
    blocks.append((row - 1, row))
    row += 2
    summary_top = row
    sp.put(row, 0, spec["summary_title"], "subtitle", cols=8)
    row += 1
    for c, label in ((0, "一级指标"), (2, "二级指标"), (4, "分值"), (5, "自评得分"), (6, "参考得分")):
        sp.put(row, c, label, "header", cols=2 if c in (0, 2) else 1)
    row += 1
    for si, s in enumerate(rub.sections, start=1):
        sstart = row
        for gi, g in enumerate(s.groups, start=1):
            sp.put(row, 2, g.label, "label", cols=2)
            sp.put(row, 4, _fmt(g.max), "label")
            ids = tuple(i.id for i in g.items)
            for col, part in ((5, "self"), (6, "ref")):
                sp.add(
                    Cell(
                        f"group.{si}.{gi}.{part}",
                        name,
                        row,
                        col,
                        "score",
                        f"{s.label.replace(' ', '')}/{g.label}小计（{spec['header'][col]}）",
                        (name, spec["summary_title"], s.label, g.label, spec["header"][col]),
                        "分",
                        calc=Calc("sum", args=_scores(ids, part)),
                    )
                )
            row += 1
        sp.put(row, 2, "小计", "label", cols=2)
        sp.put(row, 4, _fmt(s.max), "label")
        ids = tuple(i.id for g in s.groups for i in g.items)
        for col, part in ((5, "self"), (6, "ref")):
            sp.add(
                Cell(
                    f"section.{si}.{part}",
                    name,
                    row,
                    col,
                    "score",
                    f"{s.label.replace(' ', '')}小计（{spec['header'][col]}）",
                    (name, spec["summary_title"], s.label, "小计", spec["header"][col]),
                    "分",
                    calc=Calc("sum", args=_scores(ids, part)),
                )
            )
        row += 1
        sp.put(sstart, 0, s.label, "label", rows=row - sstart, cols=2)
    blocks.append((summary_top, row - 1))
    _keep_on_page(sp, blocks)
    return sp


def _standard(sp: SheetPlan, top: int, end: int, text: str) -> None:
    """A 评分标准 text over rows top..end-1 (merged), the rows made tall enough for it together."""
    sp.put(top, 3, text, "text", rows=end - top)
    need = LINE_10PT * _lines(text, sp.widths[3], 10) + 6
    have = sum(sp.heights.get(r, 15) for r in range(top, end))
    if need > have:
        for r in range(top, end):
            sp.heights[r] = sp.heights.get(r, 15) + (need - have) / (end - top)


def _lines(text: str, width: float, points: int) -> int:
    """Lines ``text`` wraps to in a column ``width`` units wide, at ``points`` point type."""
    return wrapped_lines(text, (width - 1) * 10 / points)


def page_height(sp: SheetPlan) -> float:
    """Points of rows one printed page of ``sp`` holds, at the scale printing it one page wide takes."""
    paper_w, paper_h = (A4[1], A4[0]) if sp.landscape else A4
    width = sum(w * 7 + 5 for w in sp.widths) * 0.75  # column width units -> pixels -> points
    scale = min(1.0, (paper_w - (MARGINS["left"] + MARGINS["right"]) * 72) / width)
    return (paper_h - (MARGINS["top"] + MARGINS["bottom"]) * 72) / scale


def _keep_on_page(sp: SheetPlan, blocks: list[tuple[int, int]]) -> None:
    """Page breaks so no block (first row, last row) is split across printed pages, where it fits on one."""
    height = page_height(sp)

    def rows(first: int, last: int) -> float:
        return sum(sp.heights.get(r, 15) for r in range(first, last + 1))

    repeat = rows(*sp.repeat) if sp.repeat else 0
    used, done = 0.0, -1  # points used on the current page; the last row counted
    for top, last in blocks:
        gap, size = rows(done + 1, top - 1), rows(top, last)
        if used + gap + size > height and repeat + size <= height and top not in sp.breaks:
            sp.breaks.append(top)
            used = repeat
        else:
            used += gap
        used, done = used + size, last


def _narrative(ed: Edition, spec: Narrative, opts: Mapping[str, Any]) -> SheetPlan:
    """The 评价报告: per section a live draft written from the tables, then the unit's own text rows."""
    name = spec.name
    sp = SheetPlan("narrative", name, False, [14, 86], optional=True)
    sp.put(0, 0, spec.title, "title", cols=2)
    sp.heights[0] = 30
    row = 1
    if spec.note:
        sp.put(row, 0, spec.note, "note", cols=2)
        sp.heights[row] = 15 * max(1, -(-len(spec.note) // 48)) + 6
        row += 1
    items = tuple((i.id, i.name) for i in ed.rubric.items)
    for chapter in spec.chapters:
        if chapter.heading:
            sp.put(row, 0, chapter.heading, "subtitle", cols=2)
            sp.heights[row] = 24
            row += 1
        for part in chapter.parts:
            title = part.heading or chapter.heading or spec.title
            if part.heading:
                sp.put(row, 0, part.heading, "label_left", cols=2)
                sp.heights[row] = 22
                row += 1
            if part.draft:
                sentences = tuple(
                    sentence.parse(text, when)
                    for d in part.draft
                    for text, when in expand(d, opts["qualitative"], items)
                )
                sp.put(row, 0, spec.draft_label, "label")
                calc = Calc("draft", sentences=sentences)
                path = (name, title, spec.draft_label)
                sp.add(
                    Cell(
                        draft_id(part),
                        name,
                        row,
                        1,
                        "longtext",
                        f"{title}{spec.draft_label}",
                        path,
                        calc=calc,
                    )
                )
                sp.heights[row] = 15 * max(2, -(-_draft_length(part) // 40)) + 8
                row += 1
            for k, fid in enumerate(text_ids(part)):
                shown = spec.text_label if k == 0 else spec.more_label
                sp.put(row, 0, shown, "label")
                tag = spec.text_label if part.paragraphs == 1 else f"{spec.text_label}{k + 1}"
                sp.add(Cell(fid, name, row, 1, "longtext", f"{title}{tag}", (name, title, tag)))
                sp.heights[row] = 150 if part.paragraphs == 1 else 120
                row += 1
    return sp


def _draft_length(part: NarrativePart) -> int:
    """About how many characters a draft shows: its literal text, some for each slot, a repeated
    sentence once (the template writer grows the row to the draft it computes)."""
    return sum(len(re.sub(r"\{[^}]*\}", "12345678", d.text)) for d in part.draft)


def _scores(items: list[str] | tuple[str, ...], part: str) -> tuple[str, ...]:
    return tuple(f"score.{i}.{part}" for i in items)


def _grade_args(part: str, items: list[str]) -> tuple[str, ...]:
    """The total, and for 自评 the scores whose being all blank leaves the grade blank."""
    counted = [f"score.{i}.self" for i in items] if part == "self" else []
    return (f"total.{part}", *counted)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def finance_columns(edition: Edition) -> list[tuple[str, str, str]]:
    """(key, table title, column header) of every column of every finance table's 汇总 row."""
    out = []
    for table in edition.form.tables:
        title = re.sub(r"[（(][^）)]*[）)]$", "", table.title).strip()
        for col in table.columns:
            out.append((f"{table.id}.total.{col.id}", title, col.header[-1]))
    return out
