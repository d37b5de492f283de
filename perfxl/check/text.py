"""How the checker quotes places and numbers in its messages, and reads numbers it already located."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from perfxl.check.reader import Located
from perfxl.engine.compute import Computation, Scalar
from perfxl.engine.layout import Plan
from perfxl.engine.numbers import parse_number
from perfxl.spec import NUMBER_UNITS
from perfxl.spec.kinds.common import number_text, quantize

UNIT_TEXT = {"amount": " 万元", "percent": "%", "score": " 分", "integer": " 人", "count": " 个"}


def number_of(plan: Plan, inputs: dict[str, Scalar], calc: Computation, fid: str) -> Decimal | None:
    """A field's number as the checker knows it: read (an input) or recomputed (a formula)."""
    v = inputs.get(fid) if plan.cells[fid].is_input else calc.values.get(fid)
    return v if isinstance(v, Decimal) else None


def number(found: Located | None, ftype: str) -> Decimal | None:
    if found is None or found.value is None or isinstance(found.value, bool):
        return None
    parsed = parse_number(found.value, NUMBER_UNITS.get(ftype))
    return parsed.value if isinstance(parsed.value, Decimal) else None


def where(found: Located) -> str:
    return f"{found.sheet}!{found.ref}"


def text_of(v: object) -> str:
    return v.strip() if isinstance(v, str) else ""


def year_of(value: Scalar, meta_year: str | None) -> int | None:
    """The return's year: the template's, else (a blank template) the one typed."""
    if meta_year and meta_year.isdigit():
        return int(meta_year)
    return int(value) if isinstance(value, Decimal) else None


def q(x: Decimal) -> Decimal:
    return quantize(x, 2)


def fmt(value: Any) -> str:
    """Numbers as a finance officer writes them: 3.29, 97, -0.38 (no exponent, no trailing zeros)."""
    return number_text(value) if isinstance(value, Decimal) else show(value)


def show(value: Any) -> str:
    if isinstance(value, float):
        return int_text(value)
    return "" if value is None else str(value)


def int_text(x: float) -> str:
    return str(int(x)) if x == int(x) else repr(x)
