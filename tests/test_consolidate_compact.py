"""The compact long frames of a consolidation (codes into distinct values, text as ``category``)
hold exactly what the workers sent: compared here with frames built the plain way, a dict per row,
from the very rows ``check_one`` gives for each file."""

from __future__ import annotations

import os
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from inputgen import write_random_return

from perfxl.batch.columns import Column, LongTable, WideTable
from perfxl.batch.consolidate import (
    FACT_COLUMNS,
    FINDING_COLUMNS,
    SCORE_COLUMNS,
    Consolidation,
    check_one,
    consolidate,
)
from perfxl.batch.store import open_store
from perfxl.form.meta import Unit
from perfxl.spec import load_edition


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("compact")
    for i, profile in enumerate(["mixed", "plausible", "edgy", "sparse", "mixed"]):
        unit = Unit(f"单位{i}", f"4306{i:02d}", 2020)
        write_random_return(root / f"{i:02d}.xlsx", unit, random.Random(100 + i), profile)
    os.link(root / "00.xlsx", root / "00_副本.xlsx")  # same content: scores and facts once
    (root / "空.xlsx").write_bytes(b"")  # unusable: one finding, no scores
    return root


@pytest.fixture(scope="module")
def con(folder: Path) -> Consolidation:
    return consolidate([folder], workers=1, facts=True)


def _plain(value: Any) -> Any:
    """A cell as compared: missing markers as None, everything else by type and text (so Decimal
    3.0 and 3, or True and 1, differ)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    return type(value).__name__, str(value)


def _table(df: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(_plain(v) for v in row) for row in df.astype(object).itertuples(index=False, name=None)]


def _reference(con: Consolidation, folder: Path) -> dict[str, pd.DataFrame]:
    """The long frames built plainly: for each file in the order of ``returns``, its rows as
    ``check_one`` sends them, a dict per row, the file's own columns joined on."""
    rows: dict[str, list[dict[str, Any]]] = {"scores": [], "findings": [], "facts": []}
    seen: set[str] = set()
    for ret in con.returns.astype(object).to_dict("records"):
        path = str(folder / ret["name"])
        _summary, items, _finance, findings, (fields, values, numeric) = check_one(path, ret["name"])
        ret = {k: (None if _plain(v) is None else v) for k, v in ret.items()}
        for f in findings:
            own = dict(zip(FINDING_COLUMNS[7:-1], f, strict=True))
            rows["findings"].append({**{k: ret[k] for k in FINDING_COLUMNS[:7]}, **own, "change": None})
        if ret["sha256"] in seen:
            continue
        if ret["sha256"]:
            seen.add(ret["sha256"])
        for it in items:
            own = dict(zip(SCORE_COLUMNS[4:], it, strict=True))
            rows["scores"].append({**{k: ret[k] for k in SCORE_COLUMNS[:4]}, **own})
        for fact in zip(fields, values, numeric, strict=True):
            rows["facts"].append(
                {"sha256": ret["sha256"] or "", **dict(zip(FACT_COLUMNS[1:], fact, strict=True))}
            )
    columns = {"scores": SCORE_COLUMNS, "findings": FINDING_COLUMNS, "facts": FACT_COLUMNS}
    frames = {name: pd.DataFrame(r, columns=columns[name]) for name, r in rows.items()}
    frames["findings"]["year"] = frames["findings"]["year"].astype("Int64")  # as a year, not a float
    return frames


def test_long_frames_hold_exactly_the_rows_the_workers_sent(con: Consolidation, folder: Path) -> None:
    reference = _reference(con, folder)
    for name, expected in reference.items():
        frame = getattr(con, name)
        assert list(frame.columns) == list(expected.columns), name
        assert len(expected) > 0, name
        assert _table(frame) == _table(expected), name
    # amounts and scores stay Decimal objects, text columns are text
    amounts = [v for v in con.findings["reported"] if v is not None]
    assert amounts and any(isinstance(v, Decimal) for v in amounts)
    assert all(isinstance(v, Decimal) for v in con.scores["max"])
    assert all(isinstance(v, str) for v in con.findings["rule"])
    assert all(isinstance(v, str) for v in con.facts["value"])


def test_finance_rows_hold_what_the_workers_sent(con: Consolidation, folder: Path) -> None:
    head = ["sha256", "code", "unit", "year", "in_totals", "totals_note"]
    rows = []
    for ret in con.units.astype(object).to_dict("records"):
        finance = check_one(str(folder / ret["name"]), ret["name"])[2]
        rows.append({**{k: ret[k] for k in head}, **finance})
    expected = pd.DataFrame(rows, columns=list(con.finance.columns))
    expected["year"] = expected["year"].astype("Int64")
    assert len(con.finance.columns) > len(head) and len(expected) > 1
    assert _table(con.finance) == _table(expected)


def test_a_wide_table_leaves_a_column_a_file_lacks_empty() -> None:
    table = WideTable()
    table.add(0, {"a": Decimal("1.0"), "b": Decimal("2")})
    table.add(1, {"c": Decimal("1.00")})
    table.add(2, {"b": Decimal("2"), "a": Decimal("1")})
    frame = table.frame([2, 3, 1, 0], {"file": ["x", "y", "z", "w"]})
    assert list(frame.columns) == ["file", "b", "a", "c"]
    got = [[None if v is None else str(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    assert got == [
        ["x", "2", "1", None],
        ["y", None, None, None],
        ["z", None, None, "1.00"],
        ["w", "2", "1.0", None],
    ]


def test_each_file_of_identical_content_has_its_own_findings_but_shares_scores(con: Consolidation) -> None:
    copies = con.findings[con.findings["sha256"] == con.returns.set_index("name").loc["00.xlsx", "sha256"]]
    assert set(copies["name"]) == {"00.xlsx", "00_副本.xlsx"}
    per_file = copies.groupby("name", observed=True).size()
    assert per_file["00.xlsx"] == per_file["00_副本.xlsx"]
    assert con.scores["sha256"].value_counts().max() == len(load_edition().rubric.items)


def test_values_of_other_types_or_forms_stay_apart() -> None:
    table = LongTable(["v"])
    table.add(0, [(Decimal("3"),), (Decimal("3.0"),), (True,), (1,), (None,), ("3",), (3.0,)])
    table.add(1, [(Decimal("3"),)])
    column = table.columns["v"]
    assert isinstance(column, Column) and len(column.values) == 6  # Decimal 3 is kept once
    frame = table.frame([1, 0], {}, ["v"])
    got = [(type(v).__name__, str(v)) if v is not None else None for v in frame["v"]]
    assert got == [
        ("Decimal", "3"),
        ("Decimal", "3"),
        ("Decimal", "3.0"),
        ("bool", "True"),
        ("int", "1"),
        None,
        ("str", "3"),
        ("float", "3.0"),
    ]


def test_a_store_takes_a_batch_of_more_files_than_a_small_category_holds(
    tmp_path: Path, folder: Path
) -> None:
    """130 files: the findings' file column has more categories than int8 codes hold; the counts
    each file's row takes back from the store must still be found."""
    many = tmp_path / "many"
    many.mkdir()
    for n in range(130):
        os.link(folder / "01.xlsx", many / f"{n:03d}.xlsx")
    con = consolidate([many], workers=1, db=str(tmp_path / "s.sqlite"))
    per_file = con.findings.groupby("name", observed=True).size()
    assert len(per_file) == 130 and per_file.nunique() == 1
    assert con.returns["errors"].tolist() == con.returns["errors"].iloc[:1].tolist() * 130
    with open_store(tmp_path / "s.sqlite") as store:
        assert len(store.findings(str(con.returns["sha256"].iloc[0]))) == per_file.iloc[0]
