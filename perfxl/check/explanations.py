"""Fix or explain: a unit's explanations (单位说明) of findings, and which new finding each explains.

A review copy is a valid return. Its 审核意见 sheet lists each finding with an unlocked 单位说明
cell and a hidden key naming the finding (rule id, sheet, cell, the value it reported); the unit
types its explanations there and sends the copy back. ``read_review`` takes those explanations —
nothing else of that sheet counts — and ``explain`` attaches each to the finding it explains in the
new check: same rule id and cell, or the same rule id alone when the cell moved (the old review
listed one finding of that rule and the new check has one). An explanation of a value the unit has
since changed is void. A 警告 or 提示 with an explanation is 已说明 (``Finding.explained``); an 错误
keeps its explanation beside it and still counts. The store carries explanations over to later
rounds through the same ``explain``; ``pair`` also tells what each round fixed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from perfxl.engine.findings import ERROR, Finding
from perfxl.engine.layout import parse_a1

REVIEW_SHEET = "审核意见"
EXPLANATION_HEADER = "单位说明"
KEY_HEADER = "核对键"  # the hidden column: JSON [rule, sheet, cell, reported] of the row's finding
MAX_TEXT = 2000  # characters of one explanation kept (a cell holds 32,767)
MAX_ROWS = 20000  # rows of a review sheet read: far more findings than a return can have

Key = tuple[str, str | None, str | None]  # rule id, sheet, cell


@dataclass(frozen=True)
class Explanation:
    """What the unit wrote about one finding, and the finding as it was then."""

    rule: str
    sheet: str | None
    cell: str | None
    reported: str | None  # the reported value when it was explained (``value_text``)
    text: str
    listed: int = 1  # findings of this rule the explained review listed


def value_text(value: Any) -> str | None:
    """A reported value as comparable text: numbers without trailing zeros, texts as they are."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        return "0" if value.is_zero() else format(value.normalize(), "f")
    return str(value)


def key(f: Finding) -> Key:
    return f.rule, f.sheet or None, f.cell or None


def review_key(f: Finding) -> str:
    """The hidden key of a finding's row on the review sheet."""
    return json.dumps([f.rule, f.sheet, f.cell, value_text(f.reported)], ensure_ascii=False)


# ------------------------------------------------------------------ reading a returned review copy


def read_review(cells: Mapping[str, object]) -> list[Explanation]:
    """The explanations typed into a review sheet (``cells``: its values by A1 reference)."""
    grid: dict[int, dict[int, object]] = {}
    for ref, value in cells.items():
        try:
            row, col = parse_a1(ref)
        except ValueError:
            continue
        if row < MAX_ROWS:
            grid.setdefault(row, {})[col] = value
    header = next(
        (
            r
            for r in sorted(grid)
            if KEY_HEADER in grid[r].values() and EXPLANATION_HEADER in grid[r].values()
        ),
        None,
    )
    if header is None:
        return []
    cols = {v: c for c, v in grid[header].items() if isinstance(v, str)}
    kcol, tcol = cols[KEY_HEADER], cols[EXPLANATION_HEADER]
    rows: list[tuple[Key, str | None, str]] = []
    for r in range(header + 1, MAX_ROWS):
        found = _key(grid.get(r, {}).get(kcol))
        if found is None:
            break
        text = grid[r].get(tcol)
        text = _text(text)
        rows.append((found[0], found[1], text))
    listed = Counter(k[0] for k, _, _ in rows)
    return [Explanation(*k, reported, text, listed[k[0]]) for k, reported, text in rows if text]


def _key(raw: object) -> tuple[Key, str | None] | None:
    if not isinstance(raw, str):
        return None
    try:
        parts = json.loads(raw)
    except ValueError:
        return None
    if not (isinstance(parts, list) and len(parts) == 4 and isinstance(parts[0], str)):
        return None
    if not all(p is None or isinstance(p, str) for p in parts[1:]):
        return None
    return (parts[0], parts[1] or None, parts[2] or None), parts[3]


def _text(value: object) -> str:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float):
        value = value_text(value)
    return str(value).strip()[:MAX_TEXT]


# ------------------------------------------------------------------ matching


def pair(old: Sequence[Key], new: Sequence[Key], listed: Mapping[str, int] | None = None) -> dict[int, int]:
    """{new index: old index} of the same finding: same rule and place, else the same rule alone
    where the cell moved — the old side had one finding of that rule (``listed``, by default
    counted in ``old``) and the new side has one."""
    out: dict[int, int] = {}
    taken: set[int] = set()
    where = {k: i for i, k in reversed(list(enumerate(old)))}
    for n, k in enumerate(new):
        i = where.get(k)
        if i is not None and i not in taken:
            out[n] = i
            taken.add(i)
    counts = listed if listed is not None else Counter(k[0] for k in old)
    fresh = Counter(k[0] for k in new)
    for n, k in enumerate(new):
        if n in out or counts.get(k[0]) != 1 or fresh[k[0]] != 1:
            continue
        left = [i for i, o in enumerate(old) if o[0] == k[0] and i not in taken]
        if len(left) == 1:
            out[n] = left[0]
            taken.add(left[0])
    return out


def explain(
    findings: Sequence[Finding], explanations: Sequence[Explanation]
) -> tuple[list[Finding], list[Explanation]]:
    """``findings`` with the explanations that explain them attached, and the explanations void
    because the value they explained has changed. Findings already explained are left as they are."""
    todo = [n for n, f in enumerate(findings) if f.explanation is None]
    listed = {e.rule: e.listed for e in explanations}
    matched = pair(
        [(e.rule, e.sheet, e.cell) for e in explanations], [key(findings[n]) for n in todo], listed
    )
    out, void = list(findings), []
    for m, i in matched.items():
        n, e = todo[m], explanations[i]
        f = findings[n]
        if e.reported != value_text(f.reported):
            void.append(e)
            continue
        out[n] = replace(f, explanation=e.text, explained=f.severity != ERROR)
    return out, void
