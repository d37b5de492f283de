"""Comparing names and labels as people type them: white space never counts."""

from __future__ import annotations

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
