"""What a formula computes, for comparing it: its tokens, each cell reference resolved to what it points at.

Inserting a row in Excel, WPS or LibreOffice rewrites the references below it: ``=SUM(B7:B9)``
becomes ``=SUM(B7:B10)`` and ``'收支情况'!B23`` becomes ``收支情况!B24``. As text these are other
formulas; resolved through the layout (the template's for the formula we wrote, the return's as
located for the formula found) they read the same fields, and the range's extra row is blank. So
two formulas are the same when their operators, functions and constants agree and each reference
reads the same fields, blank cells outside the form inside a range aside (they add nothing).

The formula text is split by openpyxl's tokenizer (a maintained Excel-formula parser), not by
hand; what it cannot split, or a reference it cannot place, is compared as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from perfxl.engine.layout import a1, parse_a1

MAX_RANGE_CELLS = 10_000  # a larger range is compared as written, not cell by cell


@dataclass(frozen=True)
class Stray:
    """A cell outside the form (no field there): where it is, and whether it is empty."""

    sheet: str
    ref: str
    blank: bool


Target = str | Stray  # a field id, or a cell that is no field
Locate = Callable[[str, str], Target]  # (sheet, A1) -> what is there


@dataclass(frozen=True)
class Ref:
    """A reference as written, and the cells it reads (None: not placeable, compared as written)."""

    text: str
    targets: tuple[Target, ...] | None


Part = str | Ref  # an operator, function, separator or constant (normalised), or a reference


def resolve(formula: str, sheet: str, locate: Locate) -> list[Part]:
    """The formula's parts; unqualified references are on ``sheet``."""
    # Imported here: importing openpyxl costs a fifth of a second, and a return whose formulas are
    # written as ours never gets here (most `perfxl check` runs, which must start fast).
    from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError

    text = formula if formula.startswith("=") else "=" + formula
    try:
        tokens = Tokenizer(text).items
    except TokenizerError:
        return [text.replace(" ", "").upper()]
    out: list[Part] = []
    for t in tokens:
        if t.type == Token.WSPACE:
            continue
        if t.type == Token.OPERAND and t.subtype == Token.RANGE:
            out.append(Ref(t.value, _cells(t.value, sheet, locate)))
        elif t.type == Token.OPERAND and t.subtype == Token.NUMBER:
            out.append(_number(t.value))
        elif t.type == Token.OPERAND and t.subtype == Token.TEXT:
            out.append(t.value)
        else:
            out.append(t.value.upper())
    return out


def same(expected: list[Part], found: list[Part]) -> bool:
    """Do the two formulas compute the same (see the module docstring)?"""
    if len(expected) != len(found):
        return False
    for want, got in zip(expected, found, strict=True):
        if isinstance(want, Ref) and isinstance(got, Ref):
            if want.targets is None or got.targets is None:
                if want.text.replace("$", "").upper() != got.text.replace("$", "").upper():
                    return False
            elif want.targets != _reading(got.targets, single=len(want.targets) == 1):
                return False
        elif want != got:
            return False
    return True


def strays(found: list[Part]) -> list[Stray]:
    """Cells outside the form the formula reads that hold something (they change its result)."""
    out = []
    for part in found:
        if isinstance(part, Ref) and part.targets:
            out += [t for t in part.targets if isinstance(t, Stray) and not t.blank]
    return out


def render(parts: list[Part], sheet: str, place: Callable[[str], tuple[str, str] | None]) -> str | None:
    """Formula text of ``parts`` with every field at ``place(field)`` (sheet, A1), as seen from
    ``sheet``; None if a field has no place (its row or sheet is missing)."""
    text = "="
    for part in parts:
        if not isinstance(part, Ref):
            text += part
            continue
        if part.targets is None:
            text += part.text
            continue
        spots = []
        for t in part.targets:
            spot = (t.sheet, t.ref) if isinstance(t, Stray) else place(t)
            if spot is None:
                return None
            spots.append(spot)
        text += ",".join(_runs(spots, sheet))
    return text


# ------------------------------------------------------------------ helpers


def _runs(spots: list[tuple[str, str]], home: str) -> list[str]:
    """References to ``spots``: runs of consecutive rows in one column as ranges (B7:B8,B10)."""
    out: list[str] = []
    k = 0
    while k < len(spots):
        end = k
        while end + 1 < len(spots) and _next_row(spots[end], spots[end + 1]):
            end += 1
        sheet, first = spots[k]
        prefix = "" if sheet == home else f"'{sheet}'!"
        out.append(prefix + first + (f":{spots[end][1]}" if end > k else ""))
        k = end + 1
    return out


def _next_row(a: tuple[str, str], b: tuple[str, str]) -> bool:
    (ra, ca), (rb, cb) = parse_a1(a[1]), parse_a1(b[1])
    return a[0] == b[0] and ca == cb and rb == ra + 1


def _reading(targets: tuple[Target, ...], single: bool) -> tuple[Target, ...]:
    """What a reference reads: in a range, blank cells outside the form add nothing."""
    if single:
        return targets
    return tuple(t for t in targets if not (isinstance(t, Stray) and t.blank))


def _number(text: str) -> str:
    try:
        return format(Decimal(text).normalize(), "f")
    except InvalidOperation:
        return text.upper()


def _cells(text: str, home: str, locate: Locate) -> tuple[Target, ...] | None:
    sheet, _, address = text.rpartition("!")
    sheet = sheet.strip("'").replace("''", "'") if sheet else home
    ends = address.replace("$", "").split(":")
    try:
        corners = [parse_a1(e) for e in ends]
    except ValueError:  # a defined name, a whole column, an external reference: compared as written
        return None
    if len(corners) == 1:
        corners *= 2
    if len(corners) != 2:
        return None
    (r1, c1), (r2, c2) = corners
    top, bottom, left, right = min(r1, r2), max(r1, r2), min(c1, c2), max(c1, c2)
    if (bottom - top + 1) * (right - left + 1) > MAX_RANGE_CELLS:
        return None
    return tuple(locate(sheet, a1(r, c)) for c in range(left, right + 1) for r in range(top, bottom + 1))
