"""Write outputs atomically: into a temporary file beside the target, then renamed into place.

A reader never sees a half-written workbook, and a failure leaves the old file as it was. A target
that is not a regular file (``/dev/null``, ``/dev/stdout``, a named pipe) is written into once the
output is complete: renaming over it would replace the device itself.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_target(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on normal exit it replaces ``target``."""
    target = Path(target)
    if _special(target):
        with tempfile.TemporaryDirectory(prefix="perfxl-") as scratch:
            tmp_path = Path(scratch) / ("output" + target.suffix)
            yield tmp_path
            with tmp_path.open("rb") as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".perfxl-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the file from colleagues on a share
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(target: str | os.PathLike[str], text: str) -> None:
    with atomic_target(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _special(target: Path) -> bool:
    """Whether ``target`` exists and is neither a regular file nor a folder (a device, a pipe)."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))
