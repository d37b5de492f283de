"""Load and validate an edition: the form layout (templates/) and the rubric (checks/).

Everything is turned into frozen dataclasses once; any mistake in the data raises SpecError
naming the file and the key, so a broken edition never reaches a user's workbook.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from perfxl.spec import expr
from perfxl.spec.ctx import Ctx, as_dec, as_expr, as_int, as_list, get
from perfxl.spec.kinds import KINDS, rule_refs
from perfxl.spec.model import (
    FIELD_TYPES,
    Category,
    Column,
    Edition,
    FieldDef,
    Form,
    Grade,
    Group,
    Identity,
    Item,
    Rubric,
    Rule,
    Section,
    SpecError,
    Table,
    known_field_ids,
)

# libyaml's loader when available: the editions load on every CLI start, 5× faster this way.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# ---------------------------------------------------------------- loading helpers


def _field(ctx: Ctx, raw: Any) -> FieldDef:
    ftype = get(ctx, raw, "type")
    if ftype not in FIELD_TYPES:
        raise ctx.at("type").fail(f"未知字段类型 “{ftype}”；可用：{', '.join(FIELD_TYPES)}")
    lo, hi = raw.get("min"), raw.get("max")
    return FieldDef(
        id=str(get(ctx, raw, "id")),
        label=str(get(ctx, raw, "label")),
        type=ftype,
        unit=raw.get("unit", FIELD_TYPES[ftype]),
        required=bool(raw.get("required", False)),
        signed=bool(raw.get("signed", False)),
        min=None if lo is None else as_dec(ctx.at("min"), lo),
        max=None if hi is None else as_dec(ctx.at("max"), hi),
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
    ctx = Ctx(str(path))
    data = _read_yaml(path)
    basic = get(ctx, data, "basic")
    basic_rows = tuple(
        tuple(_field(ctx.at(f"basic.rows.{r}.{c}"), f) for c, f in enumerate(as_list(ctx, row)))
        for r, row in enumerate(as_list(ctx.at("basic.rows"), get(ctx, basic, "rows")))
    )
    finance = get(ctx, data, "finance")
    tables = []
    for t, raw in enumerate(as_list(ctx.at("finance.tables"), get(ctx, finance, "tables"))):
        tctx = ctx.at(f"finance.tables.{t}")
        cols = []
        for c, col in enumerate(as_list(tctx.at("columns"), get(tctx, raw, "columns"))):
            cctx = tctx.at(f"columns.{c}")
            formula = col.get("formula")
            if formula is not None:
                as_expr(cctx.at("formula"), formula)
            cols.append(
                Column(
                    id=str(get(cctx, col, "id")),
                    header=tuple(str(h) for h in as_list(cctx.at("header"), get(cctx, col, "header"))),
                    formula=formula,
                    signed=bool(col.get("signed", False)),
                )
            )
        tables.append(Table(str(get(tctx, raw, "id")), str(get(tctx, raw, "title")), tuple(cols)))
    basis = get(ctx, data, "basis")
    groups = []
    for g, raw in enumerate(as_list(ctx.at("basis.groups"), get(ctx, basis, "groups"))):
        gctx = ctx.at(f"basis.groups.{g}")
        fields = tuple(
            _field(gctx.at(f"fields.{i}"), f) for i, f in enumerate(as_list(gctx, get(gctx, raw, "fields")))
        )
        groups.append((str(get(gctx, raw, "title")), fields))
    perf = get(ctx, data, "performance")
    quant = get(ctx.at("performance"), perf, "quantitative")
    cats = []
    for g, raw in enumerate(as_list(ctx, get(ctx, quant, "groups"))):
        gctx = ctx.at(f"performance.quantitative.groups.{g}")
        cats.append(
            (
                str(get(gctx, raw, "label")),
                tuple(
                    Category(
                        str(get(gctx, c, "id")), str(get(gctx, c, "label")), bool(c.get("counted", False))
                    )
                    for c in as_list(gctx, get(gctx, raw, "categories"))
                ),
            )
        )
    reviewers = get(ctx, data, "reviewers")
    reporter = tuple(
        _field(ctx.at(f"reviewers.reporter.{i}"), f)
        for i, f in enumerate(as_list(ctx, get(ctx, reviewers, "reporter")))
    )
    form = Form(
        edition=str(get(ctx, data, "edition")),
        version=as_int(ctx.at("version"), get(ctx, data, "version")),
        title=str(get(ctx, data, "title")),
        region=str(data.get("region", "")),
        options=get(ctx, data, "options"),
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
        rubric_sheet=get(ctx, data, "rubric_sheet"),
        instructions=get(ctx, data, "instructions"),
        source=str(path),
    )
    _check_unique_ids(
        ctx,
        [f.id for row in basic_rows for f in row]
        + [f.id for _, fs in groups for f in fs]
        + [f.id for f in reporter],
    )
    return form


def _check_unique_ids(ctx: Ctx, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ctx.fail(f"字段 id “{i}” 重复")
        seen.add(i)


# ---------------------------------------------------------------- rubric loading


def _rule(ctx: Ctx, raw: Any, maximum: Decimal, readings: Mapping[str, str]) -> Rule:
    kind = get(ctx, raw, "kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ctx.at("kind").fail(f"未知的规则类型 “{kind}”；可用：{', '.join(KINDS)}")
    return KINDS[kind].load(ctx, raw, maximum, readings)


def load_rubric(path: Path) -> Rubric:
    ctx = Ctx(str(path))
    data = _read_yaml(path)
    readings = dict(get(ctx, data, "readings", {}) or {})
    sections, ids = [], []
    for s, sraw in enumerate(as_list(ctx.at("sections"), get(ctx, data, "sections"))):
        sctx = ctx.at(f"sections.{s}")
        slabel = str(get(sctx, sraw, "label"))
        groups = []
        for g, graw in enumerate(as_list(sctx.at("groups"), get(sctx, sraw, "groups"))):
            gctx = sctx.at(f"groups.{g}")
            glabel = str(get(gctx, graw, "label"))
            items = []
            for i, iraw in enumerate(as_list(gctx.at("items"), get(gctx, graw, "items"))):
                ictx = gctx.at(f"items.{i}")
                maximum = as_dec(ictx.at("max"), get(ictx, iraw, "max"))
                item_id = str(get(ictx, iraw, "id"))
                ids.append(item_id)
                items.append(
                    Item(
                        id=item_id,
                        name=str(get(ictx, iraw, "name")),
                        max=maximum,
                        standard=iraw.get("standard"),
                        rule=_rule(ictx.at("rule"), get(ictx, iraw, "rule"), maximum, readings),
                        section=slabel,
                        group=glabel,
                    )
                )
            gmax = as_dec(gctx.at("max"), get(gctx, graw, "max"))
            _check_sum(gctx, "二级指标", glabel, gmax, sum((i.max for i in items), Decimal(0)))
            groups.append(Group(glabel, gmax, tuple(items)))
        smax = as_dec(sctx.at("max"), get(sctx, sraw, "max"))
        _check_sum(sctx, "一级指标", slabel, smax, sum((g.max for g in groups), Decimal(0)))
        sections.append(Section(slabel, smax, tuple(groups)))
    total = as_dec(ctx.at("total"), get(ctx, data, "total"))
    _check_sum(ctx, "总分", "", total, sum((s.max for s in sections), Decimal(0)), key="total")
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ctx.at("sections").fail(f"评分项 id 重复：{', '.join(dup)}")
    grades = tuple(
        Grade(
            str(get(ctx.at(f"grades.{i}"), g, "label")),
            as_dec(ctx.at(f"grades.{i}.min"), get(ctx.at(f"grades.{i}"), g, "min")),
        )
        for i, g in enumerate(as_list(ctx.at("grades"), get(ctx, data, "grades")))
    )
    if not grades or any(a.min <= b.min for a, b in zip(grades, grades[1:], strict=False)):
        raise ctx.at("grades").fail("评价等次须按下限从高到低排列")
    if grades[-1].min > 0:
        raise ctx.at("grades").fail("最后一个评价等次的下限须为 0，使任何总分都有等次")
    identities = tuple(
        Identity(
            id=str(get(ctx.at(f"identities.{i}"), r, "id")),
            label=str(get(ctx.at(f"identities.{i}"), r, "label")),
            left=as_expr(ctx.at(f"identities.{i}.left"), get(ctx.at(f"identities.{i}"), r, "left")),
            right=as_expr(ctx.at(f"identities.{i}.right"), get(ctx.at(f"identities.{i}"), r, "right")),
            when_filled=tuple(as_list(ctx.at(f"identities.{i}.when_filled"), r.get("when_filled", []))),
        )
        for i, r in enumerate(as_list(ctx.at("identities"), data.get("identities", [])))
    )
    return Rubric(
        edition=str(get(ctx, data, "edition")),
        version=as_int(ctx.at("version"), get(ctx, data, "version")),
        form=str(get(ctx, data, "form")),
        title=str(data.get("title", "")),
        total=total,
        tolerance=as_dec(ctx.at("tolerance"), data.get("tolerance", "0.01")),
        score_tolerance=as_dec(ctx.at("score_tolerance"), data.get("score_tolerance", "0.005")),
        rate_decimals=as_int(ctx.at("rate_decimals"), data.get("rate_decimals", 2)),
        score_decimals=as_int(ctx.at("score_decimals"), data.get("score_decimals", 2)),
        grades=grades,
        readings=readings,
        identities=identities,
        sections=tuple(sections),
        source=str(path),
        plausibility=_plausibility(ctx.at("plausibility"), data.get("plausibility") or {}),
        prior_year=_prior_year(ctx.at("prior_year"), data.get("prior_year") or {}),
    )


def _prior_year(ctx: Ctx, raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise ctx.fail("应为“本年字段: 上年字段”的键值表")
    return {str(k): str(v) for k, v in raw.items()}


def _plausibility(ctx: Ctx, raw: Any) -> dict[str, Any]:
    """Thresholds of the plausibility checks; each pair is [field, field] compared by magnitude."""
    out = {
        "max_amount": as_dec(ctx.at("max_amount"), get(ctx, raw, "max_amount", "1000000")),
        "max_per_capita": as_dec(ctx.at("max_per_capita"), get(ctx, raw, "max_per_capita", "500")),
        "pair_ratio": as_dec(ctx.at("pair_ratio"), get(ctx, raw, "pair_ratio", "1000")),
        "grade_margin": as_dec(ctx.at("grade_margin"), get(ctx, raw, "grade_margin", "1")),
    }
    pairs: list[tuple[str, str]] = []
    for i, pair in enumerate(as_list(ctx.at("pairs"), raw.get("pairs", []))):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ctx.at(f"pairs.{i}").fail("应为两个字段 id 组成的列表")
        pairs.append((str(pair[0]), str(pair[1])))
    return {**out, "pairs": pairs}


def _check_sum(ctx: Ctx, what: str, label: str, declared: Decimal, actual: Decimal, key: str = "max") -> None:
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
    ctx = Ctx(ed.rubric.source)
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
