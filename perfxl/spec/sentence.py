"""The draft-sentence language of the 评价报告: literal Chinese text with ``{…}`` slots over fields.

``"整体支出{expense.total.total}万元，占总支出的{expense.total.basic / expense.total.total|share}"``

A slot is an expression of ``spec.expr`` and, after ``|``, how its number is written:

- ``amount`` / ``count``  the form's number format code for amounts / counts (Excel TEXT codes);
- ``percent`` / ``score`` a percentage / score field's value, rounded, trailing zeros dropped;
- ``share``    a division ``a / b`` as a percentage (``40.1%``), ``—`` when ``b`` is 0;
- ``text``     a text cell's content as it stands.

Without ``|`` a slot that is one field takes its format from the field's type when the sentence
is placed on a plan. Parsing lives here; the two renderings (Excel formula, Python text) live in
``engine.sentences``, side by side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from perfxl.spec import expr

FORMATS = ("amount", "count", "percent", "score", "share", "text")
# A number format code the draft may use: up to three sections (positive;negative;zero), each an
# optional "-", "0" or "#,##0", and optional decimals. Only this much of Excel's TEXT() is
# reproduced in Python, so the loader admits nothing else.
_SECTION = re.compile(r"^(-?)(0|#,##0)(?:\.(0+))?$")


class SentenceError(ValueError):
    """The sentence text cannot be parsed; the message quotes it."""


@dataclass(frozen=True)
class Slot:
    expr: expr.Expr
    format: str | None  # None: from the field's type, decided when placed on a plan


Part = str | Slot


@dataclass(frozen=True)
class Sentence:
    """One sentence of a draft: shown only when every field of ``when`` is filled."""

    parts: tuple[Part, ...]
    when: tuple[str, ...] = ()


def parse(text: str, when: tuple[str, ...] = ()) -> Sentence:
    """The sentence's literal pieces and slots; SentenceError on unbalanced braces or a bad slot."""
    parts: list[Part] = []
    pos = 0
    while pos < len(text):
        start = text.find("{", pos)
        close = text.find("}", pos)
        if close != -1 and (start == -1 or close < start):
            raise SentenceError(f"句子“{text}”中有多余的“}}”")
        if start == -1:
            parts.append(text[pos:])
            break
        if start > pos:
            parts.append(text[pos:start])
        end = text.find("}", start)
        inner = text.find("{", start + 1)
        if end == -1 or (inner != -1 and inner < end):
            raise SentenceError(f"句子“{text}”中的“{{”没有对应的“}}”")
        parts.append(_slot(text, text[start + 1 : end]))
        pos = end + 1
    return Sentence(tuple(parts), when)


def _slot(text: str, body: str) -> Slot:
    source, bar, fmt = body.partition("|")
    fmt = fmt.strip()
    if bar and fmt not in FORMATS:
        raise SentenceError(f"句子“{text}”中的写法“{fmt}”未知；可用：{', '.join(FORMATS)}")
    try:
        node = expr.parse(source)
    except expr.ExprError as e:
        raise SentenceError(f"句子“{text}”：{e}") from None
    if not bar and not isinstance(node, expr.Ref):
        raise SentenceError(f"句子“{text}”中的“{{{body}}}”是算式，须用 | 写明写法（{', '.join(FORMATS)}）")
    if fmt == "share" and not (isinstance(node, expr.Bin) and node.op == "/"):
        raise SentenceError(f"句子“{text}”中的“{{{body}}}”：share 须为“甲 / 乙”形式的比例")
    if fmt == "text" and not isinstance(node, expr.Ref):
        raise SentenceError(f"句子“{text}”中的“{{{body}}}”：text 只能用于单个字段")
    return Slot(node, fmt or None)


def refs(sentence: Sentence) -> list[str]:
    """Every field id the sentence reads (slots and ``when``)."""
    out = [f for p in sentence.parts if isinstance(p, Slot) for f in expr.refs(p.expr)]
    return [*out, *sentence.when]


def code_decimals(code: str) -> int:
    """The decimals of a number format code admitted for drafts; SentenceError if not admitted."""
    sections = code.split(";")
    if not 1 <= len(sections) <= 3:
        raise SentenceError(f"数字格式“{code}”应为 1～3 段（正数;负数;零）")
    places = []
    for section in sections:
        m = _SECTION.match(section)
        if not m:
            raise SentenceError(f"数字格式“{code}”中的“{section}”不受支持；每段应如 0、0.00、#,##0.00、-0.00")
        places.append(len(m.group(3) or ""))
    if len(sections) >= 2 and places[1] != places[0]:
        raise SentenceError(f"数字格式“{code}”的负数段与正数段小数位数不同")
    return places[0]


def code_section(code: str, section: int) -> tuple[str, bool, int]:
    """(sign literal, thousands separator, decimals) of one section of an admitted code."""
    m = _SECTION.match(code.split(";")[section])
    assert m is not None
    return m.group(1), m.group(2) == "#,##0", len(m.group(3) or "")
