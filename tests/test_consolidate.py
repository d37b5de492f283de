"""Consolidation of a batch of returns: the DataFrames, the summary workbook, the CLI.

One collection is generated per module (randomized inputs, a few clean returns, broken files,
duplicate returns, formula-injection unit names, a roster with three units that never reported)
and consolidated once with two workers; the tests read what came out.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from defusedxml import ElementTree
from inputgen import random_inputs

from perfxl.batch.consolidate import (
    FLAG_MIN,
    FLAG_SHARE,
    Consolidation,
    _Progress,
    consolidate,
    find_returns,
)
from perfxl.check import check_file
from perfxl.cli import cli
from perfxl.engine.compute import compute
from perfxl.engine.layout import build_plan
from perfxl.form.meta import Unit
from perfxl.form.template import write_template
from perfxl.report.summary import histogram
from perfxl.spec import load_edition

D = Decimal
N_RANDOM = 36
N_CLEAN = 3
YEAR = 2020
TZ = timezone(timedelta(hours=8))
INJECTIONS = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+2", "@SUM(A1:A2)"]
SAMPLES = Path(__file__).resolve().parent.parent / "sample_workbooks"
SHEETS = ["汇总", "指标得分", "收支汇总", "问题清单", "规则统计", "未报送", "重复报送", "图表"]
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@dataclass
class Batch:
    root: Path
    output: Path
    con: Consolidation
    missing: list[str]
    dup_code: str
    dup_new: str  # file that must be used: newest generation time (although its mtime is older)
    dup_old: str
    dup_mtime_used: str  # same generation time: the newer mtime wins
    clean: list[Path]
    erroneous: Path
    broken: list[str]


def _values(plan: Any, rng: random.Random, unit: Unit, clean: bool) -> dict[str, Any]:
    profile = "plausible" if clean else rng.choice(["mixed", "mixed", "edgy", "sparse"])
    values = random_inputs(plan, rng, profile)
    if clean:  # self-scores exactly as the rules give them, each deduction explained: no 错误
        calc = compute(plan, values)
        for item in plan.edition.rubric.items:
            score = calc.outcomes[item.id].score
            values[f"score.{item.id}.self"] = score
            values[f"score.{item.id}.note"] = "按评分标准扣分" if score < item.max else None
    values.update({"unit.name": unit.name, "unit.code": unit.code or None, "unit.year": unit.year})
    return values


def _write(
    path: Path,
    plan: Any,
    rng: random.Random,
    unit: Unit,
    clean: bool = False,
    generated_at: datetime | None = None,
) -> Path:
    write_template(path, plan.edition, unit, _values(plan, rng, unit, clean), plan.options, generated_at)
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    root = tmp_path_factory.mktemp("报表 2020")
    ed = load_edition()
    plan = build_plan(ed)
    rng = random.Random(20200)
    units: list[Unit] = []
    sub = root / "第二批"
    sub.mkdir()
    for i in range(N_RANDOM):
        name = INJECTIONS[i] if i < len(INJECTIONS) else f"君山区测试单位{i:02d}"
        unit = Unit(name, f"4306{i:02d}", YEAR)
        units.append(unit)
        _write((sub if i % 3 == 0 else root) / f"{i:02d}_{unit.code}.xlsx", plan, rng, unit)
    clean = []
    for i in range(N_CLEAN):
        unit = Unit(f"君山区规范单位{i}", f"4307{i:02d}", YEAR)
        units.append(unit)
        clean.append(_write(root / f"clean_{i}.xlsx", plan, rng, unit, clean=True))
    # duplicates: the newer generation time wins although its file is older on disk
    dup = Unit("君山区重复报送局", "430800", YEAR)
    units.append(dup)
    new = _write(root / "重复_新.xlsx", plan, rng, dup, generated_at=datetime(2021, 4, 2, 9, 0, tzinfo=TZ))
    old = _write(root / "重复_旧.xlsx", plan, rng, dup, generated_at=datetime(2021, 3, 1, 9, 0, tzinfo=TZ))
    os.utime(new, (1_600_000_000, 1_600_000_000))
    os.utime(old, (1_700_000_000, 1_700_000_000))
    # without a code: the same name and year; same generation time, so the newer mtime wins
    named = Unit("君山区无编码单位", "", YEAR)
    units.append(named)
    stamp = datetime(2021, 3, 15, 9, 0, tzinfo=TZ)
    a = _write(root / "无编码_甲.xlsx", plan, rng, named, generated_at=stamp)
    b = _write(root / "无编码_乙.xlsx", plan, rng, named, generated_at=stamp)
    os.utime(a, (1_700_000_000, 1_700_000_000))
    os.utime(b, (1_600_000_000, 1_600_000_000))
    # broken files: each gets an "unusable" row
    (root / "文本改名.xlsx").write_text("这不是工作簿", encoding="utf-8")
    (root / "空文件.xlsx").write_bytes(b"")
    (root / "旧格式.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    (sub / "金山表格.et").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    # never picked up: an Office lock file, our own annotated copy, a CSV
    (root / "~$00_430600.xlsx").write_bytes(b"lock")
    shutil.copy(clean[0], root / "clean_0_审核.xlsx")
    (root / "说明.csv").write_text("x", encoding="utf-8")
    missing = ["君山区未报送一局", "君山区未报送二局", "君山区未报送三局"]
    roster = root.parent / f"{root.name}_名册.csv"
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["预算编码", "单位名称", "年度"])
    writer.writerows([u.code, u.name, YEAR] for u in units)
    writer.writerows([f"43099{k}", name, YEAR] for k, name in enumerate(missing))
    roster.write_text(text.getvalue(), encoding="utf-8-sig")
    output = root / "汇总.xlsx"  # inside the scanned folder: must not be read back as a return
    con = consolidate([root], output, roster=roster, workers=2)
    broken = ["文本改名.xlsx", "空文件.xlsx", "旧格式.xls", "第二批/金山表格.et"]
    return Batch(
        root,
        output,
        con,
        missing,
        dup.code,
        new.name,
        old.name,
        a.name,
        clean,
        root / "01_430601.xlsx",
        broken,
    )


_BOOKS: dict[Path, Any] = {}


def _book(path: Path) -> Any:
    """The summary workbook, loaded once (it is only read)."""
    if path not in _BOOKS:
        _BOOKS[path] = openpyxl.load_workbook(path)
    return _BOOKS[path]


def _rows(path: Path, sheet: str) -> list[list[Any]]:
    return [list(r) for r in _book(path)[sheet].iter_rows(values_only=True)]


def _sheet_xml(path: Path, sheet: str) -> Any:
    with zipfile.ZipFile(path) as z:
        return ElementTree.fromstring(z.read(f"xl/worksheets/sheet{SHEETS.index(sheet) + 1}.xml"))


def _cells(root: Any) -> dict[str, Any]:
    return {c.get("r"): c for c in root.iter(f"{{{NS['m']}}}c")}


# ------------------------------------------------------------------ finding files and the frames


def test_files_found_recursively_and_noise_skipped(batch: Batch) -> None:
    names = [name for _p, name in find_returns([batch.root], exclude=[batch.output])]
    assert "第二批/金山表格.et" in names and "旧格式.xls" in names and "第二批/00_430600.xlsx" in names
    assert not [n for n in names if n.startswith("~$") or n.endswith("_审核.xlsx") or n.endswith(".csv")]
    assert "汇总.xlsx" not in names
    assert len(names) == N_RANDOM + N_CLEAN + 4 + len(batch.broken)
    assert list(batch.con.returns["name"].sort_values()) == sorted(names)


def test_returns_units_and_reasons(batch: Batch) -> None:
    con = batch.con
    returns = con.returns
    assert len(returns) == N_RANDOM + N_CLEAN + 4 + len(batch.broken)
    assert len(con.units) == N_RANDOM + N_CLEAN + 2 and con.units["used"].all()
    unusable = returns[returns["status"] == "unusable"].set_index("name")
    assert sorted(unusable.index) == sorted(batch.broken)
    assert not unusable["used"].any()
    assert "为空" in unusable.loc["空文件.xlsx", "reason"]
    assert "另存为 .xlsx" in unusable.loc["旧格式.xls", "reason"]
    assert "WPS" in unusable.loc["第二批/金山表格.et", "reason"]
    assert "zip" in unusable.loc["文本改名.xlsx", "reason"]
    assert con.unusable == len(batch.broken) and con.exit_code == 2
    assert con.counts["错误"] == int(con.units["errors"].sum()) > 0
    assert len(con.finance) == len(con.units) and "income.total.total" in con.finance
    assert "sangong.total.total" in con.finance and "assets.total.total" in con.finance
    assert len(con.scores[con.scores["used"]]) == len(con.units) * len(load_edition().rubric.items)
    assert con.elapsed > 0
    line = con.summary_line()
    assert f"文件 {len(returns)} 个" in line and f"无法使用 {len(batch.broken)} 个" in line and "用时" in line


def test_facts_are_long_text_rows_with_inputs_and_recomputed_totals(batch: Batch, tmp_path: Path) -> None:
    from perfxl.batch.store import StoreError, save_consolidation

    assert len(batch.con.facts) == 0  # kept only for a store (or when asked): two million rows at 10,000
    with pytest.raises(StoreError, match="facts=True"):  # a store is not given a consolidation without them
        save_consolidation(batch.con, tmp_path / "s.sqlite")
    con = consolidate([batch.clean[0], batch.clean[1]], workers=1, facts=True)
    facts = con.facts
    assert list(facts.columns) == ["sha256", "field", "value", "numeric"]
    assert set(facts["sha256"]) == set(con.units["sha256"])
    one = con.units.iloc[0]
    own = facts[facts["sha256"] == one["sha256"]]
    mine = dict(zip(own["field"], own["value"], strict=True))
    numeric = dict(zip(own["field"], own["numeric"], strict=True))
    result = check_file(one["file"])
    assert mine["unit.name"] == result.facts["unit.name"] and not numeric["unit.name"]
    assert D(mine["income.total.total"]) == result.computed["income.total.total"]
    assert numeric["income.total.total"]
    assert all(isinstance(v, str) for v in mine.values())


def test_duplicates_newest_generation_time_then_mtime(batch: Batch) -> None:
    con = batch.con
    dups = con.duplicates
    assert len(dups) == 4 and sorted(Counter(dups["group"]).values()) == [2, 2]
    by_name = dups.set_index("name")
    assert by_name.loc[batch.dup_new, "used"] and not by_name.loc[batch.dup_old, "used"]
    assert "模板生成时间最新" in by_name.loc[batch.dup_new, "reason"]
    assert batch.dup_new in by_name.loc[batch.dup_old, "reason"]
    assert by_name.loc[batch.dup_mtime_used, "used"]
    assert "文件修改时间最新" in by_name.loc[batch.dup_mtime_used, "reason"]
    # excluded returns are listed but not counted
    returns = con.returns.set_index("name")
    assert not returns.loc[batch.dup_old, "used"]
    assert batch.dup_old not in set(con.units["name"])
    assert (con.finance["code"] == batch.dup_code).sum() == 1


def test_rules_flag_what_fails_in_most_units(batch: Batch) -> None:
    rules = batch.con.rules
    usable = int((batch.con.units["status"] != "unusable").sum())
    assert (rules["share"] == rules["units"] / usable).all()
    failing = rules["severity"].isin(["错误", "警告"])
    expect = (rules["share"] > FLAG_SHARE) & (rules["units"] >= FLAG_MIN) & failing
    assert (rules["flagged"] == expect).all()
    assert rules["flagged"].any(), "the generated batch has rules failing in most units"
    assert rules.loc[rules["flagged"], "note"].str.contains("可能是规则或模板本身有误").all()
    assert rules.loc[~rules["flagged"], "note"].isna().all()
    # every rule counts the units whose used return has at least one such finding
    f = batch.con.findings
    f = f[f["used"] & (f["rule"] == rules.iloc[0]["rule"])]
    assert f["sha256"].nunique() == rules.iloc[0]["units"]


def test_missing_units_from_the_roster(batch: Batch) -> None:
    assert sorted(batch.con.missing["unit"]) == sorted(batch.missing)


def test_workers_one_gives_the_same_frames(batch: Batch, tmp_path: Path) -> None:
    files = [batch.clean[0], batch.erroneous, batch.root / "空文件.xlsx"]
    one = consolidate(files, workers=1)
    two = consolidate(files, workers=2)
    for part in ("returns", "scores", "finance", "findings", "rules"):
        a = getattr(one, part).drop(columns=["checked_at"], errors="ignore")
        b = getattr(two, part).drop(columns=["checked_at"], errors="ignore")
        assert a.equals(b), part


# ------------------------------------------------------------------ the summary workbook


def test_sheets_and_row_counts(batch: Batch) -> None:
    con = batch.con
    wb = _book(batch.output)
    assert wb.sheetnames == SHEETS
    rows = {
        name: [r for r in wb[name].iter_rows(values_only=True) if any(v is not None for v in r)]
        for name in SHEETS
    }
    assert len(rows["汇总"]) == 1 + len(con.returns) + 1  # header, one row per file, totals
    usable = con.units[con.units["status"] != "unusable"]
    assert len(rows["指标得分"]) == 2 + len(usable) + 1  # two header rows, one row per unit, the key
    assert len(rows["指标得分"][1]) == 5 + 2 * len(load_edition().rubric.items) + 1
    assert len(rows["收支汇总"]) == 2 + len(con.units) + 1 + 1  # two header rows, units, totals, note
    assert len(rows["问题清单"]) == 1 + len(con.findings)
    assert len(rows["规则统计"]) == 1 + len(con.rules) + 1  # header, rules, explanation
    assert len(rows["未报送"]) == 1 + 3
    assert len(rows["重复报送"]) == 1 + 4
    for name in SHEETS[:-1]:
        ws = wb[name]
        assert ws.page_setup.orientation == ("portrait" if name == "未报送" else "landscape"), name
        if name == "指标得分":  # pages break between item pairs (a fit-to-width scale ignores breaks)
            breaks = [b.id for b in ws.col_breaks.brk]
            assert breaks and all(b > 5 and (b - 5) % 2 == 0 for b in breaks), breaks
            assert ws.page_setup.paperSize == 9 and ws.page_setup.scale and ws.print_title_cols == "$A:$B"
        else:
            assert ws.page_setup.paperSize == 9 and ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert ws.print_title_rows and "&P" in ws.oddFooter.center.text, name
    assert wb["汇总"].freeze_panes == "D2" and wb["汇总"].auto_filter.ref
    assert wb["问题清单"].auto_filter.ref


def test_summary_row_per_file_and_totals_row(batch: Batch) -> None:
    con = batch.con
    rows = _rows(batch.output, "汇总")
    head, body, total = rows[0], rows[1:-1], rows[-1]
    assert head[:6] == ["序号", "预算编码", "单位名称", "年度", "文件", "状态"]
    assert [r[4] for r in body] == list(con.returns["name"])
    assert {r[5] for r in body if r[4] in batch.broken} == {"无法使用"}
    assert [r[18] for r in body].count("是") == len(con.units)
    xml = _cells(_sheet_xml(batch.output, "汇总"))
    n = len(body) + 2
    used = con.units[con.units["status"] != "unusable"]
    for col, key in (("G", "reported_total"), ("H", "recomputed_total")):
        cell = xml[f"{col}{n}"]
        assert cell.find("m:f", NS).text.startswith("AVERAGEIFS(")
        values = [v for v in used[key] if v is not None]
        assert abs(D(cell.find("m:v", NS).text) - sum(values, D(0)) / len(values)) < D("1e-9")
    cell = xml[f"L{n}"]
    assert cell.find("m:f", NS).text.startswith("SUMIFS(")
    assert int(cell.find("m:v", NS).text) == con.counts["错误"]
    assert total[18].startswith("=COUNTIF(") and int(xml[f"S{n}"].find("m:v", NS).text) == len(con.units)


def test_finance_totals_equal_the_sum_of_units(batch: Batch) -> None:
    con = batch.con
    counted = con.finance[con.finance["in_totals"]]
    rows = _rows(batch.output, "收支汇总")
    assert rows[0][:3] == ["单位", None, None] and rows[1][:3] == ["预算编码", "单位名称", "年度"]
    assert [r[1] for r in rows[2 : 2 + len(counted)]] == list(counted["unit"])
    assert [r[2] for r in rows[2 : 2 + len(counted)]] == list(counted["year"])
    assert rows[2 + len(counted)][1].startswith("合计")
    total_row = 2 + len(counted) + 1  # 1-based row of the 合计 row
    xml = _cells(_sheet_xml(batch.output, "收支汇总"))
    keys = [c for c in con.finance.columns if "." in c]
    assert len(keys) == sum(len(t.columns) for t in load_edition().form.tables)
    for j, key in enumerate(keys):
        col = openpyxl.utils.get_column_letter(4 + j)
        cell = xml[f"{col}{total_row}"]
        assert cell.find("m:f", NS).text == f"SUM({col}3:{col}{total_row - 1})"
        cached = D(cell.find("m:v", NS).text)
        from_sheet = sum((D(xml[f"{col}{r}"].find("m:v", NS).text) for r in range(3, total_row)), D(0))
        from_frame = sum(counted[key], D(0))
        assert cached == from_sheet == from_frame, key
    # and they are the recomputed 汇总 rows of the returns, not what the units typed
    one = con.units.iloc[0]
    assert (
        con.finance.iloc[0]["expense.total.balance_cum"]
        == check_file(one["file"]).computed["expense.total.balance_cum"]
    )


def test_a_return_in_yuan_is_left_out_of_the_district_totals(tmp_path: Path) -> None:
    """A return whose amounts look like 元 is an 错误 for that return, is not summed into 收支汇总,
    and the sheet lists it below the 合计 with why (the 汇总 sheet and the summary line say it too)."""
    import mutate as m

    good = tmp_path / "报表" / "信访局.xlsx"
    good.parent.mkdir()
    shutil.copy(SAMPLES / "君山区信访局_2020.xlsx", good)
    step = m.scale_amounts(good, tmp_path / "step.xlsx", 10000)
    step = m.set_meta(step, tmp_path / "step2.xlsx", "unit", "岳阳市君山区财政局")
    m.set_meta(step, good.parent / "财政局.xlsx", "code", "430611-CZJ")
    out = tmp_path / "汇总.xlsx"
    con = consolidate([good.parent], out, workers=1)
    yuan = con.returns[con.returns["code"] == "430611-CZJ"].iloc[0]
    assert not yuan["in_totals"] and "疑似以元填报" in yuan["totals_note"]
    assert yuan["errors"] >= 1 and bool(con.returns[con.returns["code"] == "430611-XFJ"].iloc[0]["in_totals"])
    assert "未计入收支合计 1 个单位" in con.summary_line()
    rows = _rows(out, "收支汇总")
    total = next(r for r in rows if str(r[1]).startswith("合计"))
    assert total[1] == "合计（1 个单位）"
    income = rows[1].index("收入合计")
    cached = openpyxl.load_workbook(out, data_only=True)["收支汇总"]
    total_cell = cached.cell(rows.index(total) + 1, income + 1)
    assert D(str(total_cell.value)) == D("259.99")  # the 元 return's 2,599,900 is not in it
    cached.parent.close()
    below = rows[rows.index(total) + 1 :]
    assert any("未计入合计的单位（1 个）" in str(r[0]) for r in below)
    listed = next(r for r in below if r[1] == "岳阳市君山区财政局")
    assert "疑似以元填报" in listed[-1]
    sheet = _rows(out, "汇总")
    summary = next(r for r in sheet if r[1] == "430611-CZJ")
    assert "未计入收支汇总的合计" in summary[sheet[0].index("说明")]


def test_every_finding_is_listed(batch: Batch) -> None:
    con = batch.con
    rows = _rows(batch.output, "问题清单")[1:]
    assert len(rows) == len(con.findings) == int(con.returns[["errors", "warnings", "infos"]].sum().sum())
    # independently: check every file again and compare (file, rule, place) as multisets
    expected: Counter[tuple[str, str, str | None]] = Counter()
    for path, name in find_returns([batch.root], exclude=[batch.output]):
        result = check_file(path)
        for f in result.findings:
            expected[(name, f.rule, f"{f.sheet}!{f.cell}" if f.sheet and f.cell else f.sheet)] += 1
    listed = Counter((r[2], r[4], r[6]) for r in rows)
    assert listed == expected


def test_scores_sheet_is_one_row_per_unit_with_a_pair_per_item(batch: Batch) -> None:
    """指标得分: a unit per row, (自评, 复核) per rubric item; the pairs that disagree are red, and
    the row counts them — exactly the long ``scores`` frame's (item, self, recomputed, consistent)."""
    con = batch.con
    items = load_edition().rubric.items
    wb = _book(batch.output)
    ws = wb["指标得分"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][:4] == ["单位", None, "总分", None] and rows[0][-1] == "说明"
    assert rows[0][5] == f"{items[0].id} {items[0].name}（{items[0].max} 分）"
    assert rows[0][5 + 2 * (len(items) - 1)].startswith(items[-1].id)
    assert rows[1][:7] == ["预算编码", "单位名称", "自评", "复核", "不一致项数", "自评", "复核"]
    used = con.scores[con.scores["used"]]
    body = [r for r in rows[2:] if r[1] is not None]
    assert [r[1] for r in body] == list(dict.fromkeys(used["unit"]))  # same units, same order
    red = 0
    for n, (sha, one) in enumerate(used.groupby("sha256", sort=False)):
        row, excel_row = body[n], n + 3
        code = one["code"].iloc[0]
        assert row[0] == (None if pd.isna(code) else code) and row[4] == int((~one["consistent"]).sum())
        for j, rec in enumerate(one.itertuples()):
            own, ref = row[5 + 2 * j], row[6 + 2 * j]
            assert rec.item == items[j].id
            assert (D(str(own)) if own is not None else None) == rec.self and D(str(ref)) == rec.recomputed
            fill = ws.cell(excel_row, 6 + 2 * j).fill.fgColor.rgb
            assert (fill == "FFFFC7CE") == (not rec.consistent), (sha, rec.item)
            red += not rec.consistent
        if one["self"].isna().any():
            assert "未填自评得分" in row[-1]
    assert 0 < red < len(used)


def test_missing_and_duplicate_sheets(batch: Batch) -> None:
    missing = _rows(batch.output, "未报送")
    assert sorted(r[1] for r in missing[1:]) == sorted(batch.missing)
    dups = _rows(batch.output, "重复报送")[1:]
    used = [r for r in dups if r[7] == "采用"]
    assert sorted(r[4] for r in used) == sorted([batch.dup_new, batch.dup_mtime_used])
    new = next(r for r in dups if r[4] == batch.dup_new)
    assert "模板生成时间最新" in new[8]
    assert new[5] == datetime(2021, 4, 2, 9, 0, tzinfo=TZ).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    old = next(r for r in dups if r[4] == batch.dup_old)
    assert old[7] == "未采用" and batch.dup_new in old[8]


def test_rule_sheet_says_when_a_rule_is_suspect(batch: Batch) -> None:
    rows = _rows(batch.output, "规则统计")
    flagged = [r for r in rows[1:] if r[6]]
    assert len(flagged) == int(batch.con.rules["flagged"].sum()) > 0
    assert all("可能是规则或模板本身有误" in r[6] for r in flagged)


def test_native_charts(batch: Batch) -> None:
    with zipfile.ZipFile(batch.output) as z:
        charts = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        kinds = [re.findall(r"<c:(barChart|scatterChart|pieChart)>", z.read(n).decode()) for n in charts]
        drawing = z.read("xl/worksheets/_rels/sheet8.xml.rels").decode()
        media = [n for n in z.namelist() if n.startswith("xl/media/")]
    assert len(charts) == 4 and not media  # charts, not pictures
    assert sorted(k[0] for k in kinds) == ["barChart", "barChart", "barChart", "scatterChart"]
    assert "drawing" in drawing
    wb = _book(batch.output)
    assert len(wb["图表"]._charts) == 4
    # histogram data: bins of 5 points, counts computed in Python
    rows = _rows(batch.output, "图表")
    bins = [r for r in rows if isinstance(r[0], str) and re.fullmatch(r"\d+–\d+", r[0])]
    assert len(bins) == 20 and sum(r[1] for r in bins) == len(batch.con.units)


def test_histogram_bins() -> None:
    bins = dict(histogram([D(0), D("4.99"), D(5), D("89.5"), D(100), None]))
    assert bins["0–5"] == 2 and bins["5–10"] == 1 and bins["85–90"] == 1 and bins["95–100"] == 1


def test_text_from_returns_is_never_a_formula(batch: Batch) -> None:
    with zipfile.ZipFile(batch.output) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    for xml in sheets:
        for formula in re.findall(r"<f>(.*?)</f>", xml):
            assert "HYPERLINK" not in formula and "cmd" not in formula, formula
    wb = _book(batch.output)
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value in INJECTIONS:
                    found.setdefault(cell.value, []).append(cell)
    assert set(found) == set(INJECTIONS)
    for cells in found.values():
        assert all(c.data_type == "s" for c in cells)
        assert all(c.quotePrefix for c in cells)  # re-entering the cell in Excel keeps it text, too


def test_written_atomically_no_temp_files_left(batch: Batch) -> None:
    assert not [p for p in batch.output.parent.iterdir() if p.name.startswith(".perfxl-")]


# ------------------------------------------------------------------ progress, CLI


def test_progress_counter_on_one_line() -> None:
    out = io.StringIO()
    bar = _Progress(3, out)
    for _ in range(3):
        bar.step()
    bar.close()
    text = out.getvalue()
    assert text.startswith("\r审核 ") and "3/3（100%）" in text
    assert text.endswith("\n") and text.count("\n") == 1
    quiet = _Progress(3, None)
    quiet.step()
    quiet.close()


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_exit_codes(batch: Batch, tmp_path: Path) -> None:
    out = tmp_path / "汇总.xlsx"
    code, _, err = _run("consolidate", *map(str, batch.clean), "-o", str(out), "--workers", "1")
    assert code == 0 and out.exists() and "汇总完成" in err, err
    code, _, err = _run(
        "consolidate", str(batch.clean[0]), str(batch.erroneous), "-o", str(out), "--workers", "1"
    )
    assert code == 1, err
    empty = batch.root / "空文件.xlsx"
    code, stdout, err = _run(
        "consolidate", str(batch.clean[0]), str(empty), "-o", str(out), "--workers", "1", "--json", "-"
    )
    assert code == 2 and "无法使用 1 个" in err
    doc = json.loads(stdout)
    assert doc["files"] == 2 and doc["unusable"] == 1 and doc["output"] == str(out)
    assert any("为空" in (r["reason"] or "") for r in doc["returns"])
    code, _, err = _run("consolidate", str(tmp_path / "没有这个目录"), "-o", str(out))
    assert code == 2
    (tmp_path / "空目录").mkdir()
    code, _, err = _run("consolidate", str(tmp_path / "空目录"), "-o", str(out))
    assert code == 2 and "没有找到任何报表文件" in err


def test_cli_review_copies_and_store(batch: Batch, tmp_path: Path) -> None:
    out, reviews, db = tmp_path / "汇总.xlsx", tmp_path / "审核", tmp_path / "perfxl.sqlite"
    code, _, err = _run(
        "consolidate",
        *map(str, batch.clean[:2]),
        "-o",
        str(out),
        "--review-dir",
        str(reviews),
        "--db",
        str(db),
        "--workers",
        "2",
    )
    assert code == 0, err
    assert sorted(p.name for p in reviews.iterdir()) == ["clean_0_审核.xlsx", "clean_1_审核.xlsx"]
    assert db.exists() and "数据库" in err


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_same_totals(batch: Batch, tmp_path: Path) -> None:
    lo_recalc = pytest.importorskip("lo_recalc")
    if not lo_recalc.soffice_available():
        pytest.skip("soffice not installed")
    recalculated = lo_recalc.recalc_many([batch.output], tmp_path)[batch.output]
    mine = openpyxl.load_workbook(batch.output, data_only=True)
    theirs = openpyxl.load_workbook(recalculated, data_only=True)
    for sheet, last in (("汇总", len(batch.con.returns) + 2), ("收支汇总", len(batch.con.units) + 3)):
        a, b = mine[sheet], theirs[sheet]
        for cell in a[last]:
            if isinstance(cell.value, (int, float)):
                where = (sheet, cell.coordinate)
                assert b[cell.coordinate].value == pytest.approx(cell.value, abs=1e-6), where
