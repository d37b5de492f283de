"""How reports name things: the annotated copy's and the Word report's file names, status words, times."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

REVIEW_SUFFIX = "_审核"
REPORT_SUFFIX = "_绩效评价报告"
STATUS_TEXT = {"ok": "通过", "errors": "有错误", "unusable": "无法使用"}


# Longest file name most file systems take (ext4, NTFS in UTF-16 units; UTF-8 bytes are the stricter).
NAME_MAX = 255


def review_path(source: Path, out_dir: str | os.PathLike[str] | None = None, n: int = 1) -> Path:
    """The annotated copy's name: ``<stem>_审核.xlsx`` (``<stem>_<n>_审核.xlsx`` for the n-th of one name)
    beside the input or in ``out_dir``. The one place this name is made; consolidation skips such files.
    A stem so long that the name would not fit in a file name is shortened (its end cut off)."""
    tail = f"{f'_{n}' if n > 1 else ''}{REVIEW_SUFFIX}.xlsx"
    stem = source.stem
    while stem and len((stem + tail).encode("utf-8", "surrogateescape")) > NAME_MAX:
        stem = stem[:-1]
    return Path(out_dir or source.parent) / f"{stem}{tail}"


def report_path(source: Path, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """The Word report's name: ``<stem>_绩效评价报告.docx`` beside the input or in ``out_dir``."""
    return Path(out_dir or source.parent) / f"{source.stem}{REPORT_SUFFIX}.docx"


def is_review_copy(path: Path) -> bool:
    return path.stem.endswith(REVIEW_SUFFIX)


def local_time(text: str | None) -> str | None:
    """An ISO time as a person reads it: local time, to the second, no zone (``2021-03-31 09:00:00``)."""
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return text
    return (dt.astimezone() if dt.tzinfo else dt).strftime("%Y-%m-%d %H:%M:%S")
