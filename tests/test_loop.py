"""The loop with units: fix or explain after review, rounds remembered in the store.

The first test is the issue's proof, end to end as a bureau and a unit would go through it: the
bureau generates a template, the unit fills it with two mistakes (one 错误, one 警告), the bureau
checks it into the store and mails back the review copy; the unit explains the 警告 in the copy's
单位说明 (with openpyxl) and fixes the 错误, and returns the review copy itself; the bureau checks
that copy into the store: exit 0, the 警告 is 已说明 with the explanation quoted, and the 错误 is
listed as 已修正 in round 2.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import mutate as m
import openpyxl
import pytest
import sqlalchemy as sa
import test_check_broken as broken
import yaml
from click.testing import CliRunner

from perfxl.batch.consolidate import consolidate
from perfxl.batch.store import EXACT_COLUMNS, SCHEMA_VERSION, Store, metadata, open_store, save_result
from perfxl.check import check_file
from perfxl.check.explanations import Explanation, explain, pair, read_review, review_key
from perfxl.cli import cli
from perfxl.engine.findings import ERROR, INFO, WARNING, Finding
from perfxl.report.review import write_review

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "sample_workbooks" / "君山区信访局_2020.yaml"
SAID = "本单位无固定电话，联系人使用手机，号码见“评价人员”表填报人联系电话"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def fill(path: Path, values: dict[str, Any]) -> None:
    """Type values into a workbook in place, as a unit does in its spreadsheet program."""
    m.set_fields(path, path, values)
    later(path)


def later(path: Path) -> None:
    """Date the file a minute on: a unit's answer is saved after the copy it answers (the current
    return of a unit is the most recently saved one, to the second)."""
    stamp = path.stat().st_mtime + 60
    os.utime(path, (stamp, stamp))


def explain_in_copy(copy: Path, rule: str, text: str) -> None:
    """Type ``text`` into the review copy's 单位说明 beside the finding of ``rule``."""
    with m.quiet():
        wb = openpyxl.load_workbook(copy)
    try:
        ws = wb["审核意见"]
        head = next(r for r in ws.iter_rows() if r[0].value == "序号")
        col = next(c.column for c in head if c.value == "单位说明")
        row = next(r for r in ws.iter_rows(min_row=head[0].row + 1) if r[3].value == rule)
        assert ws.cell(row[0].row, col).protection.locked is False  # the unit may type here
        ws.cell(row[0].row, col).value = text
        wb.save(copy)
    finally:
        wb.close()


# --------------------------------------------------------------------------- the proof


def test_fix_or_explain_end_to_end(tmp_path: Path) -> None:
    db = str(tmp_path / "perfxl.sqlite")
    book = tmp_path / "信访局.xlsx"
    code, _, err = run(
        "template", "-o", str(book), "--unit", "岳阳市君山区信访局", "--code", "430611-XFJ", "--year", "2020"
    )
    assert code == 0, err
    values = yaml.safe_load(SEED.read_text(encoding="utf-8"))["values"]
    values["unit.phone"] = None  # the 警告: a required cell left blank
    values["score.P3.self"] = 3  # the 错误: 资金结余 self-scored 3, the rule gives 2 (the seed's own)
    fill(book, values)

    # round 1: the bureau checks it; the review copy goes back to the unit
    code, out, err = run("check", str(book), "--db", db, "--json", "-")
    assert code == 1, err
    first = json.loads(out)
    assert first["round"] == 1 and first["fixed"] == []
    open_ = {(f["rule"], f["severity"]) for f in first["findings"] if not f["explained"]}
    assert {("score.P3", ERROR), ("input.blank", WARNING)} <= open_
    copy = tmp_path / "信访局_审核.xlsx"
    assert copy.exists() and "第 1 次报送" in err

    # the unit explains the 警告 in the copy and fixes the 错误 on its form sheet, then returns the copy
    explain_in_copy(copy, "input.blank", SAID)
    fill(copy, {"score.P3.self": 2, "score.P3.note": "有结余，未超过上年结转"})

    # round 2: the returned review copy is checked into the store (saved after the copy it answers:
    # now that a copy is written in milliseconds, the two could fall within one second)
    later(copy)
    code, out, err = run("check", str(copy), "--db", db, "--json", "-")
    assert code == 0, err
    second = json.loads(out)
    assert second["round"] == 2
    blank = next(f for f in second["findings"] if f["rule"] == "input.blank")
    assert (blank["severity"], blank["explained"], blank["explanation"]) == (WARNING, True, SAID)
    assert second["counts"][WARNING] == 0  # 已说明: not an open 警告
    assert [(f["rule"], f["severity"], f["cell"]) for f in second["fixed"]] == [("score.P3", ERROR, "F8")]
    assert second["fixed"][0]["reported"] == 3 and second["fixed"][0]["expected"] == 2
    assert "已说明 1" in err and "第 2 次报送，已修正 1 条" in err

    # the new review copy says so too, and keeps the explanation for the next round
    again = tmp_path / "信访局_审核_审核.xlsx"
    with m.quiet():
        wb = openpyxl.load_workbook(again)
    try:
        ws = wb["审核意见"]
        texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert "第 2 次报送" in texts and "警告·已说明" in texts and SAID in texts
        assert any(t.startswith("与第 1 次报送相比：已修正 1 条") for t in texts)
        assert "已修正（错误）" in texts
        assert wb.sheetnames.count("审核意见") == 1
        assert wb["评分表"]["F8"].comment is None  # the fixed cell's old mark is gone
    finally:
        wb.close()

    code, out, _ = run("history", "--db", db, "--unit", "430611-XFJ", "--year", "2020")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "岳阳市君山区信访局（430611-XFJ）"
    assert "第 1 次报送" in lines[1] and "错误 1  警告 1" in lines[1]
    assert "第 2 次报送" in lines[2] and "错误 0  警告 0" in lines[2] and "已说明 1  已修正 1" in lines[2]
    assert lines[2].endswith("（当前有效）")
    code, out, _ = run("history", "--db", db, "--unit", "岳阳市君山区信访局", "--json")
    assert [r["round"] for r in json.loads(out)] == [1, 2]


def test_history_of_an_unknown_unit_says_so(tmp_path: Path) -> None:
    db = tmp_path / "perfxl.sqlite"
    open_store(db).close()
    code, _, err = run("history", "--db", str(db), "--unit", "999")
    assert code == 1 and "没有单位“999”" in err
    code, _, err = run("history", "--db", str(tmp_path / "nope.sqlite"), "--unit", "999")
    assert code == 2 and "不存在" in err


# --------------------------------------------------------------------------- matching, without a store


def f(rule: str, cell: str | None, severity: str = WARNING, reported: Any = None) -> Finding:
    return Finding(rule, severity, f"{rule} at {cell}", "表", cell, reported=reported)


def e(
    rule: str, cell: str | None, text: str = "说明", reported: str | None = None, listed: int = 1
) -> Explanation:
    return Explanation(rule, "表", cell, reported, text, listed)


def test_an_explanation_explains_the_same_rule_and_cell() -> None:
    out, void = explain([f("input.blank", "B4"), f("input.blank", "B5")], [e("input.blank", "B5")])
    assert [(x.cell, x.explained, x.explanation) for x in out] == [("B4", False, None), ("B5", True, "说明")]
    assert void == []


def test_a_moved_cell_is_matched_by_rule_alone_only_when_unambiguous() -> None:
    out, _ = explain([f("plausible.scale", "B6")], [e("plausible.scale", "B5")])
    assert out[0].explained  # one before, one now: a row was inserted
    two_before = [e("plausible.yuan", "D7", listed=2)]  # the review listed two; only D7 was explained
    out, _ = explain([f("plausible.yuan", "D16")], two_before)
    assert not out[0].explained  # D7 was fixed; D16 was never explained
    out, _ = explain([f("plausible.yuan", "D8"), f("plausible.yuan", "D16")], [e("plausible.yuan", "D7")])
    assert not any(x.explained for x in out)


def test_a_changed_value_voids_the_explanation() -> None:
    said = e("plausible.scale", "B5", reported="48600")
    out, void = explain([f("plausible.scale", "B5", reported=Decimal("48600.00"))], [said])
    assert out[0].explained and void == []  # the same value, however written
    out, void = explain([f("plausible.scale", "B5", reported=Decimal("4860"))], [said])
    assert not out[0].explained and void == [said]


def test_an_error_keeps_its_explanation_and_still_counts() -> None:
    out, _ = explain(
        [f("score.P3", "F8", ERROR, Decimal(3))], [e("score.P3", "F8", "我们认为应得 3 分", "3")]
    )
    assert (out[0].explanation, out[0].explained) == ("我们认为应得 3 分", False)
    out, _ = explain([f("x.info", "A1", INFO)], [e("x.info", "A1")])
    assert out[0].explained


def test_pair_tells_fixed_and_new() -> None:
    old = [("a", "S", "A1"), ("b", "S", "B1"), ("c", "S", "C1")]
    new = [("b", "S", "B1"), ("c", "S", "C9"), ("d", "S", "D1")]
    assert pair(old, new) == {0: 1, 1: 2}  # b stayed, c moved; a was fixed, d is new


def test_reading_a_review_sheet_ignores_what_is_not_ours() -> None:
    key = review_key(f("input.blank", "D4"))
    cells = {
        "A5": "序号",
        "H5": "单位说明",
        "I5": "核对键",
        "I6": key,
        "H6": "  说明  ",
        "I7": "{bad",
        "H7": "x",
    }
    assert read_review(cells) == [Explanation("input.blank", "表", "D4", None, "说明", 1)]
    assert read_review({"A1": "审核意见"}) == []
    long = {"H1": "单位说明", "I1": "核对键", "I2": key, "H2": "很" * 5000}
    assert len(read_review(long)[0].text) == 2000


# --------------------------------------------------------------------------- rounds in the store


@pytest.fixture
def seed_book(tmp_path: Path) -> Path:
    return broken.write_good(tmp_path / "信访局.xlsx")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "sqlite":
        with open_store(tmp_path / "perfxl.sqlite") as store:
            yield store
        return
    url = str(request.getfixturevalue("postgres_url"))  # one server for the session: start and leave it empty
    engine = sa.create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()
    with open_store(url) as store:
        yield store
        metadata.drop_all(store.engine)


def test_rounds_carry_explanations_over_and_void_them_when_the_value_changes(
    seed_book: Path, tmp_path: Path, db: Store
) -> None:
    one = m.set_fields(seed_book, tmp_path / "r1.xlsx", {"basis.sangong_budget": 48600})  # plausible.scale
    first = check_file(one)
    assert save_result(db, first) == "inserted" and first.round == 1
    copy = write_review(one, first, tmp_path / "r1_审核.xlsx")
    explain_in_copy(copy, "plausible.scale", "控制数按元下达，原文如此")
    later(copy)
    second = check_file(copy)
    assert save_result(db, second) == "superseded" and second.round == 2
    assert [x.rule for x in second.findings if x.explained] == ["plausible.scale"]

    # round 3 is a corrected original, not the copy: the stored explanation carries over
    three = m.set_fields(seed_book, tmp_path / "r3.xlsx", {"basis.sangong_budget": 48600, "score.P3.self": 2})
    third = check_file(three)
    assert not any(x.explained for x in third.findings)
    save_result(db, third)
    assert third.round == 3
    scale = next(x for x in third.findings if x.rule == "plausible.scale")
    assert (scale.explained, scale.explanation) == (True, "控制数按元下达，原文如此")
    assert {x.rule for x in third.fixed} >= {"score.P3"}

    # round 4 changes the value: the old explanation no longer applies, and stays void
    four = m.set_fields(seed_book, tmp_path / "r4.xlsx", {"basis.sangong_budget": 48700})
    fourth = check_file(four)
    save_result(db, fourth)
    assert fourth.round == 4 and not any(x.explained for x in fourth.findings)
    five = m.set_fields(
        seed_book, tmp_path / "r5.xlsx", {"basis.sangong_budget": 48600, "unit.contact": "张"}
    )
    fifth = check_file(five)
    save_result(db, fifth)
    assert not any(x.explained for x in fifth.findings)

    # the same file again is the same round, with the same answers
    again = check_file(three)
    assert save_result(db, again) == "unchanged" and again.round == 3
    assert [x.explained for x in again.findings] == [x.explained for x in third.findings]

    rounds = db.history(code="430611-XFJ", year=2020)
    assert [r["round"] for r in rounds] == [1, 2, 3, 4, 5]
    assert [r["explained"] for r in rounds] == [0, 1, 1, 0, 0]
    assert rounds[1]["warnings"] == rounds[0]["warnings"] - 1  # the explained one is no longer open
    with db.engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT rule, cell, text, voided FROM explanations ORDER BY id")).all()
    assert [(r.rule, r.cell, bool(r.voided)) for r in kept] == [("plausible.scale", "B5", True)]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of an empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
        return
    url = str(request.getfixturevalue("postgres_url"))
    engine = sa.create_engine(url)
    try:
        metadata.drop_all(engine)
        yield url
        metadata.drop_all(engine)
    finally:
        engine.dispose()


def test_a_version_1_store_is_upgraded_in_place(empty_db: str, seed_book: Path) -> None:
    old = sa.MetaData()  # the tables as version 1 made them: no rounds, explanations nor exact numbers
    for table in metadata.sorted_tables:
        if table.name != "explanations":
            cols = [
                c._copy()
                for c in table.columns
                if c.name not in ("round", "explanation", "explained", "number")
            ]
            for c in cols:
                if (table.name, c.name) in EXACT_COLUMNS:
                    c.type = sa.String(40)
            sa.Table(table.name, old, *cols)
    engine = sa.create_engine(empty_db)
    old.create_all(engine)
    t = old.tables
    with engine.begin() as conn:
        conn.execute(sa.insert(t["perfxl_schema"]).values(version=1))
        unit = conn.execute(sa.insert(t["units"]).values(code="X", name="X", name_key="X", unit_key="c:X"))
        unit_id = unit.inserted_primary_key[0]
        ids = []
        for n in (1, 2):
            row = dict(
                unit_id=unit_id, year=2020, file=f"f{n}.xlsx", sha256=str(n) * 64, loaded_at=f"2021-01-0{n}"
            )
            ids.append(
                conn.execute(sa.insert(t["returns"]).values(**row, is_current=n == 2)).inserted_primary_key[0]
            )
        conn.execute(
            sa.insert(t["findings"]).values(
                return_id=ids[1], rule="input.blank", severity="警告", message="m"
            )
        )
    engine.dispose()
    with open_store(empty_db) as store:
        rows = store.history(code="X", year=2020)
        assert [(r["round"], r["warnings"], r["explained"]) for r in rows] == [(1, 0, 0), (2, 1, 0)]
        result = check_file(seed_book)
        result.code, result.unit = "X", "X"
        save_result(store, result)
        assert result.round == 3
    with open_store(empty_db) as store, store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM perfxl_schema")).scalars().all() == [SCHEMA_VERSION]


def test_consolidation_into_a_store_numbers_rounds_and_says_so(seed_book: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "perfxl.sqlite")
    folder, reviews = tmp_path / "报表", tmp_path / "审核"
    folder.mkdir()
    m.set_fields(seed_book, folder / "信访局.xlsx", {"unit.phone": None})
    first = consolidate([folder], tmp_path / "汇总1.xlsx", db=db, review_dir=reviews, workers=1)
    assert list(first.returns["round"]) == [1] and first.stored is not None and first.stored["inserted"] == 1
    copy = reviews / "信访局_审核.xlsx"
    explain_in_copy(copy, "input.blank", SAID)
    fill(copy, {"score.P3.self": 2, "score.P3.note": "有结余"})
    (folder / "信访局.xlsx").unlink()
    back = folder / "信访局_第2次.xlsx"  # a returned copy, renamed: consolidation skips *_审核.xlsx
    copy.rename(back)
    second = consolidate([folder], tmp_path / "汇总2.xlsx", db=db, review_dir=reviews, workers=2)
    row = second.returns.iloc[0]
    assert (row["round"], row["fixed"], row["warnings"], row["explained"]) == (2, 1, 0, 1)
    assert list(second.fixed["rule"]) == ["score.P3"]
    explained = second.findings[second.findings["explained"]]
    assert list(explained["explanation"]) == [SAID]
    with m.quiet():
        wb = openpyxl.load_workbook(tmp_path / "汇总2.xlsx")
    try:
        head = [c.value for c in wb["汇总"][1]]
        line = [c.value for c in wb["汇总"][2]]
        assert line[head.index("报送轮次")] == 2 and line[head.index("已说明")] == 1
        issues = [[c.value for c in r] for r in wb["问题清单"].iter_rows()]
        assert [r[10] for r in issues if r[5] == "警告·已说明"] == [SAID]
        assert [r[11] for r in issues if r[4] == "score.P3"] == ["已修正"]
    finally:
        wb.close()
    with m.quiet():
        review = openpyxl.load_workbook(reviews / "信访局_第2次_审核.xlsx")
    try:
        texts = {c.value for row in review["审核意见"].iter_rows() for c in row}
        assert "第 2 次报送" in texts and SAID in texts
    finally:
        review.close()
