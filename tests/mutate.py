"""Break a good perfxl return the ways a budget unit does by hand (a test helper).

Every function copies ``src`` to ``dst`` with one kind of damage and returns ``dst``; the input
file is never touched. Workbook edits go through openpyxl (load, edit, save), which behaves like
a hand edit in a tool that knows nothing about perfxl: it keeps defined names and formulas as
text and does **not** adjust them when rows are inserted or deleted, and it writes formulas
without cached results (as several non-Excel tools do). File-level damage (not a workbook at
all) is written byte by byte.

    from mutate import field_ref, set_field

    set_field(good, tmp_path / "x.xlsx", "income.org.total", 300)   # type over a formula
"""

from __future__ import annotations

import shutil
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook

from perfxl.engine.layout import META_SHEET, Plan, build_plan
from perfxl.spec import load_edition

__all__ = [
    "META_SHEET",
    "OLE_MAGIC",
    "copy",
    "delete_rows",
    "delete_sheet",
    "edit",
    "empty_file",
    "field_ref",
    "hide_meta_sheet",
    "insert_rows",
    "old_xls",
    "plan",
    "quiet",
    "remove_defined_names",
    "rename_sheet",
    "scale_amounts",
    "set_cells",
    "set_field",
    "set_fields",
    "set_meta",
    "strip_metadata",
    "text_as_xlsx",
    "zip_not_xlsx",
]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the header of an old .xls (OLE2 compound file)

PathLike = str | Path


@cache
def plan() -> Plan:
    """The plan of the default edition's default layout (the one the good return is drawn from)."""
    return build_plan(load_edition())


def field_ref(field_id: str) -> tuple[str, str]:
    """(sheet, A1 cell) of a field (input or formula) in the default plan."""
    cell = plan().cells[field_id]
    return cell.sheet, cell.ref


# --------------------------------------------------------------------------- openpyxl editing


@contextmanager
def quiet() -> Iterator[None]:
    """Silence the one openpyxl warning a hand-edited return may cause (nothing else)."""
    # openpyxl warns about extensions it cannot keep (e.g. data-validation lists stored as
    # x14 extensions by Excel/WPS); that is expected for hand-edited returns, not a test failure.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r".*[Dd]ata [Vv]alidation extension.*", category=UserWarning
        )
        yield


def edit(src: PathLike, dst: PathLike, change: Callable[[Workbook], Any]) -> Path:
    """Load ``src`` with openpyxl, apply ``change(wb)``, save as ``dst`` (always closing the book)."""
    dst = Path(dst)
    with quiet():
        wb = openpyxl.load_workbook(src)
    try:
        change(wb)
        wb.save(dst)
    finally:
        wb.close()
    return dst


def set_cells(src: PathLike, dst: PathLike, cells: dict[tuple[str, str], Any]) -> Path:
    """Type values into cells: ``{(sheet, "B7"): value}``; a str starting with "=" is a formula,
    None clears the cell."""

    def change(wb: Workbook) -> None:
        for (sheet, ref), value in cells.items():
            wb[sheet][ref].value = float(value) if isinstance(value, Decimal) else value

    return edit(src, dst, change)


def set_fields(src: PathLike, dst: PathLike, values: dict[str, Any]) -> Path:
    """Type values into fields by id (at their template position)."""
    return set_cells(src, dst, {field_ref(fid): v for fid, v in values.items()})


def set_field(src: PathLike, dst: PathLike, field_id: str, value: Any) -> Path:
    return set_fields(src, dst, {field_id: value})


def _move_merges(ws: Any, row: int, amount: int) -> None:
    """Shift merged ranges at/below ``row`` by ``amount`` rows (negative: rows deleted), as a
    spreadsheet program does; openpyxl leaves them in place, which would blank the moved cells."""
    coords = [r.coord for r in ws.merged_cells.ranges]
    for coord in coords:
        ws.merged_cells.remove(coord)
    last = row - amount - 1  # last deleted row (deletion only)
    for coord in coords:
        min_col, min_row, max_col, max_row = range_boundaries(coord)
        if amount > 0:
            if min_row >= row:
                min_row, max_row = min_row + amount, max_row + amount
            elif max_row >= row:
                max_row += amount
        elif min_row > last:
            min_row, max_row = min_row + amount, max_row + amount
        elif max_row >= row:  # overlaps the deleted rows: keep what is left of it
            gone = min(max_row, last) - max(min_row, row) + 1
            min_row, max_row = min(min_row, row), max_row - gone
            if max_row < min_row:
                continue
        if (min_row, min_col) != (max_row, max_col):
            ws.merge_cells(start_row=min_row, start_column=min_col, end_row=max_row, end_column=max_col)


def delete_rows(src: PathLike, dst: PathLike, sheet: str, row: int, amount: int = 1) -> Path:
    """Delete whole rows (1-based), leaving defined names and formulas unadjusted, like a hand edit
    in a tool that does not rewrite references (merged ranges do move with their rows)."""

    def change(wb: Workbook) -> None:
        ws = wb[sheet]
        ws.delete_rows(row, amount)
        _move_merges(ws, row, -amount)

    return edit(src, dst, change)


def insert_rows(src: PathLike, dst: PathLike, sheet: str, row: int, amount: int = 1) -> Path:
    """Insert empty rows before ``row`` (1-based); names and formulas are not adjusted."""

    def change(wb: Workbook) -> None:
        ws = wb[sheet]
        ws.insert_rows(row, amount)
        _move_merges(ws, row, amount)

    return edit(src, dst, change)


def rename_sheet(src: PathLike, dst: PathLike, old: str, new: str) -> Path:
    """Rename a sheet (defined names keep pointing at the old name, as after a careless rename)."""

    def change(wb: Workbook) -> None:
        wb[old].title = new

    return edit(src, dst, change)


def delete_sheet(src: PathLike, dst: PathLike, sheet: str) -> Path:
    return edit(src, dst, lambda wb: wb.remove(wb[sheet]))


def remove_defined_names(src: PathLike, dst: PathLike) -> Path:
    """Drop every workbook-level defined name (the px_* field names among them)."""

    def change(wb: Workbook) -> None:
        for name in list(wb.defined_names):
            del wb.defined_names[name]

    return edit(src, dst, change)


def _meta_rows(wb: Workbook) -> dict[str, int]:
    ws = wb[META_SHEET]
    return {str(r[0].value): r[0].row for r in ws.iter_rows(max_col=1) if r[0].value is not None}


def set_meta(
    src: PathLike, dst: PathLike, key: str, value: str, *, sheet: bool = True, properties: bool = True
) -> Path:
    """Change one key of the hidden metadata, in the _perfxl sheet and/or the custom properties."""

    def change(wb: Workbook) -> None:
        if sheet:
            wb[META_SHEET].cell(_meta_rows(wb)[key], 2).value = value
        if properties:
            props = wb.custom_doc_props
            name = f"perfxl.{key}"
            if name in props.names:
                props[name].value = value

    return edit(src, dst, change)


def strip_metadata(src: PathLike, dst: PathLike, *, sheet: bool = True, properties: bool = True) -> Path:
    """Delete the very-hidden _perfxl sheet and/or every perfxl.* custom document property."""

    def change(wb: Workbook) -> None:
        if sheet:
            wb.remove(wb[META_SHEET])
        if properties:
            props = wb.custom_doc_props
            for name in [n for n in props.names if n.startswith("perfxl.")]:
                del props[name]

    return edit(src, dst, change)


def hide_meta_sheet(src: PathLike, dst: PathLike, state: str = "hidden") -> Path:
    """Turn the very-hidden metadata sheet into a plainly hidden (or visible) one."""

    def change(wb: Workbook) -> None:
        wb[META_SHEET].sheet_state = state

    return edit(src, dst, change)


def scale_amounts(src: PathLike, dst: PathLike, factor: int | Decimal = 10000) -> Path:
    """Multiply every filled-in amount (万元) input by ``factor``: a unit that typed 元."""
    refs = [(c.sheet, c.ref) for c in plan().inputs() if c.type == "amount"]

    def change(wb: Workbook) -> None:
        for sheet, ref in refs:
            cell = wb[sheet][ref]
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.value = float(Decimal(repr(cell.value)) * Decimal(factor))

    return edit(src, dst, change)


# --------------------------------------------------------------------------- not a workbook at all


def text_as_xlsx(dst: PathLike) -> Path:
    """A text file someone renamed to .xlsx."""
    dst = Path(dst)
    dst.write_text("单位名称,岳阳市君山区信访局\n收入合计,259.99\n", encoding="utf-8")
    return dst


def empty_file(dst: PathLike) -> Path:
    dst = Path(dst)
    dst.write_bytes(b"")
    return dst


def zip_not_xlsx(dst: PathLike) -> Path:
    """A valid zip archive without any workbook part (e.g. attachments zipped and renamed)."""
    dst = Path(dst)
    with zipfile.ZipFile(dst, "w") as zf:
        zf.writestr("说明.txt", "自评材料见附件")
        zf.writestr("附件/自评报告.docx", b"PK not really")
    return dst


def old_xls(dst: PathLike) -> Path:
    """An old binary .xls (OLE2 header and junk) saved with an .xlsx extension."""
    dst = Path(dst)
    dst.write_bytes(OLE_MAGIC + bytes(range(256)) * 8)
    return dst


def copy(src: PathLike, dst: PathLike) -> Path:
    """An untouched copy (the control case)."""
    return Path(shutil.copyfile(src, dst))
