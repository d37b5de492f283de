"""The data-driven claim: a new edition is two YAML files and no code.

``tests/data/mini-2099`` is a small fictitious edition that differs from hunan-2020 only in data:
I1 is worth 10 and I3 is gone (投入 still 15), O6 is gone (O4/O5 reweighted), P1 and E4 have
other ladder edges, the grades are 优秀 ≥ 85 / 合格 ≥ 60 / 不合格, the income table has another
title and one 二级机构 row by default. Loading it, drawing its workbook and recomputing it go
through exactly the same code as hunan-2020.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook

from perfxl.engine.compute import compute
from perfxl.engine.formulas import formula
from perfxl.engine.layout import Plan, build_plan, col_letter
from perfxl.form.template import write_template
from perfxl.spec import Edition, available_editions, load_edition

D = Decimal
MINI = Path(__file__).resolve().parent / "data" / "mini-2099"
MINI_FORM = MINI / "templates" / "mini-2099.yaml"
MINI_RUBRIC = MINI / "checks" / "mini-2099.yaml"

HUNAN_INCOME_TITLE = "年度收入情况（万元）"
MINI_INCOME_TITLE = "收入情况表（单位：万元）"
MINI_ITEMS = [
    "I1",
    "I2",
    *(f"P{n}" for n in range(1, 13)),
    *(f"O{n}" for n in range(1, 6)),
    "E1",
    "E2",
    "E3",
    "E4",
]


@pytest.fixture(scope="module")
def mini() -> Edition:
    return load_edition("mini-2099", form_path=MINI_FORM, rubric_path=MINI_RUBRIC)


@pytest.fixture(scope="module")
def hunan() -> Edition:
    return load_edition()


@contextmanager
def _open(path: Path, data_only: bool = False) -> Iterator[Workbook]:
    wb = openpyxl.load_workbook(path, data_only=data_only)
    try:
        yield wb
    finally:
        wb.close()


def _self_scores(total: int, *editions: Edition) -> dict[str, Decimal]:
    """Self-scores adding up to ``total``, using only items every edition has, each within every
    edition's maximum (so the very same inputs are valid for all of them)."""
    maps = [{i.id: i.max for i in ed.rubric.items} for ed in editions]
    common = [i for i in maps[0] if all(i in m for m in maps)]
    left, out = D(total), {}
    for item_id in common:
        give = min(left, *(m[item_id] for m in maps))
        out[f"score.{item_id}.self"] = give
        left -= give
    assert left == 0, f"{total} is more than the common items allow"
    return out


# Basis data whose reference scores differ only because the rubric data differ.
BASIS: dict[str, Any] = {
    "unit.staff_quota": 50,
    "unit.staff_actual": 52,  # 104%: I1 hunan 5-0.5*4=3, mini 10-0.5*4=8
    "basis.budget_initial": 1000,
    "basis.budget_adjust": 70,  # 7%: P1 hunan (0,10]→2, mini (5,15]→1
    "basis.satisfaction": 92,  # E4 hunan [85,95)→3, mini >=90→5
    "basis.special_late": 1,  # P2 hunan step 0.5 → 2.5, mini step 1 → 2
}
REF_EXPECTED = {  # item: (hunan-2020 参考得分, mini-2099 参考得分)
    "I1": (D(3), D(8)),
    "P1": (D(2), D(1)),
    "E4": (D(3), D(5)),
    "P2": (D("2.5"), D(2)),
}


# ------------------------------------------------------------------ loading


def test_mini_edition_loads_from_data_files_only(mini: Edition) -> None:
    assert mini.name == "mini-2099" and mini.rubric.form == "mini-2099"
    assert "mini-2099" not in available_editions()  # not shipped: nothing but the two files above
    assert mini.form.source == str(MINI_FORM) and mini.rubric.source == str(MINI_RUBRIC)
    rubric = mini.rubric
    assert [i.id for i in rubric.items] == MINI_ITEMS
    assert rubric.item("I1").max == 10
    assert rubric.total == 100 and sum(i.max for i in rubric.items) == 100
    assert [s.max for s in rubric.sections] == [15, 40, 25, 20]
    assert [(g.label, g.min) for g in rubric.grades] == [("优秀", 85), ("合格", 60), ("不合格", 0)]
    assert mini.form.options["sub_units"] == 1
    assert [t.title for t in mini.form.tables][0] == MINI_INCOME_TITLE


def test_editions_differ_only_where_the_data_do(mini: Edition, hunan: Edition) -> None:
    h, m = {i.id: i for i in hunan.rubric.items}, {i.id: i for i in mini.rubric.items}
    assert set(h) - set(m) == {"I3", "O6"} and set(m) <= set(h)
    assert {k for k in m if h[k].max != m[k].max} == {"I1", "O4", "O5"}
    assert [b.text for b in h["E4"].rule.bands] != [b.text for b in m["E4"].rule.bands]
    assert [b.text for b in m["P1"].rule.bands] == ["= 0", "(0, 5]", "(5, 15]", "> 15"]


# ------------------------------------------------------------------ the workbook


@pytest.fixture(scope="module")
def books(
    tmp_path_factory: pytest.TempPathFactory, mini: Edition, hunan: Edition
) -> dict[str, tuple[Path, Plan]]:
    """Both editions' workbooks, prefilled with the same inputs (self-scores total 86)."""
    out = tmp_path_factory.mktemp("editions")
    values = {**BASIS, **_self_scores(86, hunan, mini)}
    books = {}
    for ed in (mini, hunan):
        path = out / f"{ed.name}.xlsx"
        books[ed.name] = (path, write_template(path, edition=ed, values=values))
    return books


def _rubric_rows(wb: Workbook, plan: Plan) -> list[tuple[str, str, str]]:
    """(item id, 三级指标, 分值) per row of 评分表, ids read off the workbook's defined names."""
    sheet = plan.sheet("rubric").name
    ws = wb[sheet]
    row_ids = {}
    for name, dn in wb.defined_names.items():
        if name.startswith("px_score_") and name.endswith("_self"):
            ((dest_sheet, ref),) = list(dn.destinations)
            assert dest_sheet == sheet
            row_ids[int(ref.split("$")[-1])] = name.removeprefix("px_score_").removesuffix("_self")
    total_label = plan.edition.form.rubric_sheet["total_label"]
    rows, r = [], 3
    while ws.cell(r, 1).value != total_label:
        rows.append((row_ids.get(r, "?"), ws.cell(r, 3).value, ws.cell(r, 5).value))
        r += 1
        assert r < 200, "total row not found"
    return rows


def test_rubric_sheet_has_exactly_the_mini_items(books: dict[str, tuple[Path, Plan]], mini: Edition) -> None:
    path, plan = books["mini-2099"]
    with _open(path) as wb:
        assert "评分表" in wb.sheetnames
        rows = _rubric_rows(wb, plan)
    assert rows == [(i.id, i.name, format(i.max.normalize(), "f")) for i in mini.rubric.items]
    assert [r[0] for r in rows] == MINI_ITEMS
    assert dict((r[0], r[2]) for r in rows)["I1"] == "10"


def test_hunan_rubric_sheet_still_has_its_own_items(
    books: dict[str, tuple[Path, Plan]], hunan: Edition
) -> None:
    path, plan = books["hunan-2020"]
    with _open(path) as wb:
        rows = _rubric_rows(wb, plan)
    assert [r[0] for r in rows] == [i.id for i in hunan.rubric.items]
    assert "I3" in [r[0] for r in rows] and dict((r[0], r[2]) for r in rows)["I1"] == "5"


def test_grade_formula_and_cached_value_use_mini_cut_offs(books: dict[str, tuple[Path, Plan]]) -> None:
    for name, grade, cut_offs, absent in (
        ("mini-2099", "优秀", ['>=85,"优秀"', '>=60,"合格"', '"不合格"'], ["良好", ">=90", ">=80"]),
        ("hunan-2020", "良好", ['>=90,"优秀"', '>=80,"良好"', '>=60,"中"', '"差"'], ["合格", ">=85"]),
    ):
        path, plan = books[name]
        cell = plan.cells["grade.self"]
        with _open(path) as wb:
            text = wb[cell.sheet][cell.ref].value
            note = wb[cell.sheet].cell(cell.row + 1, 8).value
        assert text == formula(plan, cell)
        for piece in cut_offs:
            assert piece in text, (name, text)
        for piece in absent:
            assert piece not in text, (name, text)
        with _open(path, data_only=True) as wb:
            ws = wb[cell.sheet]
            assert ws[plan.cells["total.self"].ref].value == 86, name
            assert ws[cell.ref].value == grade, name
            perf = plan.cells["perf.grade"]
            assert wb[perf.sheet][perf.ref].value == grade, name
        if name == "mini-2099":
            assert note == "优秀 ≥ 85；合格 ≥ 60；其余为不合格"


def test_cached_reference_scores_follow_mini_weights_and_edges(books: dict[str, tuple[Path, Plan]]) -> None:
    for k, name in enumerate(("hunan-2020", "mini-2099")):
        path, plan = books[name]
        with _open(path, data_only=True) as wb:
            for item_id, expected in REF_EXPECTED.items():
                cell = plan.cells[f"score.{item_id}.ref"]
                assert D(str(wb[cell.sheet][cell.ref].value)) == expected[k], (name, item_id)


def test_defined_names_cover_every_cell_of_the_plan(books: dict[str, tuple[Path, Plan]]) -> None:
    path, plan = books["mini-2099"]
    with _open(path) as wb:
        names = {n: list(dn.destinations) for n, dn in wb.defined_names.items()}
    assert plan.inputs()
    for cell in plan.inputs():
        assert names.get(cell.name) == [(cell.sheet, f"${col_letter(cell.col)}${cell.row + 1}")], cell.id
    assert {n for n in names if n.startswith("px_")} == {c.name for c in plan.cells.values()}
    assert "px_score_I3_self" not in names and "px_score_O6_self" not in names
    assert "px_income_sub1_carryover" in names and "px_income_sub2_carryover" not in names


def test_income_table_title_and_one_sub_unit(books: dict[str, tuple[Path, Plan]]) -> None:
    def texts(name: str) -> set[str]:
        path, plan = books[name]
        with _open(path) as wb:
            ws = wb[plan.sheet("finance").name]
            return {str(c.value) for row in ws.iter_rows() for c in row if c.value is not None}

    mini, hunan = texts("mini-2099"), texts("hunan-2020")
    assert MINI_INCOME_TITLE in mini and HUNAN_INCOME_TITLE not in mini
    assert HUNAN_INCOME_TITLE in hunan and MINI_INCOME_TITLE not in hunan
    assert "2、所属单位1" in mini and "3、所属单位2" not in mini
    assert "3、二级机构2" in hunan


def test_sub_units_override_still_applies(mini: Edition) -> None:
    plan = build_plan(mini, {"sub_units": 3})
    assert plan.options["sub_units"] == 3 and "income.sub3.total" in plan.cells
    assert "income.sub2.total" not in build_plan(mini).cells


# ------------------------------------------------------------------ recomputation


@pytest.mark.parametrize(
    ("total", "hunan_grade", "mini_grade"),
    [
        (91, "优秀", "优秀"),
        (90, "优秀", "优秀"),
        (86, "良好", "优秀"),
        (85, "良好", "优秀"),
        (84, "良好", "合格"),
        (80, "良好", "合格"),
        (79, "中", "合格"),
        (60, "中", "合格"),
        (59, "差", "不合格"),
        (0, "差", "不合格"),
    ],
)
def test_compute_grade_follows_each_editions_cut_offs(
    mini: Edition, hunan: Edition, total: int, hunan_grade: str, mini_grade: str
) -> None:
    inputs = _self_scores(total, hunan, mini)
    for ed, grade in ((hunan, hunan_grade), (mini, mini_grade)):
        calc = compute(build_plan(ed), inputs)
        assert calc.values["total.self"] == total, ed.name
        assert calc.values["grade.self"] == grade, ed.name
        assert calc.values["perf.grade"] == grade, ed.name


def test_compute_reference_scores_follow_each_editions_rules(mini: Edition, hunan: Edition) -> None:
    inputs = {k: D(v) for k, v in BASIS.items()}
    for k, ed in enumerate((hunan, mini)):
        calc = compute(build_plan(ed), inputs)
        for item_id, expected in REF_EXPECTED.items():
            assert calc.values[f"score.{item_id}.ref"] == expected[k], (ed.name, item_id)
        assert calc.values["grade.self"] is None  # nothing self-scored: no grade shown
    assert "I3" in compute(build_plan(hunan), inputs).outcomes
    assert "I3" not in compute(build_plan(mini), inputs).outcomes


# ------------------------------------------------------------------ independent recalculation


def _soffice() -> bool:
    try:
        from lo_recalc import soffice_available
    except ImportError:
        return False
    return soffice_available()


@pytest.mark.libreoffice
@pytest.mark.skipif(not _soffice(), reason="soffice (LibreOffice) not on PATH")
def test_libreoffice_recalculates_mini_workbook_like_python(
    books: dict[str, tuple[Path, Plan]], tmp_path: Path
) -> None:
    from lo_recalc import recalc_many

    path, plan = books["mini-2099"]
    out = recalc_many([path], tmp_path / "lo")[path]
    with _open(out, data_only=True) as wb:

        def value(fid: str) -> Any:
            cell = plan.cells[fid]
            return wb[cell.sheet][cell.ref].value

        assert value("total.self") == 86
        assert value("grade.self") == "优秀"
        for item_id, (_, expected) in REF_EXPECTED.items():
            assert D(str(value(f"score.{item_id}.ref"))) == expected, item_id
