"""Reading hand-typed numbers and 是/否 answers from workbook cells.

Budget units fill the self-evaluation workbooks by hand, so a cell that should
hold ``256.7`` may hold ``"256.7万元"``, ``"２５６．７"``, ``"1,234.50"``,
``"（0.38）"`` or ``0.95`` (a %-formatted cell).  The functions here turn what a
cell holds (``None``/``int``/``float``/``bool``/``str``) into a :class:`Parsed`
result: the value, plus a short Chinese note when the text had to be
reinterpreted, or a short Chinese error when it cannot be read at all.

Pure functions, no I/O, standard library only.  Numbers are ``decimal.Decimal``
throughout; floats coming from a cell are converted through ``repr`` so that
``256.7`` becomes ``Decimal('256.7')`` and never goes through float arithmetic.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["UNITS", "Parsed", "parse_number", "parse_yesno", "to_decimal"]

#: Units ``parse_number`` understands as its ``unit`` argument.
UNITS: tuple[str | None, ...] = ("万元", "%", "人", "个", "分", None)


@dataclass(frozen=True)
class Parsed:
    """Outcome of reading one cell.

    ``value``: ``Decimal`` for numbers, ``"是"``/``"否"`` for yes/no, ``None`` for
    blank or unreadable.  ``note``: Chinese one-liner when the text had to be
    reinterpreted (``None`` when it was clean).  ``error``: Chinese one-liner when
    the cell cannot be read as the expected type (``value`` is ``None`` then).
    """

    value: Decimal | str | None
    note: str | None = None
    error: str | None = None
    from_yuan: bool = False  # an amount typed in 元 (“2563200元”), converted to 万元


# --------------------------------------------------------------------------- helpers

# Full-width characters a Chinese IME produces, mapped to ASCII.
_FULLWIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {
    "．": ".",
    "，": ",",
    "－": "-",
    "＋": "+",
    "％": "%",
}
# Parentheses are converted silently: a bracketed number gets its own note.
_PARENS = {"（": "(", "）": ")"}
_MINUS_SIGN = "\u2212"  # "−", typographic minus pasted from Word/PDF
_TRANSLATE = str.maketrans(_FULLWIDTH | _PARENS | {_MINUS_SIGN: "-"})

# Invisible characters that come with copy-paste; trimmed like whitespace.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"

# Placeholders meaning "nothing to report" (checked after full-width conversion).
_BLANK_TOKENS = frozenset({"-", "--", "—", "——", "–", "―", "/", "／", "\\", "无", "空", "不适用"})

# Trailing units, longest first so that 万元 wins over 万/元.
_SUFFIXES = ("万元", "万", "元", "%", "人", "个", "例", "项", "分")
_DIMENSION = {
    "万元": "money",
    "万": "money",
    "元": "money",
    "%": "percent",
    "人": "count",
    "个": "count",
    "例": "count",
    "项": "count",
    "分": "score",
}

# Largest |exponent| accepted; far beyond any amount, small enough to print.
_MAX_EXPONENT = 100

# Digits with optional comma groups, optional fraction, optional exponent.
_NUMBER_RE = re.compile(r"(?P<int>\d+(?:,\d+)*)?(?:\.(?P<frac>\d*))?(?:[eE][+-]?\d+)?", re.ASCII)
_GROUPED_RE = re.compile(r"\d{1,3}(?:,\d{3})+", re.ASCII)
_SEVERAL_NUMBERS_RE = re.compile(r"\d[\s,.]*\s[\s,.]*\d")
_CHINESE_NUMERALS = set("零〇一二三四五六七八九十百千两壹贰叁肆伍陆柒捌玖拾佰仟亿")

_YES_WORDS = frozenset({"是", "√", "✓", "✔", "☑", "y", "yes", "1", "true", "有"})
_NO_WORDS = frozenset({"否", "×", "✗", "✘", "n", "no", "0", "false", "无", "没有", "不是"})
_YESNO_BLANK_TOKENS = _BLANK_TOKENS - {"无"}  # 无 answers a 是否 question with 否


def _strip(text: str) -> str:
    """Trim whitespace (incl. full-width space and NBSP) and invisible characters."""
    return text.strip().strip(_INVISIBLE).strip()


def _quote(text: str, limit: int = 30) -> str:
    """The original text for a message: one line, shortened, in “”."""
    one_line = " ".join(text.split())
    if len(one_line) > limit:
        one_line = one_line[:limit] + "…"
    return f"“{one_line}”"


def _fmt(value: Decimal) -> str:
    """Plain positional notation (no exponent), as a finance officer would write it."""
    return format(value, "f")


def _tidy(value: Decimal) -> Decimal:
    """Drop a positive exponent (``2.5E+2`` → ``250``) and a minus sign on zero."""
    if value == 0:
        return value.copy_abs()
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0 and value.adjusted() < 100:
        return Decimal(int(value))
    return value


def _fewest_places(value: Decimal) -> Decimal:
    """``value`` without trailing zeros after the point (256.3200 → 256.32), exactly."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return _tidy(Decimal((sign, digits, exponent)))


def _times_100(value: Decimal) -> Decimal:
    """Exact ``value * 100`` (shifts the exponent, no context rounding)."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    return _tidy(Decimal((sign, digits, exponent + 2)))


def _out_of_range(value: Decimal) -> bool:
    """Magnitudes no workbook cell can sensibly hold (e.g. ``1e999``)."""
    return value != 0 and not (-_MAX_EXPONENT <= value.adjusted() <= _MAX_EXPONENT)


def _show(value: Decimal, unit: str | None) -> str:
    if unit is None:
        return _fmt(value)
    if unit == "%":
        return f"{_fmt(value)}%"
    return f"{_fmt(value)} {unit}"


def _split_unit(text: str) -> tuple[str, str | None]:
    for suffix in _SUFFIXES:
        if text.endswith(suffix):
            return text[: -len(suffix)].rstrip(), suffix
    return text, None


def _reading_note(shown: str, reasons: list[str], reading: str, tail: str = "") -> str:
    """“原文”<理由>，按 <读法> 读取<补充>."""
    gap = " " if reading[-1].isascii() else ""  # “按 95% 读取” but “按 256.7 万元读取”
    if not reasons:
        return f"{shown}按 {reading}{gap}读取{tail}"
    parts = [reasons[0]] + [r.removeprefix("的") for r in reasons[1:]]
    return f"{shown}{'，'.join(parts)}，按 {reading}{gap}读取{tail}"


def _not_a_number(original: str, text: str) -> str:
    """Error for text that is not a number, with a hint when we can tell why."""
    q = _quote(original)
    if _CHINESE_NUMERALS & set(text):
        return f"{q}不是数字，请填写阿拉伯数字"
    if _SEVERAL_NUMBERS_RE.search(text):
        return f"{q}含有多个数字，只能填写一个数字"
    return f"{q}不是数字"


# --------------------------------------------------------------------------- public API


def to_decimal(x: float | int | str | Decimal) -> Decimal:
    """Exact ``Decimal`` for a cell value.

    Floats go through ``repr`` (the shortest text that round-trips), so
    ``to_decimal(256.7) == Decimal("256.7")`` rather than the binary expansion
    ``256.69999999999998863...``.  Strings are read as plain decimal text (no
    separators or units; use :func:`parse_number` for hand-typed text).

    Raises ``TypeError`` for bools and other types, ``ValueError`` for text that is
    not a decimal number and for NaN/Infinity.
    """
    if isinstance(x, bool):
        raise TypeError("to_decimal() does not accept bool")
    if isinstance(x, Decimal):
        result = x
    elif isinstance(x, int):
        result = Decimal(x)
    elif isinstance(x, float):
        result = Decimal(repr(x))
    elif isinstance(x, str):
        try:
            result = Decimal(_strip(x))
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {x!r}") from None
    else:
        raise TypeError(f"to_decimal() does not accept {type(x).__name__}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {x!r}")
    return _tidy(result)


def parse_number(raw: object, unit: str | None = None) -> Parsed:
    """Read a hand-typed number from a cell.

    ``unit`` is the unit the column expects: ``"万元"``, ``"%"``, ``"人"``,
    ``"个"``, ``"分"`` or ``None`` (no particular unit).  See the module tests for
    the full set of accepted spellings; in short:

    * blank → ``Parsed(None)``; placeholders such as ``—`` ``/`` ``无`` → ``None``
      with a note;
    * full-width digits and punctuation, valid thousands separators, a trailing
      unit matching the column, ``(0.38)`` accounting negatives are accepted;
      every such rewrite except ASCII thousands separators gets a note;
    * an amount in 元 where 万元 is expected (``"2563200元"``) is converted:
      ``256.32``, with a note and ``from_yuan``;
    * with ``unit="%"`` a bare number in (0, 1] is a fraction: ``0.95`` → 95 and
      ``1`` → 100, with a note;
    * anything else (words, two numbers, a contradicting unit, NaN) is an error.
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; expected one of {UNITS}")

    if raw.__class__ is float and unit != "%" and math.isfinite(raw):
        # The usual cell: a stored number, read as the general path below reads it (to_decimal,
        # then the range check; the %-fraction rule does not apply), with fewer steps.
        value = _tidy(Decimal(repr(raw)))
        if not _out_of_range(value):
            return Parsed(value)
    if raw is None:
        return Parsed(None)
    if isinstance(raw, bool):
        shown = "TRUE" if raw else "FALSE"
        return Parsed(None, error=f"“{shown}”是“是/否”值，此处应填写数字")
    if isinstance(raw, (int, float, Decimal)):
        try:
            value = to_decimal(raw)
        except ValueError:
            return Parsed(None, error=f"“{raw}”不是有效数字")
        if _out_of_range(value):
            return Parsed(None, error=f"“{raw}”超出可读取的数值范围")
        return _percent_fraction(value, unit, None, [])
    if not isinstance(raw, str):
        return Parsed(None, error=f"{_quote(str(raw))}不是数字")

    original = _strip(raw)
    if not original:
        return Parsed(None)
    q = _quote(original)
    reasons: list[str] = []

    text = original.translate(_TRANSLATE)
    if any(ch in _FULLWIDTH for ch in original):
        reasons.append("含全角字符")
    if _MINUS_SIGN in original:
        reasons.append("含特殊负号“−”")

    if text in _BLANK_TOKENS:
        return Parsed(None, note=f"{q}按空白（未填）读取")
    if text.startswith("#"):
        return Parsed(None, error=f"{q}是公式错误值，不是数字")

    # Trailing unit, possibly inside accounting brackets: "(0.38)万元" / "(0.38万元)".
    text, suffix = _split_unit(text)
    bracketed = len(text) >= 2 and text[0] == "(" and text[-1] == ")"
    if bracketed:
        text = text[1:-1].strip()
        if suffix is None:
            text, suffix = _split_unit(text)

    if suffix is not None and not text:
        return Parsed(None, error=f"{q}只有单位，没有数字")

    sign = ""
    if text[:1] in ("+", "-"):
        sign, text = text[0], text[1:].lstrip()
    if bracketed:
        if sign:
            return Parsed(None, error=_not_a_number(original, text))
        reasons.append("为括号表示的负数")

    match = _NUMBER_RE.fullmatch(text)
    if match is None or not (match.group("int") or match.group("frac")):
        return Parsed(None, error=_not_a_number(original, text))
    integer_part = match.group("int") or ""
    if "," in integer_part and not _GROUPED_RE.fullmatch(integer_part):
        return Parsed(None, error=f"{q}中的逗号位置不对，若是小数点请改为“.”")

    # The unit is judged only once the rest is known to be a number.
    unit_reason, tail = None, ""
    if suffix is not None:
        expected = _DIMENSION.get(unit) if unit is not None else None
        if unit is None:
            unit_reason = f"已去掉单位“{suffix}”"
        elif _DIMENSION[suffix] != expected:
            return Parsed(None, error=f"{q}的单位是“{suffix}”，与本表单位“{unit}”不符")
        elif suffix == "元":  # an explicit unit is exact: 2563200 元 is 256.32 万元
            unit_reason = "的单位是元"
            tail = "（由元换算为万元，÷10000）"
        elif expected == "count" and (suffix == "人") != (unit == "人"):
            unit_reason = f"的单位是{suffix}"
    if unit_reason:
        reasons.insert(0, unit_reason)

    value = _tidy(Decimal(text.replace(",", "")))
    if _out_of_range(value):
        return Parsed(None, error=f"{q}超出可读取的数值范围")
    if sign == "-" or bracketed:
        value = _tidy(value.copy_negate())  # exact; unary minus would round to 28 digits
    from_yuan = suffix == "元" and unit == "万元"
    if from_yuan:
        value = _fewest_places(value.scaleb(-4))  # exact: shifts the exponent

    if suffix != "%":  # "95%" / "0.5%" are percentages as written, never scaled
        fraction = _percent_fraction(value, unit, q, reasons)
        if fraction.note is not None:
            return fraction
    if suffix is None and not reasons:
        return Parsed(value)
    return Parsed(value, note=_reading_note(q, reasons, _show(value, unit), tail), from_yuan=from_yuan)


def _percent_fraction(value: Decimal, unit: str | None, shown: str | None, reasons: list[str]) -> Parsed:
    """Apply the "(0, 1] in a % column is a fraction" rule; note only when applied.

    ``shown``: how the note quotes the original (None: the number itself, written only if needed).
    """
    if unit != "%" or not (0 < value <= 1):
        return Parsed(value)
    if shown is None:
        shown = _fmt(value)
    scaled = _times_100(value)
    tail = f"（若指 {_fmt(value)}% 请改为 {_fmt(value)}%）" if value == 1 else ""
    # A bare number reads “0.95 按 95% 读取”; text is quoted: “0.95”按 95% 读取.
    if not shown.startswith("“"):
        shown += " "
    return Parsed(scaled, note=_reading_note(shown, reasons, f"{_fmt(scaled)}%", tail))


def parse_yesno(raw: object) -> Parsed:
    """Read a 是/否 answer.

    ``是``/``否`` are clean.  Checkmarks and common equivalents (``√ ✓ Y yes 1
    TRUE 有`` / ``× ✗ N no 0 FALSE 无 没有 不是``, case- and width-insensitive,
    Excel TRUE/FALSE and the numbers 1/0) are read with a note.  Blank → ``None``;
    placeholders such as ``—`` ``/`` ``不适用`` → ``None`` with a note; anything
    else is an error.
    """
    if raw is None:
        return Parsed(None)
    if isinstance(raw, bool):
        answer = "是" if raw else "否"
        return Parsed(answer, note=f"“{'TRUE' if raw else 'FALSE'}”按“{answer}”读取")
    if isinstance(raw, (int, float, Decimal)):
        shown = str(raw)
        try:
            number = to_decimal(raw)
        except ValueError:
            return Parsed(None, error=f"“{shown}”不是“是”或“否”")
        if number in (0, 1):
            answer = "是" if number == 1 else "否"
            return Parsed(answer, note=f"{shown} 按“{answer}”读取")
        return Parsed(None, error=f"“{shown}”不是“是”或“否”")
    if not isinstance(raw, str):
        return Parsed(None, error=f"{_quote(str(raw))}不是“是”或“否”")

    original = _strip(raw)
    if not original:
        return Parsed(None)
    if original in ("是", "否"):
        return Parsed(original)
    q = _quote(original)
    word = unicodedata.normalize("NFKC", original).casefold()
    if word in _YES_WORDS:
        return Parsed("是", note=f"{q}按“是”读取")
    if word in _NO_WORDS:
        return Parsed("否", note=f"{q}按“否”读取")
    if word in _YESNO_BLANK_TOKENS or original.translate(_TRANSLATE) in _YESNO_BLANK_TOKENS:
        return Parsed(None, note=f"{q}按空白（未填）读取")
    return Parsed(None, error=f"{q}不是“是”或“否”")
