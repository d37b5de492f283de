"""The generated workbook read back with openpyxl, as Excel would show it."""

from __future__ import annotations

import warnings
from pathlib import Path

import openpyxl
import pytest

from perfxl.engine.layout import META_SHEET, build_plan
from perfxl.form.fields import dictionary
from perfxl.form.meta import Unit
from perfxl.form.prefill import PrefillError
from perfxl.form.template import input_message, write_template
from perfxl.spec import load_edition

SHEETS = [
    *("填报说明", "自查", "基本概况", "收支情况", "评分依据", "绩效自评", "评价人员", "评分表", "评价报告"),
    META_SHEET,
]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("tpl") / "信访局.xlsx"
    plan = write_template(
        path,
        unit=Unit("岳阳市君山区信访局", "430611", 2020),
        values={"income.org.carryover": "3.67", "income.org.fiscal": 256.32},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # openpyxl: unsupported extensions are dropped on read
        wb = openpyxl.load_workbook(path)
        values = openpyxl.load_workbook(path, data_only=True)
    yield plan, wb, values
    wb.close()
    values.close()


def test_sheets_in_order_and_metadata_hidden(made) -> None:
    plan, wb, _ = made
    assert wb.sheetnames == SHEETS
    meta = wb[META_SHEET]
    assert meta.sheet_state == "veryHidden"
    kv = {r[0].value: r[1].value for r in meta.iter_rows()}
    assert kv["edition"] == "hunan-2020" and kv["unit"] == "岳阳市君山区信访局" and kv["year"] == "2020"
    assert kv["fingerprint"] == plan.fingerprint


def test_official_labels_are_where_the_seed_has_them(made) -> None:
    _, wb, _ = made
    texts = {
        ws.title: {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
        for ws in wb.worksheets
    }
    for label in (
        "年度收入情况（万元）",
        "局机关及二级机构汇总",
        "1、局机关",
        "2、二级机构1",
        "3、二级机构2",
        "上年结转",
        "公共财政拨款",
        "纳入专户管理的非税收入拨款",
        "人员支出",
        "当年结余",
        "累计结余",
        "公务接待费",
        "在用固定资产",
    ):
        assert label in texts["收支情况"], label
    for label in (
        "一级指标",
        "二级指标",
        "三级指标",
        "评分标准",
        "分值",
        "自评得分",
        "参考得分",
        "扣分原因和其他说明",
        "资金结余",
        "预决算信息公开性和完善性",
        "社会公众或服务对象满意度",
    ):
        assert label in texts["评分表"], label
    assert "整体支出绩效定性目标及实施计划完成情况" in texts["绩效自评"]
    assert {"联系人", "联络电话", "人员编制", "实有人数", "职能职责概述"} <= texts["基本概况"]


def test_every_field_has_a_defined_name_at_its_cell(made) -> None:
    plan, wb, _ = made
    names = wb.defined_names
    for cell in plan.cells.values():
        dest = list(names[cell.name].destinations)
        assert dest == [(cell.sheet, f"${cell.ref[0]}${cell.ref[1:]}")] or dest == [
            (
                cell.sheet,
                "$"
                + "".join(ch for ch in cell.ref if ch.isalpha())
                + "$"
                + "".join(ch for ch in cell.ref if ch.isdigit()),
            )
        ], cell.id


def test_inputs_unlocked_and_validated_labels_locked(made) -> None:
    plan, wb, _ = made
    validated: dict[str, set[str]] = {}
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                validated.setdefault(ws.title, set()).add(rng.coord)
    for cell in plan.inputs():
        xl = wb[cell.sheet][cell.ref]
        assert xl.protection.locked is False, cell.id
        assert cell.ref in validated.get(cell.sheet, set()), cell.id
    for cell in plan.formulas():
        assert wb[cell.sheet][cell.ref].protection.locked is True, cell.id
    for ws in wb.worksheets:
        if ws.title != META_SHEET:
            assert ws.protection.sheet is True and not ws.protection.password, ws.title


def test_validation_types_match_field_types(made) -> None:
    plan, wb, _ = made
    kinds = {}
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                kinds[(ws.title, rng.coord)] = dv
    expect = {
        "amount": "decimal",
        "percent": "decimal",
        "score": "decimal",
        "integer": "whole",
        "count": "whole",
        "yesno": "list",
        "text": None,
        "longtext": None,
    }
    for cell in plan.inputs():
        dv = kinds[(cell.sheet, cell.ref)]
        assert dv.type == expect[cell.type], cell.id
        assert dv.prompt and len(dv.prompt) <= 255
    p3_inputs = [c for c in plan.inputs() if "P3" in c.feeds]
    assert p3_inputs == []  # P3 reads formula cells only (累计结余, 上年结转 汇总)
    prompt = input_message(plan.cells["basis.sangong_budget"], plan)[1]
    assert "P4" in prompt and "三公经费控制率≦100%" in prompt


def test_formulas_and_cached_values(made) -> None:
    plan, wb, values = made
    fs = wb["收支情况"]
    assert fs[plan.cells["income.org.total"].ref].value == "=C7+D7+E7+F7+G7"
    assert fs[plan.cells["income.total.total"].ref].value.startswith("=SUM(")
    vs = values["收支情况"]
    assert vs[plan.cells["income.org.total"].ref].value == pytest.approx(259.99)
    assert vs[plan.cells["income.total.carryover"].ref].value == pytest.approx(3.67)
    rubric = values["评分表"]
    assert rubric[plan.cells["score.I3.ref"].ref].value == 5  # zero denominator: full marks
    assert rubric[plan.cells["grade.self"].ref].value in (None, "")  # nothing self-scored yet


def test_print_setup(made) -> None:
    plan, wb, _ = made
    for sp in plan.sheets:
        ws = wb[sp.name]
        assert ws.page_setup.paperSize == 9, sp.name
        assert ws.page_setup.orientation == ("landscape" if sp.landscape else "portrait")
        # fit to one page wide (1 is the default, which xlsxwriter leaves implicit), any number tall
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert "&P" in ws.oddFooter.center.text and "岳阳市君山区信访局" in ws.oddFooter.left.text
    assert wb["评分表"].print_title_rows in ("2:2", "$2:$2")
    assert wb["收支情况"].row_breaks.count == 1


def test_field_dictionary_matches_the_workbook(made) -> None:
    plan, wb, _ = made
    doc = dictionary(build_plan(load_edition()))
    assert doc["fingerprint"] == plan.fingerprint
    ids = [f["id"] for f in doc["fields"]]
    assert len(ids) == len(set(ids)) == len(plan.inputs())
    for f in doc["fields"]:
        assert wb.defined_names[f["name"]].attr_text.endswith(f"${f['cell'][0]}${f['cell'][1:]}") or f["cell"]
        assert f["label"][0] == f["sheet"]
    row = next(f for f in doc["fields"] if f["id"] == "income.org.carryover")
    assert row == {
        "id": "income.org.carryover",
        "name": "px_income_org_carryover",
        "sheet": "收支情况",
        "cell": "C7",
        "type": "amount",
        "unit": "万元",
        "required": False,
        "label": ["收支情况", "年度收入情况（万元）", "1、局机关", "上年结转"],
        "feeds": [],
    }


def test_layout_options_change_rows_and_fingerprint(tmp_path: Path) -> None:
    ed = load_edition()
    base, more = build_plan(ed), build_plan(ed, {"sub_units": 4, "indicators": {"quality": 5}})
    assert "income.sub4.other" in more.cells and "income.sub3.other" not in base.cells
    assert "perf.quality.5.done" in more.cells
    assert base.fingerprint != more.fingerprint
    write_template(tmp_path / "x.xlsx", ed, options={"sub_units": 4})
    assert (tmp_path / "x.xlsx").stat().st_size > 10000


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(PrefillError):
        write_template(target, values={"no.such.field": 1})
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]
