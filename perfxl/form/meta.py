"""The hidden identity of a workbook: which edition, layout and unit it was made for.

Written by the template writer into a veryHidden sheet and custom document properties; read
back by the checker to know how to read a return.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from perfxl import __version__
from perfxl.engine.layout import Plan

KEYS = (
    "edition",
    "form_version",
    "rubric_version",
    "fingerprint",
    "options",
    "unit",
    "code",
    "year",
    "generated_at",
    "generator",
)


@dataclass(frozen=True)
class Unit:
    """Who the workbook is for."""

    name: str = ""
    code: str = ""
    year: int | None = None


def metadata(plan: Plan, unit: Unit, generated_at: datetime) -> dict[str, str]:
    ed = plan.edition
    return {
        "edition": ed.name,
        "form_version": str(ed.form.version),
        "rubric_version": str(ed.rubric.version),
        "fingerprint": plan.fingerprint,
        "options": json.dumps(plan.options, ensure_ascii=False, sort_keys=True),
        "unit": unit.name,
        "code": unit.code,
        "year": "" if unit.year is None else str(unit.year),
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "generator": f"perfxl {__version__}",
    }
