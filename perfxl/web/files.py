"""Files under the data dir, named by their content: ``files/<ab>/<sha256><suffix>`` for what was
uploaded, ``reviews/<sha256>.xlsx`` for review copies, ``work/`` for scratch.

Nothing a user typed ever becomes part of a path: the name is the SHA-256 of the bytes and the
suffix comes from a fixed list. Uploaded bytes are streamed to a temporary file, counted (past the
limit: ``TooLarge``), hashed, and renamed into place; an existing copy is kept as it is.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

# Suffixes a kept file may have: the checker reads by content, but its messages (".et: save as
# .xlsx") and Excel, when a bureau downloads the file again, go by the suffix.
SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods", ".csv")
_SHA = re.compile(r"[0-9a-f]{64}")


class TooLarge(Exception):
    """The upload is larger than the limit."""


def suffix_of(filename: str) -> str:
    """The kept suffix for a file sent as ``filename``: its own if on the list, else ``.bin``."""
    suffix = os.path.splitext(display_name(filename))[1].lower()
    return suffix if suffix in SUFFIXES else ".bin"


def display_name(filename: str | None) -> str:
    """The name a file was sent as, for people to read: its last path part (browsers on Windows
    may send ``C:\\...``), without control characters, at most 200 characters."""
    name = re.split(r"[/\\]", filename or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:200] or "未命名.xlsx"


class Files:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir
        for sub in ("files", "reviews", "work", "summaries"):
            (data_dir / sub).mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str, suffix: str) -> Path:
        if not _SHA.fullmatch(sha256) or suffix not in (*SUFFIXES, ".bin"):
            raise ValueError("not a content name")  # only our own names get here; make sure
        return self.root / "files" / sha256[:2] / f"{sha256}{suffix}"

    def review(self, sha256: str) -> Path:
        if not _SHA.fullmatch(sha256):
            raise ValueError("not a content name")
        return self.root / "reviews" / f"{sha256}.xlsx"

    def scratch(self) -> Path:
        """A new private folder for one job's scratch files (the caller removes it)."""
        return Path(tempfile.mkdtemp(dir=self.root / "work"))

    async def save(self, chunks: AsyncIterator[bytes], suffix: str, limit: int) -> tuple[str, int]:
        """Stream ``chunks`` into the store; (sha256, size). ``TooLarge`` past ``limit`` bytes."""
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=self.root / "work", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge
                    digest.update(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            target = self.path(sha, suffix)
            target.parent.mkdir(exist_ok=True)
            if target.exists():  # the same bytes are already kept
                os.unlink(tmp)
            else:
                os.replace(tmp, target)
            return sha, size
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
