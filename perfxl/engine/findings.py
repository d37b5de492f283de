"""A finding: one thing wrong (or worth knowing) about a return, at one cell."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ERROR, WARNING, INFO = "错误", "警告", "提示"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(frozen=True)
class Finding:
    """One thing wrong (or worth knowing) about a return, at one cell."""

    rule: str  # stable id, e.g. "sum.income.total", "score.P3"
    severity: str  # 错误 | 警告 | 提示
    message: str  # one Chinese line naming the place and the numbers
    sheet: str | None = None
    cell: str | None = None
    item: str | None = None  # rubric item id (I1…E4) where it concerns one
    reported: Any = None
    expected: Any = None
    difference: Decimal | None = None
    cause: int | None = None  # index (in its result's findings) of the root cause it follows from
    # The unit's written explanation (单位说明), from a returned review copy or an earlier round.
    # A 警告 or 提示 with one is 已说明: kept, but no longer counted as open; an 错误 still counts.
    explanation: str | None = None
    explained: bool = False

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.sheet and self.cell else (self.sheet or "")
