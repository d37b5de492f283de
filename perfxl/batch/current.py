"""Which return of a unit and year is the current one: the one order consolidation and the store share.

All returns of one unit and year are versions of each other. The current version is the one that
sorts first by ``recency_key``:

1. the newest ``generated_at`` (when its template was generated; a correction is usually made
   on a newly issued template); a missing or unparseable time is the oldest;
2. the newest file modification time, to the whole second; a missing one is the oldest. Whole
   seconds because that is what the summary shows and the store keeps: a finer difference
   would decide for a reason nobody can see;
3. the first file name (the last part of the path, with ``/`` or ``\\``), so where the file was
   kept, or which folder a batch was started from, does not matter;
4. the first sha256: two different files of one name;
5. the first full path: byte-identical copies within one batch (the store keeps one row per
   sha256, so it never gets here).

Every part is something both a consolidation row and a stored return hold, so the summary's
used return, the store's current one and next year's prefill are the same file whatever order
the files are checked or loaded in. When a file was checked or loaded is deliberately not part
of the order: it says when perfxl saw the file, not which version is newer.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import NamedTuple


class Recency(NamedTuple):
    """Sort key of one version; the current version sorts first (smallest)."""

    generated: float  # minus the generation time in seconds: newer sorts first; +inf if unknown
    modified: float  # minus the file's mtime in whole seconds: newer sorts first; +inf if unknown
    name: str
    sha256: str
    path: str


def recency_key(generated_at: str | None, mtime: str | None, file: str, sha256: str | None) -> Recency:
    """Where a version sorts among the versions of its unit and year (see the module docstring).

    ``generated_at`` and ``mtime`` are ISO 8601 texts (naive ones are local time); ``file`` is
    the file's path as given.
    """
    modified = _seconds(mtime)
    return Recency(
        -_seconds(generated_at),
        -math.floor(modified) if math.isfinite(modified) else math.inf,
        re.split(r"[/\\]", file)[-1],
        (sha256 or "").lower(),
        file,
    )


def mtime_text(seconds: float) -> str:
    """A file's mtime (``os.stat().st_mtime``) as the order compares it and the summary and store
    keep it: ISO 8601 local time, whole seconds."""
    return datetime.fromtimestamp(seconds, timezone.utc).astimezone().isoformat(timespec="seconds")


def _seconds(text: str | None) -> float:
    """An ISO 8601 time as seconds since the epoch; -inf if missing or unparseable."""
    if not text:
        return -math.inf
    try:
        moment = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.astimezone()).timestamp()
    except (ValueError, OverflowError, OSError):  # not a time, or one the platform cannot place
        return -math.inf
