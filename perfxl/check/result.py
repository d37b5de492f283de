"""The result of checking one file: item scores, findings, facts, and its JSON form (a public contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from perfxl.engine.findings import ERROR, SEVERITIES, Finding, plain


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
            "max": plain(self.max),
            "self": plain(self.self),
            "recomputed": plain(self.recomputed),
            "defensible": [plain(d) for d in self.defensible],
            "reading": self.reading,
            "metric": plain(self.metric),
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
            "reported_total": plain(self.reported_total),
            "recomputed_total": plain(self.recomputed_total),
            "reported_grade": self.reported_grade,
            "recomputed_grade": self.recomputed_grade,
            "counts": self.counts,
            "items": [i.to_json() for i in self.items],
            "findings": [f.to_json() for f in self.findings],
        }
