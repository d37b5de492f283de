"""Text as people type and read it: names compared without white space, and how much room text takes.

``text_width`` and ``wrapped_lines`` estimate how a wrapped cell lays out, for row heights: Excel and
LibreOffice do not grow printed rows to fit their text, so every writer sets the heights itself.
"""

from __future__ import annotations

import math
import unicodedata


def squash_spaces(text: object, *, nfkc: bool = False) -> str:
    """``text`` with every white-space character removed (None gives ""): “姓  名” = “姓名”.

    With ``nfkc`` the text is first NFKC-normalised, so full-width forms equal their ASCII ones
    (``（`` = ``(``, ``１`` = ``1``). The store matches units that way; labels, the checker's
    unit-name check and consolidation's duplicate and roster matching do not (yet): changing
    them would change which returns count as one unit.
    """
    if text is None:
        return ""
    value = str(text)
    if nfkc:
        value = unicodedata.normalize("NFKC", value)
    return "".join(value.split())


def text_width(text: str) -> float:
    """Approximate width of a text in column-width units at 10 pt (a CJK character ≈ 1.9)."""
    return sum(1.9 if ord(ch) > 0x2E7F else 1.0 for ch in text)


def wrapped_lines(text: str, room: float) -> int:
    """Lines a wrapped text needs in a cell ``room`` width units wide (Excel won't grow printed rows)."""
    return sum(max(1, math.ceil(text_width(part) / max(room, 1.0))) for part in text.split("\n"))
