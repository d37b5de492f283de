"""Load and validate an edition: the form layout (templates/) and the rubric (checks/).

Everything is turned into frozen dataclasses once; any mistake in the data raises SpecError
naming the file and the key, so a broken edition never reaches a user's workbook.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from perfxl.spec import expr
from perfxl.spec.ctx import Ctx, as_dec, as_expr, as_int, as_list, get, keys
from perfxl.spec.kinds import KINDS, rule_refs
from perfxl.spec.model import (
    FIELD_TYPES,
    READING_KINDS,
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
    known_field_types,
)
from perfxl.spec.narrative import load_lexicon, load_narrative
from perfxl.spec.stored import stored_edition

# The edition used when none is named (a new province or year is chosen with --edition).
DEFAULT_EDITION = "hunan-2020"

# ---------------------------------------------------------------- loading helpers


def _field(ctx: Ctx, raw: Any) -> FieldDef:
    keys(ctx, raw, ("id", "label", "type"), ("unit", "required", "signed", "min", "max"))
    ftype = raw["type"]
    if not isinstance(ftype, str) or ftype not in FIELD_TYPES:
        raise ctx.at("type").fail(f"未知字段类型 “{ftype}”；可用：{', '.join(FIELD_TYPES)}")
    lo, hi = raw.get("min"), raw.get("max")
    return FieldDef(
        id=str(raw["id"]),
        label=str(raw["label"]),
        type=ftype,
        unit=raw.get("unit", FIELD_TYPES[ftype]),
        required=bool(raw.get("required", False)),
        signed=bool(raw.get("signed", False)),
        min=None if lo is None else as_dec(ctx.at("min"), lo),
        max=None if hi is None else as_dec(ctx.at("max"), hi),
    )


def _text(ctx: Ctx, value: Any) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ctx.fail(f"应为文字，实际为 {value!r}")
    return str(value)


def _read_yaml(path: Path) -> Any:
    # PyYAML is imported only when an edition is parsed, not when it was stored (spec/stored.py).
    from perfxl.spec.yamlfile import read_yaml

    return read_yaml(path)


# ---------------------------------------------------------------- form loading

# Each top-level section of the form: (required keys, optional keys).
_FORM_SECTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "options": (("sub_units", "qualitative", "reviewers", "indicators"), ()),
    "basic": (("name", "title", "rows"), ()),
    "finance": (("name", "title", "row_header", "rows", "tables"), ("tables_per_page",)),
    "basis": (("name", "title", "groups"), ()),
    "performance": (("name", "title", "qualitative", "quantitative", "total_label", "grade_label"), ()),
    "reviewers": (("name", "title", "columns", "signatures", "reporter"), ()),
    "rubric_sheet": (("name", "title", "header", "summary_title", "total_label", "grade_label"), ()),
    "instructions": (("name", "title", "lines"), ()),
}


def load_form(path: Path) -> Form:
    ctx = Ctx(str(path))
    data = keys(
        ctx, _read_yaml(path), ("edition", "version", "title", *_FORM_SECTIONS), ("region", "narrative")
    )
    # The sheets' texts are kept as read (the layout looks them up by key), so each must be complete.
    sections = {k: keys(ctx.at(k), data[k], *spec) for k, spec in _FORM_SECTIONS.items()}
    basic, finance, basis, perf, reviewers = (
        sections[k] for k in ("basic", "finance", "basis", "performance", "reviewers")
    )
    basic_rows = tuple(
        tuple(
            _field(ctx.at(f"basic.rows.{r}.{c}"), f)
            for c, f in enumerate(as_list(ctx.at(f"basic.rows.{r}"), row))
        )
        for r, row in enumerate(as_list(ctx.at("basic.rows"), basic["rows"]))
    )
    keys(ctx.at("finance.rows"), finance["rows"], ("total", "org", "sub"))
    tables = []
    for t, raw in enumerate(as_list(ctx.at("finance.tables"), finance["tables"])):
        tctx = ctx.at(f"finance.tables.{t}")
        keys(tctx, raw, ("id", "title", "columns"))
        cols = []
        for c, col in enumerate(as_list(tctx.at("columns"), raw["columns"])):
            cctx = tctx.at(f"columns.{c}")
            keys(cctx, col, ("id", "header"), ("formula", "signed"))
            formula = col.get("formula")
            if formula is not None:
                as_expr(cctx.at("formula"), formula)
            cols.append(
                Column(
                    id=str(col["id"]),
                    header=tuple(str(h) for h in as_list(cctx.at("header"), col["header"])),
                    formula=formula,
                    signed=bool(col.get("signed", False)),
                )
            )
        tables.append(Table(str(raw["id"]), str(raw["title"]), tuple(cols)))
    groups = []
    for g, raw in enumerate(as_list(ctx.at("basis.groups"), basis["groups"])):
        gctx = ctx.at(f"basis.groups.{g}")
        keys(gctx, raw, ("title", "fields"))
        fields = tuple(
            _field(gctx.at(f"fields.{i}"), f) for i, f in enumerate(as_list(gctx.at("fields"), raw["fields"]))
        )
        groups.append((str(raw["title"]), fields))
    keys(ctx.at("performance.qualitative"), perf["qualitative"], ("label", "target", "done"))
    quant = keys(ctx.at("performance.quantitative"), perf["quantitative"], ("label", "header", "groups"))
    cats = []
    for g, raw in enumerate(as_list(ctx.at("performance.quantitative.groups"), quant["groups"])):
        gctx = ctx.at(f"performance.quantitative.groups.{g}")
        keys(gctx, raw, ("label", "categories"))
        group = []
        for c, cat in enumerate(as_list(gctx.at("categories"), raw["categories"])):
            keys(gctx.at(f"categories.{c}"), cat, ("id", "label"), ("counted",))
            group.append(Category(str(cat["id"]), str(cat["label"]), bool(cat.get("counted", False))))
        cats.append((str(raw["label"]), tuple(group)))
    reporter = tuple(
        _field(ctx.at(f"reviewers.reporter.{i}"), f)
        for i, f in enumerate(as_list(ctx.at("reviewers.reporter"), reviewers["reporter"]))
    )
    counted = tuple(c.id for _, cs in cats for c in cs if c.counted)
    options = sections["options"]
    keys(ctx.at("options.indicators"), options["indicators"], counted)  # rows per counted category
    form = Form(
        edition=str(data["edition"]),
        version=as_int(ctx.at("version"), data["version"]),
        title=str(data["title"]),
        region=str(data.get("region", "")),
        options=options,
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
        rubric_sheet=sections["rubric_sheet"],
        instructions=sections["instructions"],
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


# The rubric file's top level: (required keys, optional keys).
_RUBRIC_KEYS = (
    ("edition", "version", "form", "total", "grades", "sections"),
    ("title", "tolerance", "score_tolerance", "rate_decimals", "score_decimals")
    + ("readings", "identities", "plausibility", "prior_year", "narrative"),
)


def load_rubric(path: Path) -> Rubric:
    ctx = Ctx(str(path))
    data = keys(ctx, _read_yaml(path), *_RUBRIC_KEYS)
    # A reading is one of the ways per_point can count a percentage point: no other name means anything.
    raw_readings = keys(ctx.at("readings"), data.get("readings") or {}, (), READING_KINDS)
    readings = {str(k): str(v) for k, v in raw_readings.items()}
    sections, ids = [], []
    for s, sraw in enumerate(as_list(ctx.at("sections"), data["sections"])):
        sctx = ctx.at(f"sections.{s}")
        keys(sctx, sraw, ("label", "max", "groups"))
        slabel = str(sraw["label"])
        groups = []
        for g, graw in enumerate(as_list(sctx.at("groups"), sraw["groups"])):
            gctx = sctx.at(f"groups.{g}")
            keys(gctx, graw, ("label", "max", "items"))
            glabel = str(graw["label"])
            items = []
            for i, iraw in enumerate(as_list(gctx.at("items"), graw["items"])):
                ictx = gctx.at(f"items.{i}")
                keys(ictx, iraw, ("id", "name", "max", "rule"), ("standard",))
                maximum = as_dec(ictx.at("max"), iraw["max"])
                item_id = str(iraw["id"])
                ids.append(item_id)
                items.append(
                    Item(
                        id=item_id,
                        name=str(iraw["name"]),
                        max=maximum,
                        standard=iraw.get("standard"),
                        rule=_rule(ictx.at("rule"), iraw["rule"], maximum, readings),
                        section=slabel,
                        group=glabel,
                    )
                )
            gmax = as_dec(gctx.at("max"), graw["max"])
            _check_sum(gctx, "二级指标", glabel, gmax, sum((i.max for i in items), Decimal(0)))
            groups.append(Group(glabel, gmax, tuple(items)))
        smax = as_dec(sctx.at("max"), sraw["max"])
        _check_sum(sctx, "一级指标", slabel, smax, sum((g.max for g in groups), Decimal(0)))
        sections.append(Section(slabel, smax, tuple(groups)))
    total = as_dec(ctx.at("total"), data["total"])
    _check_sum(ctx, "总分", "", total, sum((s.max for s in sections), Decimal(0)), key="total")
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ctx.at("sections").fail(f"评分项 id 重复：{', '.join(dup)}")
    grades = []
    for i, g in enumerate(as_list(ctx.at("grades"), data["grades"])):
        keys(ctx.at(f"grades.{i}"), g, ("label", "min"))
        grades.append(Grade(str(g["label"]), as_dec(ctx.at(f"grades.{i}.min"), g["min"])))
    if not grades or any(a.min <= b.min for a, b in zip(grades, grades[1:], strict=False)):
        raise ctx.at("grades").fail("评价等次须按下限从高到低排列")
    if grades[-1].min > 0:
        raise ctx.at("grades").fail("最后一个评价等次的下限须为 0，使任何总分都有等次")
    identities = []
    for i, r in enumerate(as_list(ctx.at("identities"), data.get("identities", []))):
        ictx = ctx.at(f"identities.{i}")
        keys(ictx, r, ("id", "label", "left", "right"), ("when_filled",))
        identities.append(
            Identity(
                id=str(r["id"]),
                label=str(r["label"]),
                left=as_expr(ictx.at("left"), r["left"]),
                right=as_expr(ictx.at("right"), r["right"]),
                when_filled=tuple(
                    _text(ictx.at(f"when_filled.{k}"), f)
                    for k, f in enumerate(as_list(ictx.at("when_filled"), r.get("when_filled", [])))
                ),
            )
        )
    return Rubric(
        edition=str(data["edition"]),
        version=as_int(ctx.at("version"), data["version"]),
        form=str(data["form"]),
        title=str(data.get("title", "")),
        total=total,
        tolerance=as_dec(ctx.at("tolerance"), data.get("tolerance", "0.01")),
        score_tolerance=as_dec(ctx.at("score_tolerance"), data.get("score_tolerance", "0.005")),
        rate_decimals=as_int(ctx.at("rate_decimals"), data.get("rate_decimals", 2)),
        score_decimals=as_int(ctx.at("score_decimals"), data.get("score_decimals", 2)),
        grades=tuple(grades),
        readings=readings,
        identities=tuple(identities),
        sections=tuple(sections),
        source=str(path),
        plausibility=_plausibility(ctx.at("plausibility"), data.get("plausibility") or {}),
        prior_year=_prior_year(ctx.at("prior_year"), data.get("prior_year") or {}),
        lexicon=load_lexicon(ctx.at("narrative"), data["narrative"]) if "narrative" in data else None,
    )


def _prior_year(ctx: Ctx, raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise ctx.fail("应为“本年字段: 上年字段”的键值表")
    return {str(k): str(v) for k, v in raw.items()}


def _plausibility(ctx: Ctx, raw: Any) -> dict[str, Any]:
    """Thresholds of the plausibility checks; each pair is [field, field] compared by magnitude."""
    keys(ctx, raw, (), ("max_amount", "max_per_capita", "pair_ratio", "grade_margin", "pairs"))
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


@cache  # where the package is installed does not change while it runs (resolving is slow)
def data_dirs() -> tuple[Path, Path]:
    """(templates dir, checks dir): installed copies in a wheel, else the source checkout's."""
    here = Path(__file__).resolve().parents[1]  # the perfxl package
    installed = here / "_data"
    root = installed if (installed / "templates").is_dir() else here.parent
    return root / "templates", root / "checks"


def available_editions() -> list[str]:
    """The editions in the templates directory, listed afresh on every call (a plain listing:
    every check asks, and ``Path.glob`` costs a tenth of a millisecond)."""
    templates, _ = data_dirs()
    try:
        names = os.listdir(templates)
    except OSError:
        return []
    return sorted(os.path.splitext(n)[0] for n in names if n.endswith(".yaml"))


def load_edition(
    name: str = DEFAULT_EDITION, form_path: Path | None = None, rubric_path: Path | None = None
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
    # The rubric is named inside the form (its edition key), so without an explicit one every rubric
    # of the checks directory goes into the stored edition's digest.
    checks = data_dirs()[1]
    rubrics = [rubric_path] if rubric_path else sorted(checks.glob("*.yaml")) if checks.is_dir() else []
    files = [form_path, *rubrics]
    return stored_edition(files, lambda: read_edition(form_path, rubric_path))


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
    if ed.rubric.lexicon is not None:
        _check_lexicon(ed, ctx)


def _check_lexicon(ed: Edition, ctx: Ctx) -> None:
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
