"""Read a returned workbook: identify it, then find every field of its plan.

Fields are found by their defined names; where names were lost (re-saved by other tools, or a
.xls/.ods return, which has none we read) or point nowhere (rows deleted), by the form's own
labels, row by row. How each field was found, and every sheet or label that could not be, is
reported as a finding, never as a crash. Every formula of the workbook that reaches outside it
(DDE, other files, the network) is listed on the return for the checker to report.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from perfxl.check.explanations import REVIEW_SHEET, Explanation, read_review
from perfxl.check.formats import read_workbook
from perfxl.check.limits import LIMITS, Budget, LimitExceeded, Limits
from perfxl.check.package import XlsxReadError, read_source
from perfxl.check.xlsxread import Sheet, Workbook, resolve_name
from perfxl.engine.catalogue import finding
from perfxl.engine.findings import Finding
from perfxl.engine.formula_risk import danger
from perfxl.engine.layout import META_SHEET, Plan, SheetPlan, a1, build_plan, parse_a1
from perfxl.engine.text import squash_spaces
from perfxl.spec import SpecError, available_editions, load_edition


class UnusableInput(Exception):
    """The file cannot be checked at all (not a workbook, not a perfxl return, unknown edition)."""


class Located(NamedTuple):
    """A field's cell as found in the return (immutable; a named tuple, as 313 are made per return
    and a frozen dataclass costs three times as much to build)."""

    sheet: str
    ref: str
    value: str | float | bool | None
    formula: str | None
    how: str  # name | label
    cached: bool = True  # False: a formula saved without its result (openpyxl and some tools do that)
    date: bool = False  # a number the cell's format shows as a date


@dataclass
class Return:
    path: str
    sha256: str
    meta: dict[str, str]
    plan: Plan
    cells: dict[str, Located]
    sheet_names: dict[str, str]  # plan sheet name -> the name it has in the return
    findings: list[Finding] = field(default_factory=list)
    sheets: dict[str, Sheet] = field(default_factory=dict)  # every sheet as read, by its name in the return
    explanations: list[Explanation] = field(default_factory=list)  # typed into a returned review copy
    kind: str = "xlsx"  # xlsx | xls | ods: the format the return was read from
    values_only: bool = False  # no formulas or defined names could be read (.xls/.ods)
    # Formulas that reach outside the workbook: (sheet or None for a defined name, cell or name,
    # formula text, why).
    dangerous: list[tuple[str | None, str, str, str]] = field(default_factory=list)
    external_links: tuple[str, ...] = ()
    macros: bool = False


def read_return(path: str | Path, limits: Limits = LIMITS) -> Return:
    path = Path(path)
    budget = Budget(limits)
    try:
        data = read_source(path, limits)
        if not data:
            raise UnusableInput("文件是空的（0 字节），可能没有上传或下载完整，请重新报送")
        wb = read_workbook(data, path, limits, budget)
    except (XlsxReadError, LimitExceeded) as e:
        raise UnusableInput(str(e)) from None
    meta = _metadata(wb)
    plan = _plan(meta)
    ret = Return(str(path), hashlib.sha256(data).hexdigest(), meta, plan, {}, {}, sheets=wb.sheets)
    ret.kind, ret.values_only = wb.kind, wb.values_only
    ret.external_links, ret.macros = wb.external_links, wb.macros
    ret.dangerous = _dangerous(wb)
    if meta.get("fingerprint") != plan.fingerprint:
        ret.findings.append(
            finding(
                "layout.fingerprint",
                sheet=META_SHEET,
                theirs=_cut(meta.get("fingerprint") or "（无）"),
                ours=plan.fingerprint,
            )
        )
    _map_sheets(wb, ret)
    _locate(wb, ret)
    review = wb.sheets.get(REVIEW_SHEET)
    if review is not None:
        ret.explanations = read_review({ref: c.value for ref, c in review.cells.items()})
    return ret


def _dangerous(wb: Workbook) -> list[tuple[str | None, str, str, str]]:
    found: list[tuple[str | None, str, str, str]] = []
    for name, text in wb.defined_names.items():
        if why := danger(text):
            found.append((None, name, text, why))
    for sheet in wb.sheets.values():
        for ref, cell in sheet.cells.items():
            if cell.formula is not None and (why := danger(cell.formula)):
                found.append((sheet.name, ref, cell.formula, why))
    return found


def _metadata(wb: Workbook) -> dict[str, str]:
    meta: dict[str, str] = {}
    for key, value in wb.custom_properties.items():
        if key.startswith("perfxl."):
            meta[key.removeprefix("perfxl.")] = "" if value == "-" else value
    sheet = wb.sheets.get(META_SHEET)
    if sheet is not None:
        for ref, cell in sheet.cells.items():
            if ref.startswith("A") and isinstance(cell.value, str):
                beside = sheet.cells.get("B" + ref[1:])
                meta[cell.value] = "" if beside is None or beside.value is None else _meta_text(beside.value)
    if "edition" not in meta:
        raise UnusableInput(
            "不是 perfxl 生成的自评表（缺少隐藏的版本信息），无法审核；请使用财政部门下发的模板填报"
        )
    return meta


def _cut(text: str, limit: int = 40) -> str:
    """Untrusted text quoted in a message: one line, at most ``limit`` characters."""
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[:limit] + "…"


def _meta_text(value: str | float | bool) -> str:
    """A metadata value as the template wrote it (a version read back from .xls/.ods is 1.0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _plan(meta: dict[str, str]) -> Plan:
    name = meta["edition"]
    if name not in available_editions():
        raise UnusableInput(f"未知的表样版本“{_cut(name)}”；本程序支持：{'、'.join(available_editions())}")
    edition = load_edition(name)
    for key, mine in (("form_version", edition.form.version), ("rubric_version", edition.rubric.version)):
        try:
            theirs = int(meta.get(key) or mine)
        except ValueError:
            raise UnusableInput(f"隐藏的版本信息已损坏（{key}=“{_cut(meta.get(key) or '')}”）") from None
        if theirs > mine:
            raise UnusableInput(
                f"该表由更新版本的 perfxl 生成（{name} {key} v{theirs}，本程序为 v{mine}），请升级 perfxl"
            )
    try:
        options = json.loads(meta.get("options") or "{}")
        if not isinstance(options, dict):
            raise ValueError("not an object")
    except (ValueError, RecursionError):
        raise UnusableInput(
            "隐藏的模板选项已损坏，无法确定表格行数；请使用财政部门下发的模板重新填报"
        ) from None
    try:
        return build_plan(edition, options)
    except SpecError as e:
        raise UnusableInput(f"隐藏的模板选项已损坏：{e}") from None
    except (TypeError, ValueError, AttributeError, OverflowError):  # options are untrusted data
        raise UnusableInput(
            "隐藏的模板选项已损坏，无法确定表格行数；请使用财政部门下发的模板重新填报"
        ) from None


def _map_sheets(wb: Workbook, ret: Return) -> None:
    """Plan sheet -> return sheet; a renamed sheet is recognised by its title."""
    unused = [n for n in wb.sheets if n != META_SHEET and n not in {s.name for s in ret.plan.sheets}]
    for sp in ret.plan.sheets:
        if sp.name in wb.sheets:
            ret.sheet_names[sp.name] = sp.name
            continue
        title = next((squash_spaces(s.text) for s in sp.slots if s.role == "title"), None)
        found = next(
            (
                n
                for n in unused
                if title and any(squash_spaces(c.value) == title for c in wb.sheets[n].cells.values())
            ),
            None,
        )
        if found is not None:
            unused.remove(found)
            ret.sheet_names[sp.name] = found
            ret.findings.append(finding("layout.sheet_renamed", sheet=found, old=sp.name))
        elif sp.cells and not sp.optional:
            ret.findings.append(finding("layout.sheet_missing", sheet=sp.name, n=len(sp.cells)))


_SIMPLE_REF = re.compile(r"=?'?([^'!]+)'?!\$?([A-Z]{1,3})\$?([0-9]{1,7})")


def _names(wb: Workbook) -> dict[str, tuple[str, str]]:
    """Our defined names (case-insensitive, as Excel treats them) resolved to (sheet, cell) once."""
    out = {}
    for name, text in wb.defined_names.items():
        if name.lower().startswith("px_"):
            # The common '收支情况'!$C$7, anything else the long way. Short texts are remembered
            # (every return of a form has the same ones); a long one is never ours: not kept.
            simple = _simple_ref(text) if len(text) <= 64 else _simple_ref.__wrapped__(text)
            where = simple if simple is not None and simple[0] in wb.sheets else None
            where = where or resolve_name(wb, name)
            if where is not None:
                out[name.lower()] = where
    return out


@lru_cache(maxsize=4096)
def _simple_ref(text: str) -> tuple[str, str] | None:
    m = _SIMPLE_REF.fullmatch(text)
    return (m.group(1), m.group(2) + m.group(3)) if m else None


def _locate(wb: Workbook, ret: Return) -> None:
    names = _names(wb)
    by_label = 0
    for sp in ret.plan.sheets:
        actual = ret.sheet_names.get(sp.name)
        if actual is None:
            continue
        sheet = wb.sheets[actual]
        anchors = _anchors(sp)
        named = {c.id: names.get(c.name.lower()) for c in sp.cells}
        rows, missing, moved = _align_rows(sp, anchors, _texts(sheet))
        # Names are trusted only if every one is there and agrees with the labels: a row inserted or
        # deleted by a tool that does not adjust names would shift them all silently. A row whose
        # label alone was retyped, where the names and the rows around it agree, is that row still.
        trusted = all(n is not None and n[0] == actual for n in named.values()) and _names_agree(
            sp, named, rows, missing
        )
        if trusted:
            for prow, text in missing:
                _label_changed(ret, sp, sheet, anchors[prow][0], named, prow, text)
        else:
            for _prow, text in missing:
                ret.findings.append(finding("layout.label_missing", sheet=actual, label=text))
            if moved:
                ret.findings.append(finding("layout.rows_moved", sheet=actual))
        for cell in sp.cells:
            where = named[cell.id]
            if trusted and where is not None:
                ref, how = where[1], "name"
            else:
                row = rows.get(cell.row)
                if row is None:
                    continue
                ref, how = a1(row, cell.col), "label"
                by_label += 1
            found = sheet.cells.get(ref)
            ret.cells[cell.id] = Located(
                actual,
                ref,
                found.value if found else None,
                found.formula if found else None,
                how,
                cached=found is None or found.formula is None or bool(found.raw),
                date=found is not None and found.date,
            )
    if by_label and not ret.values_only:  # a values-only format has no names: its own note says so
        ret.findings.append(finding("layout.by_label", n=by_label))


Anchor = tuple[int, str, str]  # (column, normalised label text, role) of the leftmost label on a plan row
SECTION_ROLES = ("title", "subtitle")


@lru_cache(maxsize=256)
def _anchors(sp: SheetPlan) -> dict[int, Anchor]:
    anchors: dict[int, Anchor] = {}
    for s in sp.slots:
        if s.role in ("label", "label_left", "header", *SECTION_ROLES) and squash_spaces(s.text):
            if s.row not in anchors or s.col < anchors[s.row][0]:
                anchors[s.row] = (s.col, squash_spaces(s.text), s.role)
    return anchors


def _texts(sheet: Sheet) -> dict[tuple[int, int], str]:
    return {
        parse_a1(ref): squash_spaces(c.value) for ref, c in sheet.cells.items() if isinstance(c.value, str)
    }


def _row_of(where: tuple[str, str] | None) -> int | None:
    return None if where is None else parse_a1(where[1])[0]


def _names_agree(
    sp: SheetPlan,
    named: dict[str, tuple[str, str] | None],
    rows: dict[int, int | None],
    missing: list[tuple[int, str]],
) -> bool:
    """Do the names put every labelled row where its label is, and each row whose label was not
    found between the labelled rows around it (so it is that row, its label retyped)?"""
    lost = {prow for prow, _ in missing}
    found = sorted((p, r) for p, r in rows.items() if r is not None and p not in lost and p in _anchors(sp))
    for cell in sp.cells:
        row = _row_of(named[cell.id])
        if row is None or cell.row not in _anchors(sp):
            continue
        if cell.row in lost:
            before = [r for p, r in found if p < cell.row]
            after = [r for p, r in found if p > cell.row]
            if (before and row <= before[-1]) or (after and row >= after[0]):
                return False
        elif rows.get(cell.row) != row:
            return False
    return True


def _label_changed(
    ret: Return,
    sp: SheetPlan,
    sheet: Sheet,
    col: int,
    named: dict[str, tuple[str, str] | None],
    prow: int,
    text: str,
) -> None:
    row = next((r for c in sp.cells if c.row == prow and (r := _row_of(named[c.id])) is not None), None)
    if row is None:
        return
    ref = a1(row, col)
    found = sheet.cells.get(ref)
    now = squash_spaces(found.value) if found is not None and found.value is not None else ""
    shown = f"被改为“{now}”" if now else "被删除"
    ret.findings.append(
        finding(
            "layout.label_changed",
            f"{sheet.name}!{ref} 行标签“{text}”{shown}；定义名称和表格结构没有变，"
            "仍按原来的行读取。请勿改动标签",
            sheet=sheet.name,
            cell=ref,
            reported=now or None,
            expected=text,
        )
    )


def _align_rows(
    sp: SheetPlan, anchors: dict[int, Anchor], texts: dict[tuple[int, int], str]
) -> tuple[dict[int, int | None], list[tuple[int, str]], bool]:
    """Plan row -> actual row by labels: first the table titles, then each row label within its table
    (labels such as “1、局机关” repeat from table to table); unlabelled rows follow their neighbours.
    Also the (plan row, label) of every label not found, and whether any row moved."""
    last = max((r for r, _ in texts), default=0)
    mapping: dict[int, int | None] = {}
    missing: list[tuple[int, str]] = []

    def find(col: int, text: str, start: int, stop: int) -> int | None:
        return next((r for r in range(start, stop) if texts.get((r, col)) == text), None)

    sections = [r for r in sorted(anchors) if anchors[r][2] in SECTION_ROLES]
    cursor = 0
    for prow in sections:
        hit = mapping[prow] = find(anchors[prow][0], anchors[prow][1], cursor, last + 1)
        cursor = cursor if hit is None else hit + 1
    cursor = 0
    for prow in sorted(anchors):
        if prow in sections:
            found = mapping[prow]
            cursor = cursor if found is None else max(cursor, found + 1)
            continue
        later = [r for s in sections if s > prow and (r := mapping[s]) is not None]
        stop = min(later) if later else last + 1
        col, text, _ = anchors[prow]
        hit = mapping[prow] = find(col, text, cursor, stop)
        if hit is None:
            missing.append((prow, text))
        else:
            cursor = hit + 1
    moved = any(hit is not None and hit != prow for prow, hit in mapping.items())
    prev: tuple[int, int] | None = None
    for prow in range(0, max((c.row for c in sp.cells), default=0) + 1):
        if prow in mapping:
            hit = mapping[prow]
            prev = (prow, hit) if hit is not None else None
        elif prev is not None:
            mapping[prow] = prev[1] + (prow - prev[0])
    return mapping, missing, moved
