"""Draft sentences of the 评价报告, rendered twice: as Python text and as an Excel formula.

The two renderings sit side by side, slot format by slot format, so the draft a workbook shows
(recalculated by Excel, WPS or LibreOffice) and the draft perfxl writes into the Word report are
the same characters. Numbers are rounded as the form rounds them (``rules.shown``), then written
with TEXT() codes of the small kind ``spec.sentence`` admits, which Python reproduces exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from perfxl.spec import Edition, expr
from perfxl.spec.kinds.common import NOISE_PLACES, quantize, shown, shown_formula
from perfxl.spec.sentence import Sentence, Slot, code_decimals, code_section

Value = Callable[[str], Decimal]  # a field's number, blank = 0 (as Excel reads it)
Text = Callable[[str], object]  # a field's value as it stands (None when blank)
Filled = Callable[[str], bool]  # the field holds something (a number, for a numeric field)
CellRef = Callable[[str], str]  # a field's Excel reference
NOT_APPLICABLE = "—"  # a share whose base is 0
_LITERAL_LIMIT = 255  # Excel refuses longer string constants in a formula


@dataclass(frozen=True)
class Formats:
    amount: str  # number format code of amounts (spec.sentence admits which)
    count: str  # number format code of counts
    rate_places: int  # percentages and shares: the rubric's rate decimals
    score_places: int


def formats_of(edition: Edition) -> Formats:
    """How an edition's drafts write numbers: the form's codes, the rubric's decimals."""
    spec = edition.form.narrative
    assert spec is not None
    rubric = edition.rubric
    return Formats(spec.amount_format, spec.count_format, rubric.rate_decimals, rubric.score_decimals)


NUMERIC = ("amount", "integer", "count", "percent", "score")  # field types a draft tests with ISNUMBER


# ------------------------------------------------------------------ Python


def render(sentences: tuple[Sentence, ...], value: Value, text: Text, filled: Filled, fmt: Formats) -> str:
    """The draft text: each sentence whose ``when`` fields are all filled, one after another."""
    out: list[str] = []
    for s in sentences:
        if all(filled(f) for f in s.when):
            out.extend(p if isinstance(p, str) else _slot(p, value, text, fmt) for p in s.parts)
    return "".join(out)


def _slot(slot: Slot, value: Value, text: Text, fmt: Formats) -> str:
    node = slot.expr
    if slot.format == "text":
        assert isinstance(node, expr.Ref)
        raw = text(node.field)
        return "" if raw is None else str(raw)
    if slot.format == "share":
        assert isinstance(node, expr.Bin)
        den = expr.evaluate(node.right, value)
        if quantize(den, NOISE_PLACES) == 0:
            return NOT_APPLICABLE
        rate = shown(expr.evaluate(node.left, value) * 100 / den, fmt.rate_places)
        return _trimmed(rate) + "%"
    x = expr.evaluate(node, value)
    if slot.format == "percent":
        return _trimmed(shown(x, fmt.rate_places)) + "%"
    if slot.format == "score":
        return _trimmed(shown(x, fmt.score_places))
    code = fmt.amount if slot.format == "amount" else fmt.count
    return _coded(shown(x, code_decimals(code)), code)


def _trimmed(v: Decimal) -> str:
    """Without trailing zeros: 40.1, 100, 98.56 (as the seed writes shares)."""
    return "0" if v == 0 else format(v.normalize(), "f")


def _coded(v: Decimal, code: str) -> str:
    """TEXT(v, code) for a code of positive;negative;zero sections (v already rounded)."""
    sections = len(code.split(";"))
    if v == 0:
        v = abs(v)  # no "-0.00"
    if v == 0 and sections == 3:
        index, x = 2, v
    elif v < 0 and sections >= 2:
        index, x = 1, -v  # the section writes its own sign
    else:
        index, x = 0, v
    sign, thousands, places = code_section(code, index)
    return sign + (f"{x:,.{places}f}" if thousands else f"{x:.{places}f}")


# ------------------------------------------------------------------ Excel


def formula(sentences: tuple[Sentence, ...], cell: CellRef, filled: CellRef, fmt: Formats) -> str:
    """The Excel expression (without '=') of the draft; ``filled(id)`` is the test of a field."""
    pieces = []
    for s in sentences:
        body = _join([p if isinstance(p, str) else Formula(_slot_formula(p, cell, fmt)) for p in s.parts])
        if s.when:
            tests = [filled(f) for f in s.when]
            cond = tests[0] if len(tests) == 1 else f"AND({','.join(tests)})"
            body = f'IF({cond},{body},"")'
        pieces.append(Formula(body))
    return _join(pieces)


class Formula(str):
    """A piece of formula text (as opposed to literal text, which becomes a string constant)."""


def _join(pieces: Sequence[str]) -> str:
    """Pieces joined with '&': runs of literal text as string constants, formulas as they are."""
    out: list[str] = []
    text = ""
    for p in pieces:
        if isinstance(p, Formula):
            out.extend(_constants(text))
            text = ""
            out.append(p)
        else:
            text += p
    out.extend(_constants(text))
    return "&".join(out) or '""'


def _constants(text: str) -> list[str]:
    """Literal text as Excel string constants: quotes doubled, line breaks CHAR(10), ≤ 255 characters each."""
    out = []
    for k, line in enumerate(text.split("\n")):
        if k:
            out.append("CHAR(10)")
        for i in range(0, len(line), _LITERAL_LIMIT):
            out.append('"' + line[i : i + _LITERAL_LIMIT].replace('"', '""') + '"')
    return out


def _slot_formula(slot: Slot, cell: CellRef, fmt: Formats) -> str:
    node = slot.expr
    if slot.format == "text":
        return f'{expr.to_excel(node, cell)}&""'
    if slot.format == "share":
        assert isinstance(node, expr.Bin)
        num, den = expr.to_excel(node.left, cell), expr.to_excel(node.right, cell)
        rate = shown_formula(f"({num})*100/({den})", fmt.rate_places)
        shown_rate = _trimmed_formula(rate, fmt.rate_places)
        return f'IF(ROUND({den},{NOISE_PLACES})=0,"{NOT_APPLICABLE}",{shown_rate}&"%")'
    x = expr.to_excel(node, cell)
    if slot.format == "percent":
        return f'{_trimmed_formula(shown_formula(x, fmt.rate_places), fmt.rate_places)}&"%"'
    if slot.format == "score":
        return _trimmed_formula(shown_formula(x, fmt.score_places), fmt.score_places)
    code = fmt.amount if slot.format == "amount" else fmt.count
    return f'TEXT({shown_formula(x, code_decimals(code))},"{code}")'


def _trimmed_formula(r: str, places: int) -> str:
    """The fewest decimals (up to ``places``) that show ``r`` exactly: TEXT with "0", "0.0", "0.00"."""
    body = f'TEXT({r},"{_zeros(places)}")'
    for k in reversed(range(places)):
        body = f'IF({r}=ROUND({r},{k}),TEXT({r},"{_zeros(k)}"),{body})'
    return body


def _zeros(places: int) -> str:
    return "0." + "0" * places if places else "0"
