"""Read a .xls or .ods return: its cell values, through python-calamine in a bounded helper process.

These formats carry no formulas or defined names that we read, so the workbook comes back
"values only": every cell is a value (dates as Excel serial numbers, flagged), the checker
locates the fields by their labels and says once that formula integrity could not be verified.
calamine runs in its own process (``calamine_child.py``) under ``max_values_memory`` of address
space and the file's remaining time budget: a file that would make it allocate gigabytes, or
crash, ends that process only, and the return gets a Chinese reason.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from perfxl.check.limits import Budget, LimitExceeded, Limits
from perfxl.check.package import XlsxReadError
from perfxl.check.sharedformula import col_name
from perfxl.check.xlsxread import Cell, Sheet, Workbook

CHILD = Path(__file__).with_name("calamine_child.py")
KIND_NAMES = {"xls": ".xls", "ods": ".ods"}
_RESAVE = "请用 Excel/WPS 打开后另存为 .xlsx 重新报送"
_PASSWORD = (
    "工作簿设置了打开密码（已加密），无法读取；请在 Excel/WPS 中取消密码"
    "（文件→信息→保护工作簿→用密码进行加密，清空密码）后另存为 .xlsx 重新报送"
)


def read_values(data: bytes, kind: str, limits: Limits, budget: Budget) -> Workbook:
    """The values of a .xls (``kind="xls"``) or .ods (``"ods"``) file's sheets."""
    shown = KIND_NAMES.get(kind, kind)
    settings = {
        k: getattr(limits, k)
        for k in ("max_sheets", "max_rows", "max_cells", "max_total_size", "max_file_size")
    }
    memory = limits.max_values_memory

    def confine() -> None:  # in the child, before python-calamine is loaded
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        seconds = max(1, int(budget.remaining()) + 1)
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))

    budget.check()
    try:
        done = subprocess.run(
            [sys.executable, "-I", str(CHILD), json.dumps(settings)],
            input=data,
            capture_output=True,
            timeout=max(1.0, budget.remaining()),
            preexec_fn=confine,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise LimitExceeded("max_seconds", limits.max_seconds) from None
    except OSError as e:
        raise XlsxReadError(f"无法启动读取 {shown} 文件的程序（{e.strerror}）") from None
    if done.returncode != 0 or not done.stdout:
        if b"MemoryError" in done.stderr or b"memory allocation" in done.stderr or done.returncode < 0:
            raise LimitExceeded("max_values_memory", memory, shown)
        raise XlsxReadError(f"不是有效的 {shown} 文件：读取时出错，文件可能已损坏；{_RESAVE}")
    try:
        answer: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        raise XlsxReadError(f"不是有效的 {shown} 文件：读取时出错，文件可能已损坏；{_RESAVE}") from None
    error = answer.get("error")
    if error == "password":
        raise XlsxReadError(_PASSWORD)
    if error == "unreadable":
        raise XlsxReadError(f"不是有效的 {shown} 文件（已损坏，或是其他格式改了扩展名）；{_RESAVE}")
    if error:
        raise LimitExceeded(error, getattr(limits, error), answer.get("where") or "")
    return _workbook(answer["sheets"], kind)


def _workbook(sheets: list[dict[str, Any]], kind: str) -> Workbook:
    out: dict[str, Sheet] = {}
    for sheet in sheets:
        cells: dict[str, Cell] = {}
        for row, col, what, value in sheet["cells"]:
            raw = None if what == "s" else ("1" if value is True else "0" if value is False else repr(value))
            cells[f"{col_name(col)}{row}"] = Cell(value, None, raw, what == "d")
        out[sheet["name"]] = Sheet(sheet["name"], sheet["state"], cells, ())
    return Workbook(out, {}, {}, values_only=True, kind=kind)
