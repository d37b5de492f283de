"""The field dictionary: every input (and formula) cell of a plan, for people and scripts.

``perfxl fields --json`` prints this; its keys are a public contract (see README).
"""

from __future__ import annotations

from typing import Any

from perfxl.engine.formulas import formula
from perfxl.engine.layout import Cell, Plan


def _entry(cell: Cell) -> dict[str, Any]:
    return {
        "id": cell.id,
        "name": cell.name,
        "sheet": cell.sheet,
        "cell": cell.ref,
        "type": cell.type,
        "unit": cell.unit,
        "required": cell.required,
        "label": list(cell.path),
        "feeds": list(cell.feeds),
    }


def dictionary(plan: Plan) -> dict[str, Any]:
    ed = plan.edition
    return {
        "edition": ed.name,
        "form_version": ed.form.version,
        "rubric_version": ed.rubric.version,
        "fingerprint": plan.fingerprint,
        "options": plan.options,
        "fields": [_entry(c) for c in plan.inputs()],
        "formulas": [{**_entry(c), "formula": formula(plan, c)} for c in plan.formulas()],
    }


def text_table(dictionary: dict[str, Any]) -> str:
    """One line per input of a field dictionary: id, cell, type/unit, label path."""
    lines = []
    for f in dictionary["fields"]:
        kind = f["type"] + (f"/{f['unit']}" if f["unit"] else "")
        star = "*" if f["required"] else " "
        where = f"{f['sheet']}!{f['cell']}"
        lines.append(f"{star} {f['id']:<28} {where:<14} {kind:<14} {' > '.join(f['label'][1:])}")
    return "\n".join(lines)
