"""The checked-in sample workbooks: reproducible from their data files, and checked as recorded.

Each ``sample_workbooks/<name>.yaml`` produces ``<name>.xlsx`` through the tool itself; each
``<name>.expected.json`` records what ``perfxl check`` must find in it. Regenerate after an
intended change with ``PERFXL_UPDATE_SAMPLES=1 python -m pytest tests/test_samples.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from perfxl.check import check_file
from perfxl.check.result import CheckResult
from perfxl.check.xlsxread import read_xlsx
from perfxl.form.prefill import load_prefill
from perfxl.form.template import write_template

SAMPLES = Path(__file__).resolve().parent.parent / "sample_workbooks"
DATA = sorted(SAMPLES.glob("*.yaml"))
UPDATE = os.environ.get("PERFXL_UPDATE_SAMPLES") == "1"


def _build(data: Path, out: Path) -> Path:
    pre = load_prefill(data)
    write_template(out, unit=pre.unit, values=pre.values, generated_at=pre.generated_at)
    return out


def compact(result: CheckResult) -> dict:
    """What a reviewer checks: totals, grades, each item's two scores, and where each finding is."""
    doc = result.to_json()
    return {
        "status": doc["status"],
        "reported_total": doc["reported_total"],
        "recomputed_total": doc["recomputed_total"],
        "reported_grade": doc["reported_grade"],
        "recomputed_grade": doc["recomputed_grade"],
        "counts": doc["counts"],
        "items": {i["id"]: [i["self"], i["recomputed"]] for i in doc["items"]},
        "findings": [[f["rule"], f["severity"], f["sheet"], f["cell"]] for f in doc["findings"]],
    }


@pytest.mark.parametrize("data", DATA, ids=[d.stem for d in DATA])
def test_sample_workbook_is_reproducible_from_its_data(data: Path, tmp_path: Path) -> None:
    checked_in = data.with_suffix(".xlsx")
    fresh = _build(data, tmp_path / checked_in.name)
    if UPDATE:
        _build(data, checked_in)
    old, new = read_xlsx(checked_in), read_xlsx(fresh)
    assert list(old.sheets) == list(new.sheets)
    for name, sheet in new.sheets.items():
        got = {ref: (c.value, c.formula) for ref, c in old.sheets[name].cells.items()}
        want = {ref: (c.value, c.formula) for ref, c in sheet.cells.items()}
        assert got == want, f"{checked_in.name}!{name} differs from what {data.name} produces"
    assert old.defined_names == new.defined_names
    assert old.custom_properties == new.custom_properties


@pytest.mark.parametrize("data", DATA, ids=[d.stem for d in DATA])
def test_sample_checks_as_recorded(data: Path) -> None:
    workbook, expected = data.with_suffix(".xlsx"), data.with_suffix(".expected.json")
    got = compact(check_file(workbook))
    if UPDATE:
        expected.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert got == json.loads(expected.read_text(encoding="utf-8"))


def test_seed_sample_shows_what_the_brief_promises() -> None:
    """DESIGN.md: 资金结余 3 vs 2, 98 vs 97, 优秀 both ways, zero-denominator policy stated, no false 错误."""
    result = check_file(SAMPLES / "君山区信访局_2020.xlsx")
    assert (result.reported_total, result.recomputed_total) == (98, 97)
    assert (result.reported_grade, result.recomputed_grade) == ("优秀", "优秀")
    errors = [f for f in result.findings if f.severity == "错误"]
    assert [(f.rule, f.sheet, f.cell) for f in errors] == [("score.P3", "评分表", "F8")]
    assert "自评 3 分，按规则应为 2 分" in errors[0].message and "3.29" in errors[0].message
    assert "3.67" in errors[0].message
    zero = [f for f in result.findings if f.rule == "score.I3.zero"]
    assert len(zero) == 1 and "项目支出为0" in zero[0].message
    assert not [f for f in result.findings if f.rule.startswith(("sum.", "identity."))]


def test_blank_template_has_no_arithmetic_findings() -> None:
    result = check_file(SAMPLES / "空白模板_hunan-2020.xlsx")
    wrong = [
        f for f in result.findings if f.rule.startswith(("sum.", "identity.", "formula.", "ref.", "metric."))
    ]
    assert wrong == []
