"""The resource limits a return is read within, and what each one says when a file exceeds it.

Every returned workbook is untrusted: it may be broken, or built to exhaust memory or time. Each
limit here is a named setting with a default far above any real return (the form itself is about
40 KB, 8 sheets, 3,000 cells, 700 shared strings) and its own Chinese message, which says what is
too big, the limit, and what the unit should do. The README's section “不可信文件” lists them.

The sizes are *measured while reading*, never taken from what the file declares: a zip member is
inflated in chunks and counted as it comes out (see ``package.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

MiB = 1024 * 1024

# What the unit should do, for a file that is too big or too complex to be a real return.
_RESAVE = "请报送单位用 Excel 或 WPS 打开后“另存为”新的 .xlsx 文件，删除插入的大图片和多余内容后重新报送"


@dataclass(frozen=True)
class Limits:
    """Resource limits for reading one file (and writing its review copy).

    Attributes (defaults in brackets):

    max_file_size       [30 MiB]  size of the file on disk.
    max_parts           [2,000]   members of the zip archive (the form has 18); also bounds the
                                  archive's central directory (512 bytes per member).
    max_part_size       [8 MiB]   one member, uncompressed, counted while inflating.
    max_total_size      [32 MiB]  all members read, uncompressed, counted while inflating (and the
                                  text expanded from shared formulas); the review copy counts every
                                  XML member it passes on to openpyxl.
    max_ratio           [100]     uncompressed : compressed size of one member, once it has given
                                  more than ``ratio_grace`` bytes (XML compresses 5–20 : 1; a
                                  "zip bomb" 1,000 : 1).
    ratio_grace         [1 MiB]   output a member may produce before its ratio is judged.
    max_shared_strings  [100,000] entries in the shared-string table.
    max_sheets          [64]      sheets in the workbook (the form has 8).
    max_rows            [100,000] row records on one sheet.
    max_cells           [200,000] cell records over all sheets.
    max_seconds         [30]      time to read one file and write its review copy.
    max_values_memory   [256 MiB] address space of the helper process that reads .xls/.ods
                                  values (python-calamine lays a sheet out densely in memory).
    """

    max_file_size: int = 30 * MiB
    max_parts: int = 2_000
    max_part_size: int = 8 * MiB
    max_total_size: int = 32 * MiB
    max_ratio: int = 100
    ratio_grace: int = 1 * MiB
    max_shared_strings: int = 100_000
    max_sheets: int = 64
    max_rows: int = 100_000
    max_cells: int = 200_000
    max_seconds: float = 30.0
    max_values_memory: int = 256 * MiB


LIMITS = Limits()

# One message per limit: what is too big ({where}: the part or sheet), the limit, what to do.
MESSAGES = {
    "max_file_size": "文件大小为 {actual}，超过上限 {limit}（max_file_size）；自评表通常不到 1 MB，"
    + _RESAVE,
    "max_parts": "压缩包内有 {actual} 个部件，超过上限 {limit}（max_parts），文件异常；" + _RESAVE,
    "max_part_size": "部件 {where} 解压后超过 {limit}（max_part_size），文件异常庞大或被恶意构造；" + _RESAVE,
    "max_total_size": "文件解压后的内容超过 {limit}（max_total_size，读到部件 {where} 时），"
    "文件异常庞大或被恶意构造；" + _RESAVE,
    "max_ratio": "部件 {where} 的压缩比超过 {limit} : 1（max_ratio），是异常的“压缩炸弹”，"
    "已停止读取；" + _RESAVE,
    "max_shared_strings": "共享字符串表有超过 {limit} 条文字（max_shared_strings），文件异常庞大；" + _RESAVE,
    "max_sheets": "工作簿有超过 {limit} 张工作表（max_sheets），文件异常；请删除多余的工作表后重新报送",
    "max_rows": "工作表“{where}”超过 {limit} 行（max_rows），文件异常庞大；"
    "请删除该表中多余的行（或整张多余的工作表）后重新报送",
    "max_cells": "工作簿的单元格超过 {limit} 个（max_cells，读到工作表“{where}”时），文件异常庞大；"
    "请删除多余的行、列或工作表后重新报送",
    "max_seconds": "读取用时超过 {limit}（max_seconds），文件异常复杂或被恶意构造，已停止读取；" + _RESAVE,
    "max_values_memory": "读取 {where} 格式的数值需要超过 {limit} 内存（max_values_memory），"
    "文件异常（可能在很远的行列有内容）；请用 Excel/WPS 打开，删除多余的行列后另存为 .xlsx 重新报送",
}


class LimitExceeded(Exception):
    """A file exceeds one of the limits; ``limit`` is the setting's name, the message is Chinese."""

    def __init__(self, limit: str, value: float, where: str = "", actual: float | None = None) -> None:
        self.limit = limit
        text = MESSAGES[limit].format(
            limit=_amount(limit, value), where=where, actual=_amount(limit, actual) if actual else ""
        )
        super().__init__(text)


def _amount(limit: str, value: float | None) -> str:
    if value is None:
        return ""
    if limit == "max_seconds":
        return f"{value:g} 秒"
    if limit.endswith(("_size", "_memory")):
        if value >= MiB:
            return f"{value / MiB:.1f} MB".replace(".0 MB", " MB")
        return f"{value / 1024:.0f} KB" if value >= 1024 else f"{value:.0f} 字节"
    return f"{value:,.0f}".replace(",", "")


class Budget:
    """The time budget of one file: ``check()`` raises once ``max_seconds`` have passed.

    Reading calls it once per chunk inflated and per row parsed, so a crafted file cannot keep
    the reader busy beyond the budget by more than one chunk's work.
    """

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.max_seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded("max_seconds", self.limits.max_seconds)

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())
