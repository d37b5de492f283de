"""The review's changes to a return's own package: its sheets listed, cells marked, sheets added.

``Book`` reads the sheet list of workbook.xml and its relationships; it takes an earlier review's
sheets out of a returned review copy (and that review's marks off the cells: see ``unmark``),
fills, frames and annotates flagged cells by editing only their ``s`` attribute and the sheet's
notes, and puts the new sheets first. Everything else of the package is left as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from perfxl.check.sharedformula import col_name, ref_rc
from perfxl.engine.findings import ERROR, INFO, SEVERITIES, WARNING, Finding
from perfxl.form.styles import FORMULA_FILL, INPUT_FILL, SEVERITY_FILLS
from perfxl.report.notes import Notes
from perfxl.report.package_edit import (
    WORKSHEET_TYPE,
    Parts,
    R,
    Styles,
    add_override,
    add_rel,
    cell,
    drop_overrides,
    first,
    local,
    q,
    rel_targets,
    rels_name,
)
from perfxl.report.sanitize import AUTHOR, remove_sheet
from perfxl.report.sheetxml import NewSheet, clean

FILLS = {s: colour.lstrip("#") for s, colour in SEVERITY_FILLS.items()}
# A flagged cell's frame: INFO's fill is the template's own formula-cell colour, and fills fade
# on a black-and-white printer, so the mark must also show in the cell's outline.
FRAMES = {ERROR: "C00000", WARNING: "BF8F00", INFO: "2F75B5"}
SEPARATOR = "\n——\n"  # between the unit's own note and the review's, in one cell's note
_WORKBOOK_ORDER = (
    "fileVersion fileSharing workbookPr workbookProtection bookViews sheets functionGroups "
    "externalReferences definedNames"
).split()


class Book:
    """The workbook part of a package: its sheets in order, by name, with their parts."""

    def __init__(self, parts: Parts, part: str) -> None:
        self.parts, self.part = parts, part
        self.root = parts.tree(part)
        sheets = first(self.root, "sheets")
        if sheets is None:
            sheets = etree.SubElement(self.root, q("sheets"))
        self.sheets_el = sheets
        self.targets = {rid: t for rid, t in rel_targets(parts, part, "worksheet")}
        styles = [t for _, t in rel_targets(parts, part, "styles") if parts.has(t)]
        if not styles:
            styles = ["xl/styles.xml"]
            if not parts.has(styles[0]):
                add_rel(parts, part, "styles", styles[0])
                add_override(
                    parts, styles[0], "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
                )
        self.styles = Styles(parts, styles[0])

    def sheets(self) -> list[tuple[etree._Element, str, str | None]]:
        """(element, name, worksheet part or None for a chart sheet…) in workbook order."""
        out = []
        for el in self.sheets_el:
            if local(el) != "sheet":
                continue
            part = self.targets.get(el.get(f"{{{R}}}id") or "")
            out.append((el, el.get("name") or "", part if part and self.parts.has(part) else None))
        return out

    def worksheet(self, name: str) -> str | None:
        return next((p for _, n, p in self.sheets() if n == name), None)

    def remove(self, name: str) -> bool:
        """Take sheet ``name`` (an earlier review's) out of the workbook and the package."""
        for el, n, part in self.sheets():
            if n != name:
                continue
            remove_sheet(self.root, el)
            rid = el.get(f"{{{R}}}id")
            rels = self.parts.tree(rels_name(self.part))
            for rel in list(rels):
                if rel.get("Id") == rid:
                    rels.remove(rel)
            if part is not None:
                self.parts.drop(part)
                self.parts.drop(rels_name(part))
                drop_overrides(self.parts, [part])
            return True
        return False

    def add_first(self, sheets: list[tuple[str, NewSheet]], names: list[tuple[str, int, str]]) -> None:
        """Put ``sheets`` (name, sheet) first, the first of them active; ``names``: the new sheets'
        built-in names (name, sheet index, reference)."""
        taken = [int(x) for el in self.sheets_el if (x := el.get("sheetId") or "").isdigit()]
        next_id = max(taken, default=0) + 1
        shift = len(sheets)
        for name in self.root.iter(q("definedName")):
            scope = name.get("localSheetId")
            if scope is not None and scope.isdigit():
                name.set("localSheetId", str(int(scope) + shift))
        for at, (title, ws) in enumerate(sheets):
            part = self.parts.free("xl/worksheets/sheet{}.xml")
            self.parts.put(part, ws.xml())
            add_override(self.parts, part, WORKSHEET_TYPE)
            rid = add_rel(self.parts, self.part, "worksheet", part)
            el = etree.Element(q("sheet"), name=title, sheetId=str(next_id + at))
            el.set(f"{{{R}}}id", rid)
            self.sheets_el.insert(at, el)
        defined = first(self.root, "definedNames")
        if defined is None:
            defined = self._make("definedNames")
        for at, (name, scope, ref) in enumerate(names):
            el = etree.Element(q("definedName"), name=name, localSheetId=str(scope))
            if name == "_xlnm._FilterDatabase":
                el.set("hidden", "1")
            el.text = ref
            defined.insert(at, el)
        views = first(self.root, "bookViews")
        if views is None:
            views = self._make("bookViews")
        view = first(views, "workbookView")
        if view is None:
            view = etree.SubElement(views, q("workbookView"))
        view.set("activeTab", "0")
        view.set("firstSheet", "0")

    def _make(self, name: str) -> etree._Element:
        el = etree.Element(q(name))
        rank = _WORKBOOK_ORDER.index(name)
        for n, child in enumerate(self.root):
            other = local(child)
            if other not in _WORKBOOK_ORDER or _WORKBOOK_ORDER.index(other) > rank:
                self.root.insert(n, el)
                return el
        self.root.append(el)
        return el


class SheetMarks:
    """One worksheet of the return as the review edits it: its cells' formats and its notes."""

    def __init__(self, book: Book, part: str, number: int) -> None:
        self.book, self.part, self.number = book, part, number
        self.root = book.parts.tree(part)
        self.notes = Notes(book.parts, part, self.root)
        self.merged = [_bounds(m.get("ref") or "") for m in self.root.iter("{*}mergeCell")]

    def target(self, ref: str) -> str | None:
        """The cell a finding's reference points to (a range's or a merge's top-left)."""
        try:
            top, left = ref_rc(ref.replace("$", "").split(":")[0])
        except ValueError:
            return None
        for box in self.merged:
            if box and box[0] <= top <= box[2] and box[1] <= left <= box[3]:
                top, left = box[0], box[1]
                break
        return f"{col_name(left)}{top}"

    def unmark(self) -> None:
        """Take an earlier review's marks off: its notes (keeping the unit's own note) and its
        fills and frames (back to the template's input or formula look)."""
        styles = self.book.styles
        for ref, (author, text) in list(self.notes.notes.items()):
            if not ours(author, text):
                continue
            own = text.split(SEPARATOR)[0] if SEPARATOR in text else None
            if own and not _OUR_NOTE.match(own):
                self.notes.set(ref, "", own)
            else:
                self.notes.remove(ref)
            try:
                c = cell(self.root, ref)
            except ValueError:
                continue
            s = _index(c)
            look = FORMULA_FILL if styles.locked(s) else INPUT_FILL
            c.set("s", str(styles.recolour(s, styles.fill(look.lstrip("#")), styles.border("thin", None))))

    def note(self, ref: str, text: str) -> None:
        """Add the review's ``text`` to the note of ``ref`` (after the unit's own, if any)."""
        had = self.notes.notes.get(ref)
        if had is not None and had[1]:
            text = f"{had[1]}{SEPARATOR}{text}"
        self.notes.set(ref, AUTHOR, clean(text)[:32000])

    def mark(self, ref: str, found: list[Finding]) -> None:
        """Fill and frame ``ref`` by its most severe open finding; note all its findings."""
        open_ = [f for f in found if not f.explained]  # an explained 警告 or 提示 needs no eye-catcher
        worst = min(open_, key=lambda f: _rank(f.severity)) if open_ else None
        if worst is not None and worst.severity in FILLS:
            styles = self.book.styles
            c = cell(self.root, ref)
            look = styles.recolour(
                _index(c), styles.fill(FILLS[worst.severity]), styles.border("medium", FRAMES[worst.severity])
            )
            c.set("s", str(look))
        self.note(ref, "\n".join(f"【{level(f)}】{clean(f.message)}" for f in found))

    def unselect(self) -> None:
        for view in self.root.iter("{*}sheetView"):
            view.attrib.pop("tabSelected", None)

    def save(self) -> None:
        self.notes.save(self.number)


_OUR_NOTE = re.compile(
    r"【(?:错误|警告|提示)(?:·已说明)?】|原单元格的公式 .*审核副本中已改为其保存的计算结果", re.S
)


def ours(author: str, text: str) -> bool:
    """Whether a note is an earlier review's: by its author, or — LibreOffice saves notes without
    their author — by its text, each of the review's notes beginning “【错误】”, “【提示】”…"""
    if author == AUTHOR:
        return True
    return not author.strip() and _OUR_NOTE.match(text.split(SEPARATOR)[-1]) is not None


def level(f: Finding) -> str:
    return f"{f.severity}·已说明" if f.explained else f.severity


def group(findings: Iterable[Finding], sheets: dict[str, SheetMarks]) -> dict[tuple[str, str], list[Finding]]:
    """The findings by the cell they mark (sheet name, top-left cell)."""
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        marks = sheets.get(f.sheet or "")
        if marks is None or not f.cell:
            continue
        ref = marks.target(f.cell)
        if ref is not None:
            by_cell.setdefault((f.sheet or "", ref), []).append(f)
    return by_cell


def selected(parts: Parts, part: str) -> bool:
    """Whether a sheet is shown as selected (it must not be, once the review sheet is active)."""
    if part in parts.trees:
        return any(
            v.get("tabSelected") not in (None, "0", "false") for v in parts.trees[part].iter("{*}sheetView")
        )
    return b"tabSelected" in parts.data.get(part, b"")


def _bounds(ref: str) -> tuple[int, int, int, int] | None:
    ends = ref.replace("$", "").split(":")
    try:
        (r1, c1), (r2, c2) = ref_rc(ends[0]), ref_rc(ends[-1])
    except ValueError:
        return None
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _index(c: etree._Element) -> int:
    s = c.get("s") or "0"
    return int(s) if re.fullmatch(r"[0-9]{1,6}", s) else 0


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
