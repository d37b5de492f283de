"""A1 references and shared formulas: the text of a shared-formula child, shifted from its master.

Excel stores a filled-down formula once (the master) and marks the other cells as children;
each child's text is the master's with every relative reference moved by the child's offset,
as Excel itself does. A reference moved off the sheet becomes ``#REF!``. Scanning is linear in
the formula's length (no pattern here can backtrack over nested brackets or open quotes).
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["MAX_COL", "MAX_ROW", "col_index", "col_name", "ref_rc", "shift_formula"]

MAX_COL = 16384
MAX_ROW = 1048576


@cache
def col_name(col: int) -> str:
    name = ""
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(65 + rem) + name
    return name


@cache
def col_index(letters: str) -> int:
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return col


_CELL_REF_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def ref_rc(ref: str) -> tuple[int, int]:
    m = _CELL_REF_RE.fullmatch(ref)
    if m is None:
        raise ValueError(f"无效的单元格引用 {ref!r}")
    return int(m.group(2)), col_index(m.group(1))


# -------------------------------------------------------------- shared formulas

# Tokens of a formula that matter for shifting.  String literals, quoted sheet
# names and [bracketed] parts are matched so that their contents are skipped.
_FORMULA_TOKEN_RE = re.compile(
    r"""
      "(?:[^"]|"")*"
    | '(?:[^']|'')*'
    | \[[^\[\]]*\]
    | (?<![\w.$])
      (?:
          (?P<ca>\$?)(?P<col>[A-Z]{1,3})(?P<ra>\$?)(?P<row>[0-9]{1,7})
        | (?P<c1a>\$?)(?P<c1>[A-Z]{1,3}):(?P<c2a>\$?)(?P<c2>[A-Z]{1,3})
        | (?P<r1a>\$?)(?P<r1>[0-9]{1,7}):(?P<r2a>\$?)(?P<r2>[0-9]{1,7})
      )
      (?![\w.(!\[])
    """,
    re.VERBOSE,
)

# A compiled formula: literal text pieces and reference tuples
#   (0, col_abs, col, row_abs, row)   cell          e.g. $C5
#   (1, abs1, col1, abs2, col2)       column range  e.g. A:$C
#   (2, abs1, row1, abs2, row2)       row range     e.g. 1:$3
_Piece = str | tuple[int, bool, int, bool, int]


def compile_formula(text: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    pos = 0
    for m in _FORMULA_TOKEN_RE.finditer(text):
        if m.group("col") is not None:
            col, row = col_index(m.group("col")), int(m.group("row"))
            if col > MAX_COL or not 1 <= row <= MAX_ROW:
                continue  # e.g. a name like "XYZ1" - not a reference
            token: _Piece = (0, m.group("ca") == "$", col, m.group("ra") == "$", row)
        elif m.group("c1") is not None:
            c1, c2 = col_index(m.group("c1")), col_index(m.group("c2"))
            if c1 > MAX_COL or c2 > MAX_COL:
                continue
            token = (1, m.group("c1a") == "$", c1, m.group("c2a") == "$", c2)
        elif m.group("r1") is not None:
            r1, r2 = int(m.group("r1")), int(m.group("r2"))
            if not (1 <= r1 <= MAX_ROW and 1 <= r2 <= MAX_ROW):
                continue
            token = (2, m.group("r1a") == "$", r1, m.group("r2a") == "$", r2)
        else:
            continue  # string literal, quoted name, bracket: copied verbatim
        if m.start() > pos:
            pieces.append(text[pos : m.start()])
        pieces.append(token)
        pos = m.end()
    if pos < len(text):
        pieces.append(text[pos:])
    return pieces


def render_formula(pieces: list[_Piece], drow: int, dcol: int) -> str:
    out: list[str] = []
    for p in pieces:
        if isinstance(p, str):
            out.append(p)
            continue
        kind, abs1, v1, abs2, v2 = p
        if kind == 0:
            col = v1 if abs1 else v1 + dcol
            row = v2 if abs2 else v2 + drow
            if not (1 <= col <= MAX_COL and 1 <= row <= MAX_ROW):
                out.append("#REF!")
            else:
                out.append(f"{'$' if abs1 else ''}{col_name(col)}{'$' if abs2 else ''}{row}")
        else:
            delta, limit = (dcol, MAX_COL) if kind == 1 else (drow, MAX_ROW)
            a = v1 if abs1 else v1 + delta
            b = v2 if abs2 else v2 + delta
            if not (1 <= a <= limit and 1 <= b <= limit):
                out.append("#REF!")
            elif kind == 1:
                out.append(f"{'$' if abs1 else ''}{col_name(a)}:{'$' if abs2 else ''}{col_name(b)}")
            else:
                out.append(f"{'$' if abs1 else ''}{a}:{'$' if abs2 else ''}{b}")
    return "".join(out)


def shift_formula(text: str, drow: int, dcol: int) -> str:
    """Shift the relative references in ``text`` by ``drow`` rows and ``dcol`` columns."""
    return render_formula(compile_formula(text), drow, dcol)
