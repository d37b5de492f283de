"""Tests for perfxl.spec: the shipped edition loads as published, and every drafting mistake in an
edition's data files is refused with a SpecError naming the file and the key path.

Each broken edition is the real hunan-2020 YAML, loaded with yaml.safe_load, with ONE key changed
and dumped to tmp_path; it is loaded through ``read_edition`` (uncached) so the functools.cache
on ``load_edition`` neither hides an error nor keeps a broken edition around.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfxl.engine.compute import compute
from perfxl.engine.formulas import formula
from perfxl.engine.layout import build_plan, resolve_options
from perfxl.spec import (
    READING_KINDS,
    Edition,
    SpecError,
    available_editions,
    expr,
    load_edition,
    read_edition,
    rule_refs,
)
from perfxl.spec.load import load_form, load_rubric

ROOT = Path(__file__).resolve().parents[1]
FORM = ROOT / "templates" / "hunan-2020.yaml"
RUBRIC = ROOT / "checks" / "hunan-2020.yaml"
CJK = re.compile(r"[\u4e00-\u9fff]")

Data = dict[str, Any]
Mutation = Callable[[Data], None]


def _read(path: Path) -> Data:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _dump(data: Data, path: Path) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


_FORM_DATA = _read(FORM)
_RUBRIC_DATA = _read(RUBRIC)


def _item(rubric: Data, item_id: str) -> Data:
    for section in rubric["sections"]:
        for group in section["groups"]:
            for item in group["items"]:
                if item["id"] == item_id:
                    return item
    raise KeyError(item_id)


def _set_item(item_id: str, *keys: str | int, value: Any) -> Mutation:
    """Set rubric item ``item_id``'s key path (below the item) to ``value``."""

    def mutate(rubric: Data) -> None:
        node: Any = _item(rubric, item_id)
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return mutate


def _del_item(item_id: str, *keys: str | int) -> Mutation:
    def mutate(rubric: Data) -> None:
        node: Any = _item(rubric, item_id)
        for k in keys[:-1]:
            node = node[k]
        del node[keys[-1]]

    return mutate


def _set(*keys: str | int, value: Any) -> Mutation:
    """Set a key path from the top of the file to ``value``."""

    def mutate(data: Data) -> None:
        node: Any = data
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return mutate


def _remove_form_field(field_id: str) -> Mutation:
    def mutate(form: Data) -> None:
        for group in form["basis"]["groups"]:
            group["fields"] = [f for f in group["fields"] if f["id"] != field_id]

    return mutate


def _drop_reading(name: str) -> Mutation:
    def mutate(rubric: Data) -> None:
        del rubric["readings"][name]

    return mutate


def _rename(*keys: str | int, to: str) -> Mutation:
    """Rename the last key of a key path from the top of the file (a misspelling of it)."""

    def mutate(data: Data) -> None:
        node: Any = data
        for k in keys[:-1]:
            node = node[k]
        node[to] = node.pop(keys[-1])

    return mutate


def _rename_item(item_id: str, *keys: str | int, to: str) -> Mutation:
    def mutate(rubric: Data) -> None:
        node: Any = _item(rubric, item_id)
        for k in keys[:-1]:
            node = node[k]
        node[to] = node.pop(keys[-1])

    return mutate


def _move_readings_beside_rule(item_id: str) -> Mutation:
    def mutate(rubric: Data) -> None:
        item = _item(rubric, item_id)
        item["readings"] = item["rule"].pop("readings")

    return mutate


def _swap_first_grades(rubric: Data) -> None:
    g = rubric["grades"]
    g[0], g[1] = g[1], g[0]


def _write(
    tmp_path: Path, form_mut: Mutation | None = None, rubric_mut: Mutation | None = None
) -> tuple[Path, Path]:
    form, rubric = copy.deepcopy(_FORM_DATA), copy.deepcopy(_RUBRIC_DATA)
    if form_mut:
        form_mut(form)
    if rubric_mut:
        rubric_mut(rubric)
    return _dump(form, tmp_path / "form.yaml"), _dump(rubric, tmp_path / "rubric.yaml")


def _load(form_path: Path, rubric_path: Path) -> Edition:
    return read_edition(form_path, rubric_path)


# Key paths of the hunan-2020 rubric used below.
I1 = "sections.0.groups.0.items.0"
I2 = "sections.0.groups.0.items.1"
I3 = "sections.0.groups.0.items.2"
P1 = "sections.1.groups.0.items.0"
P3 = "sections.1.groups.0.items.2"
P5 = "sections.1.groups.1.items.0"
P7 = "sections.1.groups.1.items.2"
E4 = "sections.3.groups.0.items.3"

# (id, which file is broken, mutation, key path the message must name, other text it must name)
RUBRIC_CASES = [
    ("unknown-rule-kind", _set_item("I3", "rule", "kind", value="ladr"), f"{I3}.rule.kind", ["ladr"]),
    (
        "unknown-rule-kind-judgement-typo",
        _set_item("O2", "rule", "kind", value="judgment"),
        "sections.2.groups.0.items.1.rule.kind",
        ["judgment"],
    ),
    (
        "items-not-summing-to-group",
        _set_item("I1", "max", value=6),
        "sections.0.groups.0.max",
        ["预算配置", "16"],
    ),
    (
        "groups-not-summing-to-section",
        _set("sections", 1, "max", value=41),
        "sections.1.max",
        ["过  程", "41", "40"],
    ),
    ("duplicate-item-id-in-group", _set_item("I2", "id", value="I1"), "sections", ["I1"]),
    ("duplicate-item-id-across-sections", _set_item("E4", "id", value="P1"), "sections", ["P1"]),
    (
        "checklist-not-summing",
        _set_item("P7", "rule", "checks", 0, "points", value=2),
        f"{P7}.rule.checks",
        ["4", "3"],
    ),
    (
        "unknown-reading",
        _set_item("I1", "rule", "readings", value=["proportional", "rounded"]),
        f"{I1}.rule.readings",
        ["rounded"],
    ),
    ("reading-not-declared", _drop_reading("started"), f"{I1}.rule.readings", ["started", "readings"]),
    (
        "rate-without-zero-denominator",
        _del_item("I2", "rule", "zero_denominator"),
        f"{I2}.rule.zero_denominator",
        [],
    ),
    (
        "ladder-rate-without-zero-denominator",
        _del_item("I3", "rule", "zero_denominator"),
        f"{I3}.rule.zero_denominator",
        [],
    ),
    (
        "overlapping-closed-edge",
        _set_item("I3", "rule", "bands", 1, "when", value="[80, 90]"),
        f"{I3}.rule.bands",
        ["[80, 90]", ">= 90"],
    ),
    (
        "overlapping-interiors",
        _set_item("E4", "rule", "bands", 2, "when", value="[75, 86)"),
        f"{E4}.rule.bands",
        ["[85, 95)", "[75, 86)"],
    ),
    (
        "overlapping-point-band",
        _set_item("P1", "rule", "bands", 1, "when", value="[0, 10]"),
        f"{P1}.rule.bands",
        ["= 0", "[0, 10]"],
    ),
    (
        "unparseable-band-words",
        _set_item("I3", "rule", "bands", 0, "when", value="90 or more"),
        f"{I3}.rule.bands.0.when",
        ["90 or more"],
    ),
    (
        "unparseable-band-empty-edge",
        _set_item("I3", "rule", "bands", 1, "when", value="[80, )"),
        f"{I3}.rule.bands.1.when",
        [],
    ),
    (
        "unparseable-band-expression",
        _set_item("E4", "rule", "bands", 0, "when", value=">= 95 +"),
        f"{E4}.rule.bands.0.when",
        [],
    ),
    ("grades-not-descending", _swap_first_grades, "grades", []),
    ("grades-equal-minima", _set("grades", 1, "min", value=90), "grades", []),
    ("last-grade-min-above-zero", _set("grades", 3, "min", value=10), "grades", []),
    ("rubric-names-another-form", _set("form", value="hunan-2021"), "form", ["hunan-2021", "hunan-2020"]),
    # A key the loader does not know, at every level: refused, never read as absent.
    ("misspelt-top-level-key", _rename("tolerance", to="tolerence"), "tolerence", ["未知的键", "tolerance"]),
    ("misspelt-section-key", _rename("sections", 0, "label", to="lable"), "sections.0.lable", ["label"]),
    (
        "misspelt-group-key",
        _rename("sections", 0, "groups", 0, "max", to="maximum"),
        "sections.0.groups.0.maximum",
        [],
    ),
    ("misspelt-item-key", _rename_item("P1", "standard", to="standrd"), f"{P1}.standrd", ["standard"]),
    (
        "misspelt-rule-key",
        _rename_item("I1", "rule", "threshold", to="treshold"),
        f"{I1}.rule.treshold",
        ["threshold"],
    ),
    (
        "misspelt-readings-key",
        _rename_item("I1", "rule", "readings", to="reading"),
        f"{I1}.rule.reading",
        ["readings"],
    ),
    ("readings-beside-the-rule", _move_readings_beside_rule("I1"), f"{I1}.readings", ["rule"]),
    (
        "key-of-another-kind",
        _set_item("P1", "rule", "direction", value="over"),
        f"{P1}.rule.direction",
        ["bands"],
    ),
    (
        "misspelt-metric-key",
        _rename_item("I3", "rule", "metric", "den", to="dem"),
        f"{I3}.rule.metric.dem",
        ["den"],
    ),
    (
        "misspelt-zero-denominator-key",
        _rename_item("I1", "rule", "zero_denominator", "note", to="notes"),
        f"{I1}.rule.zero_denominator.notes",
        ["note"],
    ),
    (
        "misspelt-band-key",
        _set_item("P3", "rule", "bands", 0, "lable", value="无"),
        f"{P3}.rule.bands.0.lable",
        ["label"],
    ),
    (
        "misspelt-check-key",
        _rename_item("P5", "rule", "checks", 0, "points", to="point"),
        f"{P5}.rule.checks.0.point",
        [],
    ),
    ("misspelt-grade-key", _rename("grades", 0, "min", to="minimum"), "grades.0.minimum", ["min"]),
    (
        "misspelt-identity-key",
        _rename("identities", 0, "when_filled", to="when_filed"),
        "identities.0.when_filed",
        [],
    ),
    (
        "misspelt-plausibility-key",
        _rename("plausibility", "max_amount", to="max_amout"),
        "plausibility.max_amout",
        [],
    ),
    # Reading names: only those per_point can count by, declared as a mapping, at least one per rule.
    (
        "unknown-reading-declared",
        _set("readings", "rounded", value="四舍五入"),
        "readings.rounded",
        ["whole"],
    ),
    ("readings-not-a-mapping", _set("readings", value=["whole"]), "readings", []),
    ("no-reading-listed", _set_item("I1", "rule", "readings", value=[]), f"{I1}.rule.readings", []),
    # A rule or identity reading a field the form does not have (checked across both files).
    (
        "rule-refers-to-unknown-field",
        _set_item("I1", "rule", "metric", "num", value="unit.staff_real"),
        "I1.rule",
        ["unit.staff_real"],
    ),
    (
        "band-edge-refers-to-unknown-field",
        _set_item("P3", "rule", "bands", 1, "when", value="(0, income.total.carry]"),
        "P3.rule",
        ["income.total.carry"],
    ),
    (
        "checklist-refers-to-unknown-field",
        _set_item("P5", "rule", "checks", 2, "field", value="basis.p5_9"),
        "P5.rule",
        ["basis.p5_9"],
    ),
    (
        "identity-refers-to-unknown-field",
        _set("identities", 0, "left", value="expense.total.wages"),
        "identities.econ.personnel",
        ["expense.total.wages"],
    ),
]

FORM_CASES = [
    (
        "unknown-field-type-basic",
        _set("basic", "rows", 1, 1, "type", value="date"),
        "basic.rows.1.1.type",
        ["date"],
    ),
    (
        "unknown-field-type-basis",
        _set("basis", "groups", 2, "fields", 0, "type", value="percentage"),
        "basis.groups.2.fields.0.type",
        ["percentage"],
    ),
    (
        "unknown-field-type-reporter",
        _set("reviewers", "reporter", 0, "type", value="signature"),
        "reviewers.reporter.0.type",
        ["signature"],
    ),
    ("misspelt-top-level-key", _rename("region", to="regoin"), "regoin", ["未知的键", "region"]),
    ("misspelt-option", _rename("options", "sub_units", to="sub_unit"), "options.sub_unit", ["sub_units"]),
    (
        "unknown-indicator-category",
        _set("options", "indicators", "speed", value=2),
        "options.indicators.speed",
        ["cost"],
    ),
    (
        "misspelt-row-header",
        _rename("finance", "row_header", to="row_headr"),
        "finance.row_headr",
        ["row_header"],
    ),
    ("misspelt-finance-row", _rename("finance", "rows", "sub", to="subs"), "finance.rows.subs", ["sub"]),
    (
        "misspelt-table-key",
        _rename("finance", "tables", 0, "title", to="titel"),
        "finance.tables.0.titel",
        [],
    ),
    (
        "misspelt-column-key",
        _rename("finance", "tables", 0, "columns", 0, "formula", to="formla"),
        "finance.tables.0.columns.0.formla",
        ["formula"],
    ),
    (
        "misspelt-basic-field-key",
        _set("basic", "rows", 1, 1, "mini", value=2000),
        "basic.rows.1.1.mini",
        ["min"],
    ),
    (
        "misspelt-basis-field-key",
        _set("basis", "groups", 0, "fields", 0, "requried", value=True),
        "basis.groups.0.fields.0.requried",
        ["required"],
    ),
    (
        "misspelt-category-key",
        _set("performance", "quantitative", "groups", 0, "categories", 0, "countd", value=True),
        "performance.quantitative.groups.0.categories.0.countd",
        ["counted"],
    ),
    (
        "misspelt-qualitative-key",
        _rename("performance", "qualitative", "done", to="don"),
        "performance.qualitative.don",
        [],
    ),
    (
        "misspelt-reporter-key",
        _set("reviewers", "reporter", 0, "typ", value="text"),
        "reviewers.reporter.0.typ",
        [],
    ),
    (
        "misspelt-rubric-sheet-key",
        _rename("rubric_sheet", "total_label", to="totl_label"),
        "rubric_sheet.totl_label",
        [],
    ),
    (
        "misspelt-instructions-key",
        _rename("instructions", "lines", to="line"),
        "instructions.line",
        ["lines"],
    ),
    (
        "bad-column-formula",
        _set("finance", "tables", 0, "columns", 0, "formula", value="carryover +"),
        "finance.tables.0.columns.0.formula",
        [],
    ),
]


def _assert_names(err: SpecError, path: Path, key_path: str, extra: list[str]) -> None:
    msg = str(err)
    assert msg.startswith(f"{path}: "), msg
    assert f": {key_path}: " in msg, msg
    for text in extra:
        assert text in msg, (text, msg)
    assert CJK.search(msg), msg


@pytest.mark.parametrize(
    ("mutate", "key_path", "extra"), [c[1:] for c in RUBRIC_CASES], ids=[c[0] for c in RUBRIC_CASES]
)
def test_broken_rubric_names_file_and_key(
    tmp_path: Path, mutate: Mutation, key_path: str, extra: list[str]
) -> None:
    form_path, rubric_path = _write(tmp_path, rubric_mut=mutate)
    with pytest.raises(SpecError) as info:
        _load(form_path, rubric_path)
    _assert_names(info.value, rubric_path, key_path, extra)


@pytest.mark.parametrize(
    ("mutate", "key_path", "extra"), [c[1:] for c in FORM_CASES], ids=[c[0] for c in FORM_CASES]
)
def test_broken_form_names_file_and_key(
    tmp_path: Path, mutate: Mutation, key_path: str, extra: list[str]
) -> None:
    form_path, rubric_path = _write(tmp_path, form_mut=mutate)
    with pytest.raises(SpecError) as info:
        _load(form_path, rubric_path)
    _assert_names(info.value, form_path, key_path, extra)
    with pytest.raises(SpecError):  # the form alone is already refused
        load_form(form_path)


def test_field_removed_from_form_is_reported_in_rubric(tmp_path: Path) -> None:
    """The form loses a field a rule still reads: the rubric file and the item are named."""
    form_path, rubric_path = _write(tmp_path, form_mut=_remove_form_field("basis.card_due"))
    load_form(form_path)  # the form alone is fine
    with pytest.raises(SpecError) as info:
        _load(form_path, rubric_path)
    _assert_names(info.value, rubric_path, "P9.rule", ["basis.card_due"])


def test_sections_not_summing_to_total_is_refused(tmp_path: Path) -> None:
    form_path, rubric_path = _write(tmp_path, rubric_mut=_set("total", value=99))
    with pytest.raises(SpecError) as info:
        _load(form_path, rubric_path)
    msg = str(info.value)
    assert msg.startswith(f"{rubric_path}: ") and "总分" in msg and "99" in msg and "100" in msg, msg


def test_sections_not_summing_to_total_names_total_key(tmp_path: Path) -> None:
    form_path, rubric_path = _write(tmp_path, rubric_mut=_set("total", value=99))
    with pytest.raises(SpecError) as info:
        _load(form_path, rubric_path)
    _assert_names(info.value, rubric_path, "total", ["99", "100"])


def _pop(*keys: str | int) -> Mutation:
    def mutate(data: Data) -> None:
        node: Any = data
        for k in keys[:-1]:
            node = node[k]
        del node[keys[-1]]

    return mutate


# Keys that must be present: a missing one is a SpecError naming the key, not a bare KeyError.
MISSING_KEY_CASES = [
    ("per-count-without-step", "rubric", _del_item("P2", "rule", "step")),
    ("checklist-check-without-points", "rubric", _del_item("P5", "rule", "checks", 0, "points")),
    ("grade-without-min", "rubric", _pop("grades", 0, "min")),
    ("identity-without-left", "rubric", _pop("identities", 0, "left")),
    ("category-without-id", "form", _pop("performance", "quantitative", "groups", 0, "categories", 0, "id")),
    ("column-without-header", "form", _pop("finance", "tables", 0, "columns", 0, "header")),
    # Read by the layout only when drawing: missing, they used to load and then fail with a KeyError.
    ("finance-without-row-header", "form", _pop("finance", "row_header")),
    ("counted-category-without-rows", "form", _pop("options", "indicators", "cost")),
    ("rubric-sheet-without-grade-label", "form", _pop("rubric_sheet", "grade_label")),
]


@pytest.mark.parametrize(
    ("which", "mutate"), [c[1:] for c in MISSING_KEY_CASES], ids=[c[0] for c in MISSING_KEY_CASES]
)
def test_missing_key_is_a_spec_error(tmp_path: Path, which: str, mutate: Mutation) -> None:
    form_path, rubric_path = _write(tmp_path, **{f"{which}_mut": mutate})
    with pytest.raises(SpecError) as info:
        _load(form_path, rubric_path)
    assert str(info.value).startswith(f"{form_path if which == 'form' else rubric_path}: ")


@pytest.mark.parametrize("which", ["form", "rubric"])
def test_yaml_syntax_error_names_file(tmp_path: Path, which: str) -> None:
    form_path, rubric_path = _write(tmp_path)
    broken = form_path if which == "form" else rubric_path
    text = broken.read_text(encoding="utf-8")
    broken.write_text(text.replace("edition:", "edition: [unclosed\nx:", 1), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        _load(form_path, rubric_path)
    msg = str(info.value)
    assert msg.startswith(f"{broken}: "), msg
    assert "YAML 格式错误" in msg and "第 2 行" in msg and "方括号" in msg, msg


def test_unreadable_rubric_names_file(tmp_path: Path) -> None:
    form_path, _ = _write(tmp_path)
    missing = tmp_path / "nope.yaml"
    with pytest.raises(SpecError, match=re.escape(str(missing))):
        _load(form_path, missing)


def test_empty_file_is_a_spec_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(SpecError, match=re.escape(f"{empty}: (文件顶层)")):
        load_rubric(empty)


@pytest.mark.parametrize("name", ["hunan-2099", "zz", "HUNAN-2020x"])
def test_unknown_edition_lists_available(name: str) -> None:
    with pytest.raises(SpecError) as info:
        load_edition(name)
    msg = str(info.value)
    assert name in msg and "可用" in msg, msg
    for available in available_editions():
        assert available in msg


# ------------------------------------------------------------------ the real edition


@pytest.fixture(scope="module")
def edition() -> Edition:
    return load_edition()


def test_real_edition_loads_and_is_cached(edition: Edition) -> None:
    assert edition.name == "hunan-2020"
    assert edition.rubric.form == "hunan-2020"
    assert "hunan-2020" in available_editions()
    assert load_edition() is load_edition()  # functools.cache: parsed once per argument list
    fresh = read_edition(FORM, RUBRIC)
    assert (fresh.form, fresh.rubric) == (edition.form, edition.rubric)  # Edition itself compares by identity


def test_item_ids_in_order(edition: Edition) -> None:
    expected = [
        "I1",
        "I2",
        "I3",
        *(f"P{n}" for n in range(1, 13)),
        *(f"O{n}" for n in range(1, 7)),
        *(f"E{n}" for n in range(1, 5)),
    ]
    assert [i.id for i in edition.rubric.items] == expected


def test_maxima(edition: Edition) -> None:
    rubric = edition.rubric
    assert rubric.total == 100
    assert sum(i.max for i in rubric.items) == 100
    assert [s.max for s in rubric.sections] == [15, 40, 25, 20]
    for s in rubric.sections:
        assert sum(g.max for g in s.groups) == s.max
        for g in s.groups:
            assert sum(i.max for i in g.items) == g.max


def test_grades(edition: Edition) -> None:
    assert [(g.label, g.min) for g in edition.rubric.grades] == [
        ("优秀", Decimal(90)),
        ("良好", Decimal(80)),
        ("中", Decimal(60)),
        ("差", Decimal(0)),
    ]


def test_p3_bands_read_carryover(edition: Edition) -> None:
    rule = edition.rubric.item("P3").rule
    assert rule.kind == "ladder"
    assert rule.metric is not None and rule.metric.value is not None and not rule.metric.is_rate
    assert rule.zero is None
    assert "income.total.carryover" in rule_refs(rule)
    low, mid, high = rule.bands
    assert low.low is None and low.high is not None and isinstance(low.high.value, expr.Num)
    assert mid.low is not None and mid.high is not None
    assert not mid.low.closed and mid.high.closed
    assert isinstance(mid.low.value, expr.Num) and mid.low.value.value == 0
    assert list(expr.refs(mid.high.value)) == ["income.total.carryover"]
    assert high.low is not None and not high.low.closed
    assert list(expr.refs(high.low.value)) == ["income.total.carryover"]
    assert [b.score for b in rule.bands] == [3, 2, 0]


def test_unknown_rule_kind_lists_the_registered_kinds(tmp_path: Path) -> None:
    form_path, rubric_path = _write(tmp_path, rubric_mut=_set_item("P1", "rule", "kind", value="ladr"))
    with pytest.raises(SpecError) as info:
        _load(form_path, rubric_path)
    assert str(info.value) == (
        f"{rubric_path}: {P1}.rule.kind: 未知的规则类型 “ladr”；"
        "可用：ladder, per_point, per_count, checklist, judgement"
    )


def test_misspelt_key_lists_the_known_ones(tmp_path: Path) -> None:
    form_path, rubric_path = _write(tmp_path, form_mut=_rename("finance", "row_header", to="row_headr"))
    with pytest.raises(SpecError) as info:
        _load(form_path, rubric_path)
    assert str(info.value) == (
        f"{form_path}: finance.row_headr: 未知的键；"
        "可用：name, title, row_header, rows, tables, tables_per_page"
    )


def test_a_single_reading_is_the_primary_one(tmp_path: Path) -> None:
    """``readings: [whole]``: the first reading a rule lists is the template's 参考得分 (README, checks/
    comments) and the checker accepts only those listed, so ``whole`` is both: 101.5% scores 4.5,
    not the proportional 4.25 nor the started 4, in Python and in the formula alike."""
    form_path, rubric_path = _write(tmp_path, rubric_mut=_set_item("I1", "rule", "readings", value=["whole"]))
    ed = _load(form_path, rubric_path)
    assert ed.rubric.item("I1").rule.readings == ("whole",)
    plan = build_plan(ed)
    calc = compute(plan, {"unit.staff_quota": Decimal(200), "unit.staff_actual": Decimal(203)})
    assert calc.outcomes["I1"].readings == {"whole": Decimal("4.5")}
    assert calc.values["score.I1.ref"] == Decimal("4.5")
    assert "-0.5*INT(" in formula(plan, plan.cells["score.I1.ref"])


def test_per_point_items_list_all_readings(edition: Edition) -> None:
    per_point = [i for i in edition.rubric.items if i.rule.kind == "per_point"]
    assert [i.id for i in per_point] == ["I1", "I2", "P4", "P8", "P9", "P12"]
    for item in per_point:
        assert item.rule.readings == ("proportional", "whole", "started"), item.id
        assert item.rule.zero is not None, item.id
    assert set(edition.rubric.readings) == set(READING_KINDS)


def test_every_rule_reference_is_on_the_form(edition: Edition) -> None:
    from perfxl.spec import known_field_ids

    known = known_field_ids(edition.form)
    for item in edition.rubric.items:
        assert set(rule_refs(item.rule)) <= known, item.id


# ------------------------------------------------------------------ template options


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"sub_units": "x"}, "sub_units 应为整数"),
        ({"sub_units": -1}, "sub_units 应在 0～50"),
        ({"qualitative": 0}, "qualitative 应在 1～50"),
        ({"reviewers": 51}, "reviewers 应在 1～50"),
        ({"indicators": {"speed": 2}}, "未知指标类别 “speed”"),
        ({"indicators": {"quality": 0}}, "quality 应在 1～50"),
        ({"colour": "red"}, "未知模板选项 “colour”"),
    ],
    ids=[
        "sub-units-x",
        "sub-units-negative",
        "qualitative-0",
        "reviewers-51",
        "unknown-indicator",
        "indicator-0",
        "unknown-option",
    ],
)
def test_bad_template_options(edition: Edition, overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        resolve_options(edition, overrides)
    msg = str(info.value)
    assert fragment in msg, msg
    assert CJK.search(msg), msg


def test_good_template_options(edition: Edition) -> None:
    opts = resolve_options(
        edition, {"sub_units": "0", "qualitative": 3, "indicators": {"cost": "5"}, "reviewers": None}
    )
    assert opts["sub_units"] == 0 and opts["qualitative"] == 3 and opts["reviewers"] == 4
    assert opts["indicators"] == {"quality": 3, "quantity": 3, "timeliness": 3, "cost": 5}
    assert edition.form.options["indicators"]["cost"] == 2  # the edition's defaults are not mutated
