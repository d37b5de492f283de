"""Read the cell values of a .xls or .ods file with python-calamine: run as a separate process.

calamine lays each sheet out densely in memory (one slot per cell from the first used row and
column to the last), so a tiny file with one value far away asks for gigabytes, and a failed
allocation aborts the whole process. The parent (``calread.py``) therefore runs this script in its
own process under an address-space limit and a time limit, sends the file's bytes on stdin and
reads JSON from stdout:

    {"sheets": [{"name": ..., "state": "visible|hidden|veryHidden",
                 "cells": [[row, col, kind, value], ...]}]}      (row, col from 1)
    {"error": "password" | "unreadable" | "max_sheets" | "max_rows" | "max_cells" | "max_total_size",
     "where": sheet name or ""}

kinds: "n" number, "s" text, "b" boolean, "d" a date or time (value: Excel's serial number).
Only the standard library and python_calamine are imported (the script runs with ``python -I``).
"""

from __future__ import annotations

import datetime
import io
import json
import sys

EPOCH = datetime.datetime(1899, 12, 30)


def serial(value: object) -> float:
    """Excel's serial number of a date, time or duration."""
    if isinstance(value, datetime.datetime):
        delta = value.replace(tzinfo=None) - EPOCH
    elif isinstance(value, datetime.date):
        delta = datetime.datetime(value.year, value.month, value.day) - EPOCH
    elif isinstance(value, datetime.time):
        return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    elif isinstance(value, datetime.timedelta):
        delta = value
    else:
        raise TypeError(type(value).__name__)
    return delta.total_seconds() / 86400


def cell(value: object) -> tuple[str, object] | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "b", value
    if isinstance(value, (int, float)):
        return "n", float(value)
    if isinstance(value, str):
        return "s", value
    try:
        return "d", serial(value)
    except (TypeError, OverflowError, ValueError):
        return "s", str(value)


def read(data: bytes, limits: dict[str, int]) -> dict[str, object]:
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError:
        return {"error": "password", "where": ""}
    except Exception:  # calamine's own errors: not a workbook it can read
        return {"error": "unreadable", "where": ""}
    metas = wb.sheets_metadata
    if len(metas) > limits["max_sheets"]:
        return {"error": "max_sheets", "where": ""}
    sheets: list[dict[str, object]] = []
    cells_seen = 0
    size = 0
    for meta in metas:
        name = meta.name
        state = {"Hidden": "hidden", "VeryHidden": "veryHidden"}.get(
            str(meta.visible).rpartition(".")[2], "visible"
        )
        try:
            sheet = wb.get_sheet_by_name(name)
        except Exception:
            sheets.append({"name": name, "state": state, "cells": []})  # a chart sheet, or unreadable
            continue
        if sheet.height > limits["max_rows"]:
            return {"error": "max_rows", "where": name}
        cells_seen += sheet.height * sheet.width
        if cells_seen > limits["max_cells"]:
            return {"error": "max_cells", "where": name}
        row0, col0 = sheet.start if sheet.start else (0, 0)
        out: list[list[object]] = []
        for r, row in enumerate(sheet.iter_rows()):
            for c, value in enumerate(row):
                got = cell(value)
                if got is not None:
                    out.append([row0 + r + 1, col0 + c + 1, got[0], got[1]])
                    size += 16 + (len(got[1]) if isinstance(got[1], str) else 8)
            if size > limits["max_total_size"]:
                return {"error": "max_total_size", "where": name}
        sheets.append({"name": name, "state": state, "cells": out})
    return {"sheets": sheets}


def main() -> None:
    limits = json.loads(sys.argv[1])
    data = sys.stdin.buffer.read(limits["max_file_size"] + 1)
    result = read(data, limits)
    sys.stdout.write(json.dumps(result, ensure_ascii=True))


if __name__ == "__main__":
    main()
