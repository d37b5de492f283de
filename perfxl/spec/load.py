"""Load and validate an edition: the form layout (templates/) and the rubric (checks/).

Everything is turned into frozen dataclasses once; any mistake in the data raises SpecError
naming the file and the key, so a broken edition never reaches a user's workbook.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from perfxl.spec import expr
from perfxl.spec.model import (
    FIELD_TYPES,
    READING_KINDS,
    RULE_KINDS,
    Band,
    Bound,
    Category,
    Column,
    Edition,
    FieldDef,
    Form,
    Grade,
    Group,
    Identity,
    Item,
    Metric,
    Rubric,
    Rule,
    Section,
    SpecError,
    Table,
    ZeroPolicy,
    known_field_ids,
    known_field_types,
    rule_refs,
)
from perfxl.spec.narrative import load_lexicon, load_narrative

# libyaml's loader when available: the editions load on every CLI start, 5× faster this way.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# ---------------------------------------------------------------- loading helpers


@dataclass
class _Ctx:
    """Where we are in a data file, for error messages."""

    file: str
    path: list[str] = field(default_factory=list)

    def at(self, key: object) -> _Ctx:
        return _Ctx(self.file, [*self.path, str(key)])

    def fail(self, msg: str) -> SpecError:
        where = ".".join(self.path) or "(文件顶层)"
        return SpecError(f"{self.file}: {where}: {msg}")


def _get(ctx: _Ctx, data: Any, key: str, default: Any = ...) -> Any:
    if not isinstance(data, Mapping):
        raise ctx.fail("应为键值表（mapping）")
    if key not in data:
        if default is ...:
            raise ctx.at(key).fail("缺少此项")
        return default
    return data[key]


def _int(ctx: _Ctx, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise ctx.fail(f"应为非负整数，实际为 {value!r}")
    return int(value)


def _dec(ctx: _Ctx, value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ctx.fail(f"应为数字，实际为 {value!r}")
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ctx.fail(f"应为数字，实际为 {value!r}") from None


def _list(ctx: _Ctx, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ctx.fail("应为列表")
    return value


def _expr(ctx: _Ctx, text: Any) -> expr.Expr:
    try:
        return expr.parse(str(text))
    except expr.ExprError as e:
        raise ctx.fail(str(e)) from None


def _field(ctx: _Ctx, raw: Any) -> FieldDef:
    ftype = _get(ctx, raw, "type")
    if ftype not in FIELD_TYPES:
        raise ctx.at("type").fail(f"未知字段类型 “{ftype}”；可用：{', '.join(FIELD_TYPES)}")
    lo, hi = raw.get("min"), raw.get("max")
    return FieldDef(
        id=str(_get(ctx, raw, "id")),
        label=str(_get(ctx, raw, "label")),
        type=ftype,
        unit=raw.get("unit", FIELD_TYPES[ftype]),
        required=bool(raw.get("required", False)),
        signed=bool(raw.get("signed", False)),
        min=None if lo is None else _dec(ctx.at("min"), lo),
        max=None if hi is None else _dec(ctx.at("max"), hi),
    )


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.load(f, Loader=_LOADER)
    except OSError as e:
        raise SpecError(f"{path}: 无法读取：{e}") from None
    except yaml.YAMLError as e:
        raise SpecError(f"{path}: YAML 格式错误：{e}") from None


# ---------------------------------------------------------------- form loading


def load_form(path: Path) -> Form:
    ctx = _Ctx(str(path))
    data = _read_yaml(path)
    basic = _get(ctx, data, "basic")
    basic_rows = tuple(
        tuple(_field(ctx.at(f"basic.rows.{r}.{c}"), f) for c, f in enumerate(_list(ctx, row)))
        for r, row in enumerate(_list(ctx.at("basic.rows"), _get(ctx, basic, "rows")))
    )
    finance = _get(ctx, data, "finance")
    tables = []
    for t, raw in enumerate(_list(ctx.at("finance.tables"), _get(ctx, finance, "tables"))):
        tctx = ctx.at(f"finance.tables.{t}")
        cols = []
        for c, col in enumerate(_list(tctx.at("columns"), _get(tctx, raw, "columns"))):
            cctx = tctx.at(f"columns.{c}")
            formula = col.get("formula")
            if formula is not None:
                _expr(cctx.at("formula"), formula)
            cols.append(
                Column(
                    id=str(_get(cctx, col, "id")),
                    header=tuple(str(h) for h in _list(cctx.at("header"), _get(cctx, col, "header"))),
                    formula=formula,
                    signed=bool(col.get("signed", False)),
                )
            )
        tables.append(Table(str(_get(tctx, raw, "id")), str(_get(tctx, raw, "title")), tuple(cols)))
    basis = _get(ctx, data, "basis")
    groups = []
    for g, raw in enumerate(_list(ctx.at("basis.groups"), _get(ctx, basis, "groups"))):
        gctx = ctx.at(f"basis.groups.{g}")
        fields = tuple(
            _field(gctx.at(f"fields.{i}"), f) for i, f in enumerate(_list(gctx, _get(gctx, raw, "fields")))
        )
        groups.append((str(_get(gctx, raw, "title")), fields))
    perf = _get(ctx, data, "performance")
    quant = _get(ctx.at("performance"), perf, "quantitative")
    cats = []
    for g, raw in enumerate(_list(ctx, _get(ctx, quant, "groups"))):
        gctx = ctx.at(f"performance.quantitative.groups.{g}")
        cats.append(
            (
                str(_get(gctx, raw, "label")),
                tuple(
                    Category(
                        str(_get(gctx, c, "id")), str(_get(gctx, c, "label")), bool(c.get("counted", False))
                    )
                    for c in _list(gctx, _get(gctx, raw, "categories"))
                ),
            )
        )
    reviewers = _get(ctx, data, "reviewers")
    reporter = tuple(
        _field(ctx.at(f"reviewers.reporter.{i}"), f)
        for i, f in enumerate(_list(ctx, _get(ctx, reviewers, "reporter")))
    )
    form = Form(
        edition=str(_get(ctx, data, "edition")),
        version=_int(ctx.at("version"), _get(ctx, data, "version")),
        title=str(_get(ctx, data, "title")),
        region=str(data.get("region", "")),
        options=_get(ctx, data, "options"),
        basic=basic,
        basic_rows=basic_rows,
        finance=finance,
        tables=tuple(tables),
        basis=basis,
        basis_groups=tuple(groups),
        performance=perf,
        categories=tuple(cats),
        reviewers=reviewers,
        reporter=reporter,
        rubric_sheet=_get(ctx, data, "rubric_sheet"),
        instructions=_get(ctx, data, "instructions"),
        source=str(path),
        narrative=load_narrative(ctx.at("narrative"), data["narrative"]) if "narrative" in data else None,
    )
    if form.narrative is not None:
        table_ids = [t.id for t in form.tables]
        for tid in form.narrative.tables:
            if tid not in table_ids:
                raise ctx.at("narrative.tables").fail(f"表样中没有表 “{tid}”；可用：{', '.join(table_ids)}")
    _check_unique_ids(
        ctx,
        [f.id for row in basic_rows for f in row]
        + [f.id for _, fs in groups for f in fs]
        + [f.id for f in reporter],
    )
    return form


def _check_unique_ids(ctx: _Ctx, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ctx.fail(f"字段 id “{i}” 重复")
        seen.add(i)


# ---------------------------------------------------------------- rubric loading

_INTERVAL = re.compile(r"^\s*([\[(])\s*(.+?)\s*,\s*(.+?)\s*([\])])\s*$")
_COMPARE = re.compile(r"^\s*(>=|<=|>|<|=)\s*(.+?)\s*$")


def _band(ctx: _Ctx, raw: Any) -> Band:
    text = str(_get(ctx, raw, "when"))
    score = _dec(ctx.at("score"), _get(ctx, raw, "score"))
    low = high = None
    m = _INTERVAL.match(text)
    if m:
        low = Bound(_expr(ctx.at("when"), m.group(2)), m.group(1) == "[")
        high = Bound(_expr(ctx.at("when"), m.group(3)), m.group(4) == "]")
    else:
        m = _COMPARE.match(text)
        if not m:
            raise ctx.at("when").fail(f'无法识别的区间 “{text}”；应如 "[80, 90)"、">= 90"、"= 0"')
        op, bound = m.group(1), _expr(ctx.at("when"), m.group(2))
        if op in (">=", ">"):
            low = Bound(bound, op == ">=")
        elif op in ("<=", "<"):
            high = Bound(bound, op == "<=")
        else:
            low = high = Bound(bound, True)
    return Band(score, text, low, high, raw.get("label"))


def _zero(ctx: _Ctx, raw: Any, maximum: Decimal) -> ZeroPolicy | None:
    if raw is None:
        return None

    def points(key: str) -> Decimal:
        v = _get(ctx, raw, key)
        return maximum if v == "max" else _dec(ctx.at(key), v)

    return ZeroPolicy(points("score"), points("when_numerator_zero"), str(_get(ctx, raw, "note")))


def _metric(ctx: _Ctx, raw: Any) -> Metric:
    label = str(_get(ctx, raw, "label"))
    if "value" in raw:
        return Metric(label, value=_expr(ctx.at("value"), raw["value"]), unit=raw.get("unit", "%"))
    return Metric(
        label,
        num=_expr(ctx.at("num"), _get(ctx, raw, "num")),
        den=_expr(ctx.at("den"), _get(ctx, raw, "den")),
        unit="%",
    )


def _rule(ctx: _Ctx, raw: Any, maximum: Decimal, readings: Mapping[str, str]) -> Rule:
    kind = _get(ctx, raw, "kind")
    if kind not in RULE_KINDS:
        raise ctx.at("kind").fail(f"未知规则类型 “{kind}”；可用：{', '.join(RULE_KINDS)}")
    if kind == "judgement":
        return Rule(kind)
    if kind == "per_count":
        return Rule(
            kind, count=str(_get(ctx, raw, "count")), step=_dec(ctx.at("step"), _get(ctx, raw, "step"))
        )
    if kind == "checklist":
        checks = tuple(
            (
                str(_get(ctx.at(f"checks.{i}"), c, "field")),
                _dec(ctx.at(f"checks.{i}.points"), _get(ctx.at(f"checks.{i}"), c, "points")),
            )
            for i, c in enumerate(_list(ctx.at("checks"), _get(ctx, raw, "checks")))
        )
        total = sum((p for _, p in checks), Decimal(0))
        if total != maximum:
            raise ctx.at("checks").fail(f"各项分值合计 {total} 与分值 {maximum} 不符")
        return Rule(kind, checks=checks)
    metric = _metric(ctx.at("metric"), _get(ctx, raw, "metric"))
    zero = _zero(ctx.at("zero_denominator"), raw.get("zero_denominator"), maximum)
    if metric.is_rate and zero is None:
        raise ctx.at("zero_denominator").fail("比率型指标必须声明分母为 0 时的处理")
    if kind == "ladder":
        bands = tuple(
            _band(ctx.at(f"bands.{i}"), b)
            for i, b in enumerate(_list(ctx.at("bands"), _get(ctx, raw, "bands")))
        )
        for i, b in enumerate(bands):
            if not Decimal(0) <= b.score <= maximum:
                raise ctx.at(f"bands.{i}.score").fail(f"得分 {b.score} 超出 0～{maximum}")
        _check_numeric_overlap(ctx.at("bands"), bands)
        return Rule(kind, metric=metric, bands=bands, zero=zero)
    direction = _get(ctx, raw, "direction")
    if direction not in ("over", "under"):
        raise ctx.at("direction").fail(f"应为 over 或 under，实际为 “{direction}”")
    names = tuple(_list(ctx.at("readings"), raw.get("readings", ["proportional"])))
    for name in names:
        if name not in READING_KINDS:
            raise ctx.at("readings").fail(f"未知读法 “{name}”；可用：{', '.join(READING_KINDS)}")
        if name not in readings:
            raise ctx.at("readings").fail(f"读法 “{name}” 未在文件顶层 readings 中说明")
    return Rule(
        kind,
        metric=metric,
        direction=direction,
        threshold=_dec(ctx.at("threshold"), _get(ctx, raw, "threshold")),
        step=_dec(ctx.at("step"), _get(ctx, raw, "step")),
        readings=names,
        zero=zero,
    )


def _check_numeric_overlap(ctx: _Ctx, bands: tuple[Band, ...]) -> None:
    """Numeric bands must not overlap (a value scoring twice would be a drafting error)."""

    def edge(b: Bound | None, default: Decimal) -> tuple[Decimal, bool] | None:
        if b is None:
            return default, False
        return (b.value.value, b.closed) if isinstance(b.value, expr.Num) else None

    spans = []
    for b in bands:
        lo, hi = edge(b.low, Decimal("-1e30")), edge(b.high, Decimal("1e30"))
        if lo is None or hi is None:
            return
        if lo[0] > hi[0] or (lo[0] == hi[0] and not (lo[1] and hi[1])):
            raise ctx.fail(f"区间 “{b.text}” 是空的（下限不小于上限）")
        spans.append((lo, hi, b.text))
    for i, (lo1, hi1, t1) in enumerate(spans):
        for lo2, hi2, t2 in spans[i + 1 :]:
            apart = hi1[0] < lo2[0] or hi2[0] < lo1[0]
            touch1 = hi1[0] == lo2[0] and not (hi1[1] and lo2[1])
            touch2 = hi2[0] == lo1[0] and not (hi2[1] and lo1[1])
            if not (apart or touch1 or touch2):
                raise ctx.fail(f"区间 “{t1}” 与 “{t2}” 重叠")


def load_rubric(path: Path) -> Rubric:
    ctx = _Ctx(str(path))
    data = _read_yaml(path)
    readings = dict(_get(ctx, data, "readings", {}) or {})
    sections, ids = [], []
    for s, sraw in enumerate(_list(ctx.at("sections"), _get(ctx, data, "sections"))):
        sctx = ctx.at(f"sections.{s}")
        slabel = str(_get(sctx, sraw, "label"))
        groups = []
        for g, graw in enumerate(_list(sctx.at("groups"), _get(sctx, sraw, "groups"))):
            gctx = sctx.at(f"groups.{g}")
            glabel = str(_get(gctx, graw, "label"))
            items = []
            for i, iraw in enumerate(_list(gctx.at("items"), _get(gctx, graw, "items"))):
                ictx = gctx.at(f"items.{i}")
                maximum = _dec(ictx.at("max"), _get(ictx, iraw, "max"))
                item_id = str(_get(ictx, iraw, "id"))
                ids.append(item_id)
                items.append(
                    Item(
                        id=item_id,
                        name=str(_get(ictx, iraw, "name")),
                        max=maximum,
                        standard=iraw.get("standard"),
                        rule=_rule(ictx.at("rule"), _get(ictx, iraw, "rule"), maximum, readings),
                        section=slabel,
                        group=glabel,
                    )
                )
            gmax = _dec(gctx.at("max"), _get(gctx, graw, "max"))
            _check_sum(gctx, "二级指标", glabel, gmax, sum((i.max for i in items), Decimal(0)))
            groups.append(Group(glabel, gmax, tuple(items)))
        smax = _dec(sctx.at("max"), _get(sctx, sraw, "max"))
        _check_sum(sctx, "一级指标", slabel, smax, sum((g.max for g in groups), Decimal(0)))
        sections.append(Section(slabel, smax, tuple(groups)))
    total = _dec(ctx.at("total"), _get(ctx, data, "total"))
    _check_sum(ctx, "总分", "", total, sum((s.max for s in sections), Decimal(0)), key="total")
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ctx.at("sections").fail(f"评分项 id 重复：{', '.join(dup)}")
    grades = tuple(
        Grade(
            str(_get(ctx.at(f"grades.{i}"), g, "label")),
            _dec(ctx.at(f"grades.{i}.min"), _get(ctx.at(f"grades.{i}"), g, "min")),
        )
        for i, g in enumerate(_list(ctx.at("grades"), _get(ctx, data, "grades")))
    )
    if not grades or any(a.min <= b.min for a, b in zip(grades, grades[1:], strict=False)):
        raise ctx.at("grades").fail("评价等次须按下限从高到低排列")
    if grades[-1].min > 0:
        raise ctx.at("grades").fail("最后一个评价等次的下限须为 0，使任何总分都有等次")
    identities = tuple(
        Identity(
            id=str(_get(ctx.at(f"identities.{i}"), r, "id")),
            label=str(_get(ctx.at(f"identities.{i}"), r, "label")),
            left=_expr(ctx.at(f"identities.{i}.left"), _get(ctx.at(f"identities.{i}"), r, "left")),
            right=_expr(ctx.at(f"identities.{i}.right"), _get(ctx.at(f"identities.{i}"), r, "right")),
            when_filled=tuple(_list(ctx.at(f"identities.{i}.when_filled"), r.get("when_filled", []))),
        )
        for i, r in enumerate(_list(ctx.at("identities"), data.get("identities", [])))
    )
    return Rubric(
        edition=str(_get(ctx, data, "edition")),
        version=_int(ctx.at("version"), _get(ctx, data, "version")),
        form=str(_get(ctx, data, "form")),
        title=str(data.get("title", "")),
        total=total,
        tolerance=_dec(ctx.at("tolerance"), data.get("tolerance", "0.01")),
        score_tolerance=_dec(ctx.at("score_tolerance"), data.get("score_tolerance", "0.005")),
        rate_decimals=_int(ctx.at("rate_decimals"), data.get("rate_decimals", 2)),
        score_decimals=_int(ctx.at("score_decimals"), data.get("score_decimals", 2)),
        grades=grades,
        readings=readings,
        identities=identities,
        sections=tuple(sections),
        source=str(path),
        plausibility=_plausibility(ctx.at("plausibility"), data.get("plausibility") or {}),
        prior_year=_prior_year(ctx.at("prior_year"), data.get("prior_year") or {}),
        lexicon=load_lexicon(ctx.at("narrative"), data["narrative"]) if "narrative" in data else None,
    )


def _prior_year(ctx: _Ctx, raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise ctx.fail("应为“本年字段: 上年字段”的键值表")
    return {str(k): str(v) for k, v in raw.items()}


def _plausibility(ctx: _Ctx, raw: Any) -> dict[str, Any]:
    """Thresholds of the plausibility checks; each pair is [field, field] compared by magnitude."""
    out = {
        "max_amount": _dec(ctx.at("max_amount"), _get(ctx, raw, "max_amount", "1000000")),
        "max_per_capita": _dec(ctx.at("max_per_capita"), _get(ctx, raw, "max_per_capita", "500")),
        "pair_ratio": _dec(ctx.at("pair_ratio"), _get(ctx, raw, "pair_ratio", "1000")),
        "grade_margin": _dec(ctx.at("grade_margin"), _get(ctx, raw, "grade_margin", "1")),
    }
    pairs: list[tuple[str, str]] = []
    for i, pair in enumerate(_list(ctx.at("pairs"), raw.get("pairs", []))):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ctx.at(f"pairs.{i}").fail("应为两个字段 id 组成的列表")
        pairs.append((str(pair[0]), str(pair[1])))
    return {**out, "pairs": pairs}


def _check_sum(
    ctx: _Ctx, what: str, label: str, declared: Decimal, actual: Decimal, key: str = "max"
) -> None:
    if declared != actual:
        raise ctx.at(key).fail(f"{what}“{label}”分值 {declared} 与下级分值合计 {actual} 不符")


# ---------------------------------------------------------------- editions


def data_dirs() -> tuple[Path, Path]:
    """(templates dir, checks dir): installed copies in a wheel, else the source checkout's."""
    here = Path(__file__).resolve().parents[1]  # the perfxl package
    installed = here / "_data"
    root = installed if (installed / "templates").is_dir() else here.parent
    return root / "templates", root / "checks"


def available_editions() -> list[str]:
    templates, _ = data_dirs()
    return sorted(p.stem for p in templates.glob("*.yaml"))


def load_edition(
    name: str = "hunan-2020", form_path: Path | None = None, rubric_path: Path | None = None
) -> Edition:
    """The edition by name from the data directories, or from explicit files; parsed once per file pair."""
    templates, checks = data_dirs()
    if form_path is None:
        if name not in available_editions():
            raise SpecError(f"未知版本 “{name}”；可用：{', '.join(available_editions()) or '（无）'}")
        form_path = templates / f"{name}.yaml"
    return _load_cached(Path(form_path), None if rubric_path is None else Path(rubric_path))


@cache
def _load_cached(form_path: Path, rubric_path: Path | None) -> Edition:
    return read_edition(form_path, rubric_path)


def read_edition(form_path: Path, rubric_path: Path | None = None) -> Edition:
    """Parse and validate an edition from its files, uncached (rubric default: checks/<edition>.yaml)."""
    form = load_form(form_path)
    rpath = rubric_path or data_dirs()[1] / f"{form.edition}.yaml"
    rubric = load_rubric(rpath)
    if rubric.form != form.edition:
        raise SpecError(f"{rpath}: form: 评分规则对应表样 “{rubric.form}”，但表样为 “{form.edition}”")
    edition = Edition(form, rubric)
    _check_references(edition)
    return edition


def _check_references(ed: Edition) -> None:
    """Every field id a rule or identity reads must exist on the form."""
    known = known_field_ids(ed.form)
    ctx = _Ctx(ed.rubric.source)
    for item in ed.rubric.items:
        for ref in rule_refs(item.rule):
            if ref not in known:
                raise ctx.at(f"{item.id}.rule").fail(f"引用了表样中不存在的字段 “{ref}”")
    inputs = {f.id for row in ed.form.basic_rows for f in row} | {
        f.id for _, fs in ed.form.basis_groups for f in fs
    }
    for target, source in ed.rubric.prior_year.items():
        if target not in inputs:
            raise ctx.at(f"prior_year.{target}").fail("不是表样中的填写项，无法预填")
        if source not in known:
            raise ctx.at(f"prior_year.{target}").fail(f"引用了表样中不存在的字段 “{source}”")
    for a, b in ed.rubric.plausibility.get("pairs", []):
        for ref in (a, b):
            if ref not in known:
                raise ctx.at("plausibility.pairs").fail(f"引用了表样中不存在的字段 “{ref}”")
    for ident in ed.rubric.identities:
        for ref in [*expr.refs(ident.left), *expr.refs(ident.right), *ident.when_filled]:
            if ref not in known:
                raise ctx.at(f"identities.{ident.id}").fail(f"引用了表样中不存在的字段 “{ref}”")
    if ed.rubric.lexicon is not None:
        _check_lexicon(ed, ctx)


def _check_lexicon(ed: Edition, ctx: _Ctx) -> None:
    """A phrase names numbers of one kind (amounts, or counts of people, or percentages) that exist."""
    assert ed.rubric.lexicon is not None
    types = known_field_types(ed.form)
    for i, fig in enumerate(ed.rubric.lexicon.figures):
        kinds = set()
        for ref in expr.refs(fig.value):
            if ref not in types:
                raise ctx.at(f"narrative.figures.{i}.field").fail(f"引用了表样中不存在的字段 “{ref}”")
            kinds.add(types[ref])
        if len(kinds) != 1 or not kinds <= {"amount", "integer", "percent"}:
            raise ctx.at(f"narrative.figures.{i}.field").fail(
                f"只能是同一类数字（金额、人数或百分比）的字段，实际为 {', '.join(sorted(kinds))}"
            )
