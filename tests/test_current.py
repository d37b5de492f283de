"""Which return of a unit and year is current: one order for the summary, the store and the prefill.

The end-to-end case is the tie the order exists for: two returns of one unit and year with the
same generation time and the same file mtime. The summary, the store (whatever order the files
are loaded in) and next year's prefill must all take the same file.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from perfxl.batch.consolidate import consolidate
from perfxl.batch.current import mtime_text, recency_key
from perfxl.batch.store import open_store, prefill_from_store, save_consolidation
from perfxl.form.meta import Unit
from perfxl.form.prefill import load_prefill
from perfxl.form.template import write_template
from perfxl.spec import load_edition

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_workbooks" / "君山区信访局_2020.yaml"
GEN = "2021-03-31T09:00:00+08:00"


def key(generated_at: str | None, mtime: str | None, file: str = "a.xlsx", sha: str = "1" * 64) -> object:
    return recency_key(generated_at, mtime, file, sha)


def test_order_newest_generation_then_mtime_then_file_name_then_sha256() -> None:
    # the current version sorts first
    assert key("2021-04-01T09:00:00+08:00", None) < key(GEN, "2030-01-01T00:00:00+08:00")
    assert key("2021-04-01T01:00:00Z", None) < key("2021-04-01T08:00:00+08:00", None)  # instants, not text
    assert key(GEN, None) < key(None, "2030-01-01T00:00:00+08:00")  # no generation time: oldest
    assert key("not a time", None) == key(None, None)
    assert key(GEN, "2021-04-02T10:00:00+08:00") < key(GEN, "2021-04-01T10:00:00+08:00", "a.xlsx", "0" * 64)
    assert key(GEN, "2021-04-01T10:00:00+08:00") < key(GEN, None)
    # mtime to the whole second, as the summary shows it and the store keeps it
    assert key(GEN, "2021-04-01T10:00:00.900+08:00", "b.xlsx") > key(GEN, "2021-04-01T10:00:00.100+08:00")
    # then the file's name, wherever it is kept (either separator), then the content
    assert key(GEN, None, "/z/报表/a.xlsx", "9" * 64) < key(GEN, None, "/a/b.xlsx", "0" * 64)
    assert key(GEN, None, r"C:\报表\a.xlsx", "9" * 64) < key(GEN, None, "b.xlsx", "0" * 64)
    assert key(GEN, None, "x/a.xlsx", "0" * 64) < key(GEN, None, "a.xlsx", "1" * 64)
    # identical copies (one batch only: the store keeps one row per sha256): the path decides
    assert key(GEN, None, "x/a.xlsx") > key(GEN, None, "a.xlsx")


def test_mtime_text_is_local_iso_to_the_second() -> None:
    text = mtime_text(1_600_000_000.75)
    assert text.startswith("20") and "." not in text and text[-6] in "+-"
    assert recency_key(None, text, "a", "") == recency_key(None, mtime_text(1_600_000_000.0), "a", "")


@pytest.mark.parametrize("load", ["one batch", "b first", "a first"])
def test_tie_on_generation_time_and_mtime_one_file_everywhere(tmp_path: Path, load: str) -> None:
    edition = load_edition()
    sample = load_prefill(SAMPLE)
    assert sample.unit is not None and sample.generated_at is not None
    folder = tmp_path / "报表"
    a, b = folder / "a.xlsx", folder / "b.xlsx"
    corrected = {**sample.values, "sangong.org.reception": "4.70"}  # 三公合计 4.70 instead of 4.79
    write_template(a, edition, sample.unit, corrected, None, sample.generated_at)
    write_template(b, edition, sample.unit, sample.values, None, sample.generated_at)
    for path in (a, b):
        os.utime(path, (1_600_000_000, 1_600_000_000))

    con = consolidate([folder], workers=1, facts=True)
    used = con.units
    assert list(used["name"]) == ["a.xlsx"]  # the summary adopts a.xlsx
    assert "取文件名排在最前的一份" in used["reason"].iloc[0]

    db = tmp_path / "perfxl.sqlite"
    if load == "one batch":
        save_consolidation(con, db)
    else:  # separate batches, in either order: the store decides by the same order
        first, second = (b, a) if load == "b first" else (a, b)
        save_consolidation(consolidate([first], workers=1, facts=True), db)
        save_consolidation(consolidate([second], workers=1, facts=True), db)
    with open_store(db) as st:
        current = st.current_returns(2020)
        assert [r["sha256"] for r in current] == list(used["sha256"])
        assert Path(current[0]["file"]).name == "a.xlsx"
        unit = Unit(sample.unit.name, sample.unit.code, 2021)
        assert prefill_from_store(st, edition, [unit], 2021) == {unit: {"basis.sangong_prev": Decimal("4.7")}}
