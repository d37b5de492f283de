"""Read what users give us to prefill templates: a roster of units and values keyed by field id.

Finance staff keep rosters in Excel: a roster may be an .xlsx workbook (its first sheet) or a CSV.
CSV files from Excel on Chinese Windows are often GBK; both UTF-8 (with or without BOM) and
GBK are accepted. Every mistake names the file, the row and the column.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from perfxl.engine.compute import Scalar
from perfxl.engine.layout import Plan
from perfxl.engine.numbers import parse_number, parse_yesno
from perfxl.engine.text import squash_spaces
from perfxl.form.meta import Unit
from perfxl.spec import NUMBER_UNITS

# The heading row of a --values CSV, as people write it (spaces ignored): “字段 id,值”, “field,value”.
VALUES_HEADINGS = frozenset({"field", "id", "fieldid", "field_id", "字段", "字段id", "字段编号"})
# Roster columns: English key or the Chinese heading a bureau would type.
ROSTER_COLUMNS = {
    "code": ("code", "预算编码", "单位编码", "编码"),
    "name": ("name", "单位名称", "单位", "名称"),
    "year": ("year", "年度"),
    "sub_units": ("sub_units", "二级机构数"),
    "qualitative": ("qualitative", "定性目标数"),
    "reviewers": ("reviewers", "评价人员数"),
}
INDICATOR_HEADINGS = {
    "质量指标数": "quality",
    "数量指标数": "quantity",
    "时效指标数": "timeliness",
    "成本指标数": "cost",
}


class PrefillError(ValueError):
    """A prefill or roster file cannot be used; the message says where and why."""


@dataclass
class RosterRow:
    unit: Unit
    options: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    line: int = 0  # the row of the roster (its heading is row 1)


def coerce(plan: Plan, fid: str, raw: Any, where: str = "") -> Scalar:
    """A prefill value as the form stores it; PrefillError for unknown fields or bad values."""
    prefix = f"{where}：" if where else ""
    cell = plan.cells.get(fid)
    if cell is None:
        raise PrefillError(f"{prefix}表上没有字段 “{fid}”（可用 perfxl fields 查看字段清单）")
    if not cell.is_input:
        raise PrefillError(f"{prefix}“{fid}”（{cell.label}）由公式计算，不能预填")
    if cell.type == "yesno":
        parsed = parse_yesno(raw)
    elif cell.type in NUMBER_UNITS:
        parsed = parse_number(raw, NUMBER_UNITS[cell.type])
    else:
        return str(raw)
    if parsed.error:
        raise PrefillError(f"{prefix}“{fid}”（{cell.label}）：{parsed.error}")
    return parsed.value


def converted(plan: Plan, values: Mapping[str, Any]) -> list[str]:
    """One line for every amount given in 元 (“2563200元”): it is written in 万元, and the user told so."""
    out = []
    for fid, raw in values.items():
        cell = plan.cells.get(fid)
        if cell is not None and cell.type == "amount" and isinstance(raw, str):
            parsed = parse_number(raw, NUMBER_UNITS[cell.type])
            if parsed.from_yuan:
                out.append(f"{fid}（{cell.label}）：{parsed.note}")
    return out


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PrefillError(f"{path}：无法读取（{e.strerror}）") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PrefillError(f"{path}：无法识别文字编码，请另存为 UTF-8 的 CSV")


@dataclass
class Prefill:
    """Values by field id, and optionally the unit and a fixed generation time (reproducible files)."""

    values: dict[str, Any]
    unit: Unit | None = None
    generated_at: datetime | None = None


def load_prefill(path: Path) -> Prefill:
    """A prefill file: ``values`` (or a plain mapping), optional ``unit`` and ``generated_at``."""
    values = load_values(path)
    if path.suffix.lower() == ".csv":
        return Prefill(values)
    data = yaml.safe_load(read_text(path))
    unit, stamp = None, None
    if isinstance(data.get("unit"), Mapping):
        raw = data["unit"]
        year = raw.get("year")
        unit = Unit(
            str(raw.get("name", "")),
            str(raw.get("code", "")),
            _int(str(year), f"{path}：unit.year") if year is not None else None,
        )
    if data.get("generated_at") is not None:
        try:
            stamp = datetime.fromisoformat(str(data["generated_at"]))
        except ValueError:
            raise PrefillError(f"{path}：generated_at 应为 ISO 时间，如 2021-03-31T09:00:00+08:00") from None
    return Prefill(values, unit, stamp)


def load_values(path: Path) -> dict[str, Any]:
    """{field id: value} from .json, .yaml/.yml or a two-column .csv (field id, value; an optional
    heading row such as the README's “字段 id,值”)."""
    text = read_text(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
        if rows and squash_spaces(rows[0][0]).lower() in VALUES_HEADINGS:
            rows = rows[1:]
        out: dict[str, Any] = {}
        for n, row in enumerate(rows, start=1):
            if len(row) < 2:
                raise PrefillError(f"{path} 第 {n} 行：应为“字段 id,值”两列")
            out[row[0].strip()] = row[1]
        return out
    try:
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise PrefillError(f"{path}：格式错误（{e}）") from None
    if isinstance(data, Mapping) and isinstance(data.get("values"), Mapping):
        data = data["values"]
    if not isinstance(data, Mapping):
        raise PrefillError(f"{path}：应为“字段 id: 值”的键值表")
    return {str(k): v for k, v in data.items()}


def load_roster(path: Path, field_ids: set[str]) -> list[RosterRow]:
    """Units from a roster (.xlsx or CSV): code and name, optional year and row counts, optional field ids."""
    table = _roster_table(path)
    headings = [h.strip() for h in (table[0] if table else [])]
    lookup = {alias: key for key, aliases in ROSTER_COLUMNS.items() for alias in aliases}
    if not any(lookup.get(h) == "name" for h in headings):
        raise PrefillError(f"{path}：缺少“单位名称”（name）列；现有列：{', '.join(h for h in headings if h)}")
    rows = []
    for n, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line (Excel keeps formatted empty rows)
        if len(cells) > len(headings) and any(c.strip() for c in cells[len(headings) :]):
            raise PrefillError(f"{path} 第 {n} 行：列数多于表头")
        row = RosterRow(Unit(), line=n)
        unit: dict[str, Any] = {"name": "", "code": "", "year": None}
        for heading, value in zip(headings, cells, strict=False):
            value = value.strip()
            if not value or not heading:
                continue
            key = lookup.get(heading)
            where = f"{path} 第 {n} 行“{heading}”列"
            if key in ("name", "code"):
                unit[key] = value
            elif key == "year":
                unit["year"] = _int(value, where)
            elif key is not None:
                row.options[key] = _int(value, where)
            elif heading in INDICATOR_HEADINGS or heading.startswith("indicators."):
                cat = INDICATOR_HEADINGS.get(heading, heading.removeprefix("indicators."))
                row.options.setdefault("indicators", {})[cat] = _int(value, where)
            elif heading in field_ids:
                row.values[heading] = value
            else:
                raise PrefillError(f"{path}：无法识别的列“{heading}”（既不是名册列，也不是字段 id）")
        if not unit["name"]:
            raise PrefillError(f"{path} 第 {n} 行：单位名称为空")
        row.unit = Unit(unit["name"], unit["code"], unit["year"])
        rows.append(row)
    if not rows:
        raise PrefillError(f"{path}：名册中没有单位")
    return rows


MAX_ROSTER_ROWS = 20_000  # far more units than any county has; a bigger sheet is not a roster


def _roster_table(path: Path) -> list[list[str]]:
    """The roster's rows as text: the first sheet of an .xlsx workbook, or a CSV file."""
    suffix = path.suffix.lower()
    if suffix in (".xls", ".et"):
        raise PrefillError(f"{path}：这是旧版 {suffix} 文件，请在 Excel/WPS 中另存为 .xlsx（或 CSV）后再用")
    if suffix not in (".xlsx", ".xlsm"):
        return [list(r) for r in csv.reader(io.StringIO(read_text(path)))]
    from openpyxl import load_workbook  # only for .xlsx rosters: keeps `perfxl check` quick to start

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise PrefillError(
            f"{path}：无法作为 .xlsx 工作簿读取（{type(e).__name__}），请确认文件完好"
        ) from None
    try:
        table = []
        for n, row in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
            if n > MAX_ROSTER_ROWS:
                raise PrefillError(f"{path}：名册超过 {MAX_ROSTER_ROWS} 行，请检查是否选错了文件")
            table.append([_cell_text(v) for v in row])
        return table
    finally:
        wb.close()


def _cell_text(value: Any) -> str:
    """A roster cell as the text a CSV would hold: 430611 not 430611.0, 2021 not 2021.0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _int(value: str, where: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise PrefillError(f"{where}：应为整数，实际为“{value}”") from None
