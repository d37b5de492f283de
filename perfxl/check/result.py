"""The result of checking one file, and its one flattening into rows.

``return_row``, ``item_rows``, ``finding_rows`` and ``fact_values`` are the only place a
``CheckResult`` is taken apart. Its JSON (``perfxl check --json``, a public contract), the
consolidation's frames (and so the summary workbook) and the store are all built from them, each
converting the values for its own medium: JSON numbers, DataFrame cells, canonical SQL text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from perfxl.engine.findings import ERROR, INFO, SEVERITIES, WARNING, Finding

# The keys of each row, in the order the JSON lists them.
RETURN_KEYS = (
    "file",
    "sha256",
    "edition",
    "unit",
    "code",
    "year",
    "generated_at",
    "status",
    "reason",
    "reported_total",
    "recomputed_total",
    "reported_grade",
    "recomputed_grade",
)
ITEM_KEYS = ("id", "name", "max", "self", "recomputed", "defensible", "reading", "metric", "note")
FINDING_KEYS = (
    "rule",
    "item",
    "severity",
    "sheet",
    "cell",
    "reported",
    "expected",
    "difference",
    "message",
    "explanation",
    "explained",
)
# Open findings per severity, as the return row (and the summary, and the store's queries) name them;
# explained ones (已说明 警告 and 提示) are counted apart.
COUNT_KEYS = {ERROR: "errors", WARNING: "warnings", INFO: "infos"}
EXPLAINED_KEY = "explained"


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
    # With a store: which return of its unit and year this is (1, 2, …), the previous round's
    # findings it no longer has (已修正), and its findings the previous round did not have (新增).
    round: int | None = None
    fixed: list[Finding] = field(default_factory=list)
    new: list[Finding] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Open findings per severity: an explained 警告 or 提示 (已说明) is not counted."""
        return {s: sum(1 for f in self.findings if f.severity == s and not f.explained) for s in SEVERITIES}

    @property
    def explained(self) -> int:
        """Findings explained by the unit (已说明)."""
        return sum(1 for f in self.findings if f.explained)

    @property
    def exit_code(self) -> int:
        if self.status == "unusable":
            return 2
        return 1 if self.counts[ERROR] else 0

    def return_row(self) -> dict[str, Any]:
        """The file's own values (RETURN_KEYS), the total's difference and the findings per severity."""
        row = {k: getattr(self, k) for k in RETURN_KEYS}
        if self.reported_total is not None and self.recomputed_total is not None:
            row["difference"] = self.reported_total - self.recomputed_total
        else:
            row["difference"] = None
        counts = self.counts
        row.update({key: counts[severity] for severity, key in COUNT_KEYS.items()})
        row[EXPLAINED_KEY] = self.explained
        return row

    def item_rows(self) -> list[dict[str, Any]]:
        """One row per rubric item (ITEM_KEYS)."""
        return [{k: getattr(i, k) for k in ITEM_KEYS} for i in self.items]

    def finding_rows(self) -> list[dict[str, Any]]:
        """One row per finding (FINDING_KEYS), in the order they were found."""
        return [_finding_row(f) for f in self.findings]

    def fact_values(self) -> dict[str, Any]:
        """{field id: value} of every recomputed formula value and every input read; an input
        wins over a formula value of the same id, and nothing unknown (None) is listed."""
        known = {k: v for k, v in self.computed.items() if v is not None}
        known.update((k, v) for k, v in self.facts.items() if v is not None)
        return known

    def to_json(self) -> dict[str, Any]:
        """The public JSON of ``perfxl check --json``."""
        row = self.return_row()
        return {
            **{k: plain(row[k]) for k in RETURN_KEYS},
            "counts": self.counts,
            "items": [{k: plain(v) for k, v in r.items()} for r in self.item_rows()],
            "findings": [
                {**{k: plain(v) for k, v in r.items()}, "cause": f.cause}
                for r, f in zip(self.finding_rows(), self.findings, strict=True)
            ],
            "round": self.round,
            "fixed": [{k: plain(v) for k, v in _finding_row(f).items()} for f in self.fixed],
        }


def _finding_row(f: Finding) -> dict[str, Any]:
    return {k: getattr(f, k) for k in FINDING_KEYS}


def plain(value: Any) -> Any:
    """JSON-safe: Decimals become numbers (ints when whole), tuples lists, a number that is not
    finite (NaN, ∞: never a real amount) its text, everything else as is."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value
