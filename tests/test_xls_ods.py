"""A .xls and an .ods return, made by LibreOffice from the seed sample, check like the .xlsx:
same scores, same findings, apart from the one note that formulas could not be verified."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lo_recalc import convert_many, soffice_available

from perfxl import api
from perfxl.check import check_file
from perfxl.engine.findings import INFO

SEED = Path(__file__).resolve().parents[1] / "sample_workbooks" / "君山区信访局_2020.xlsx"

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(not soffice_available(), reason="soffice (LibreOffice) not on PATH"),
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    src = tmp_path_factory.mktemp("src") / SEED.name
    shutil.copyfile(SEED, src)
    out = tmp_path_factory.mktemp("lo")
    xls = convert_many([src], out, "xls:MS Excel 97", ".xls")[src]
    ods = convert_many([src], out, "ods:calc8", ".ods")[src]
    return {"xls": xls, "ods": ods}


def _flat(result: object) -> list[tuple[str, str, str | None, str | None]]:
    return [(f.rule, f.severity, f.sheet, f.cell) for f in result.findings]  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["xls", "ods"])
def test_checks_like_the_xlsx(kind: str, converted: dict[str, Path]) -> None:
    original = check_file(SEED)
    result = check_file(converted[kind])
    assert result.status == original.status and result.exit_code == original.exit_code
    assert result.recomputed_total == original.recomputed_total
    assert result.reported_total == original.reported_total
    assert [(i.id, i.self, i.recomputed) for i in result.items] == [
        (i.id, i.self, i.recomputed) for i in original.items
    ]
    notes = [f for f in result.findings if f.rule == "file.values_only"]
    assert len(notes) == 1 and notes[0].severity == INFO and f".{kind}" in notes[0].message
    assert sorted(t for t in _flat(result) if t[0] != "file.values_only") == sorted(_flat(original))
    assert result.facts == original.facts


@pytest.mark.parametrize("kind", ["xls", "ods"])
def test_review_copy_is_xlsx_beside_it(kind: str, converted: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / converted[kind].name
    shutil.copyfile(converted[kind], src)
    before = src.read_bytes()
    (done,) = api.check_files([src])
    assert done.review == tmp_path / f"{src.stem}_审核.xlsx" and done.review.is_file()
    assert src.read_bytes() == before
    from openpyxl import load_workbook

    wb = load_workbook(done.review)
    assert wb.sheetnames[0] == "审核意见" and "评分表" in wb.sheetnames
