"""What a check produces: findings and the per-file result, and their JSON form (a public contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
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

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.sheet and self.cell else (self.sheet or "")

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "item": self.item,
            "severity": self.severity,
            "sheet": self.sheet,
            "cell": self.cell,
            "reported": _plain(self.reported),
            "expected": _plain(self.expected),
            "difference": _plain(self.difference),
            "message": self.message,
        }


@dataclass(frozen=True)
class ItemResult:
    """One rubric item: the unit's self-score and ours."""

    id: str
    name: str
    max: Decimal
    self: Decimal | None
    recomputed: Decimal
    defensible: tuple[Decimal, ...] = ()  # every score a declared reading gives, when they differ
    reading: str | None = None  # the reading the self-score matches, if any
    metric: Decimal | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "max": _plain(self.max),
            "self": _plain(self.self),
            "recomputed": _plain(self.recomputed),
            "defensible": [_plain(d) for d in self.defensible],
            "reading": self.reading,
            "metric": _plain(self.metric),
            "note": self.note,
        }


@dataclass
class CheckResult:
    """Everything a check found out about one file."""

    file: str
    sha256: str | None = None
    edition: str | None = None
    unit: str | None = None
    code: str | None = None
    year: int | None = None
    generated_at: str | None = None
    status: str = "ok"  # ok (no 错误) | errors | unusable
    reason: str | None = None  # why the file is unusable
    reported_total: Decimal | None = None
    recomputed_total: Decimal | None = None
    reported_grade: str | None = None
    recomputed_grade: str | None = None
    items: list[ItemResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # field id -> value read (inputs, parsed)
    computed: dict[str, Any] = field(default_factory=dict)  # formula id -> recomputed value

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    @property
    def exit_code(self) -> int:
        if self.status == "unusable":
            return 2
        return 1 if self.counts[ERROR] else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "edition": self.edition,
            "unit": self.unit,
            "code": self.code,
            "year": self.year,
            "generated_at": self.generated_at,
            "status": self.status,
            "reason": self.reason,
            "reported_total": _plain(self.reported_total),
            "recomputed_total": _plain(self.recomputed_total),
            "reported_grade": self.reported_grade,
            "recomputed_grade": self.recomputed_grade,
            "counts": self.counts,
            "items": [i.to_json() for i in self.items],
            "findings": [f.to_json() for f in self.findings],
        }


def _plain(value: Any) -> Any:
    """JSON-safe: Decimals become numbers (ints when whole), everything else as is."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
