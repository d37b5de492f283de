"""Cell comments (Excel's "notes") of a worksheet in a package: read, changed, written back.

A sheet's notes live in two parts: the comments part (author and text of each) and a VML drawing
(the yellow box each is shown in). ``Notes`` reads the first, lets the review add, replace and
take off notes, and writes both again; the VML is drawn anew for every note the sheet keeps (the
boxes' positions of the unit's own notes are not worth keeping; their texts and authors are).
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from lxml import etree

from perfxl.check.sharedformula import ref_rc
from perfxl.report.package_edit import (
    MAIN,
    Parts,
    R,
    add_default,
    add_override,
    add_rel,
    first,
    local,
    place,
    q,
    rel_targets,
)
from perfxl.report.sheetxml import literal

_ESCAPED = re.compile(r"_x([0-9a-fA-F]{4})_")
COMMENTS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"


class Notes:
    """The notes of one worksheet: ``{ref: (author, text)}`` in the order the file had them."""

    def __init__(self, parts: Parts, sheet_part: str, sheet: etree._Element) -> None:
        self.parts, self.sheet_part, self.sheet = parts, sheet_part, sheet
        self.notes: dict[str, tuple[str, str]] = {}
        self.kept: dict[str, etree._Element] = {}  # a note as the file had it (rich text kept)
        self.changed = False
        found = rel_targets(parts, sheet_part, "comments")
        self.part = found[0][1] if found and parts.has(found[0][1]) else None
        if self.part is not None:
            root = parts.look(self.part)
            authors = [a.text or "" for a in root.iter(q("author"))]
            for c in root.iter(q("comment")):
                ref = c.get("ref")
                if not ref:
                    continue
                n = _int(c.get("authorId"))
                author = authors[n] if n is not None and 0 <= n < len(authors) else ""
                text = "".join(t.text or "" for t in c.iter(q("t")) if local(t.getparent()) != "rPh")
                text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)  # "_x000D_" is "\r"
                self.notes[ref] = (author, text)
                self.kept[ref] = c

    def set(self, ref: str, author: str, text: str) -> None:
        self.notes[ref] = (author, text)
        self.kept.pop(ref, None)
        self.changed = True

    def remove(self, ref: str) -> None:
        if self.notes.pop(ref, None) is not None:
            self.kept.pop(ref, None)
            self.changed = True

    def save(self, number: int) -> None:
        """Write the comments part and its drawing (``number``: the sheet's, for unique shape ids)."""
        if not self.changed:
            return
        parts = self.parts
        if self.part is None:
            self.part = parts.free("xl/comments{}.xml")
            add_rel(parts, self.sheet_part, "comments", self.part)
            add_override(parts, self.part, COMMENTS_TYPE)
        parts.put(self.part, self._comments())
        legacy = first(self.sheet, "legacyDrawing")
        rid = legacy.get(f"{{{R}}}id") if legacy is not None else None
        vml = next((p for i, p in rel_targets(self.parts, self.sheet_part, "vmlDrawing") if i == rid), None)
        if vml is None:
            vml = parts.free("xl/drawings/vmlDrawing{}.vml")
            rid = add_rel(parts, self.sheet_part, "vmlDrawing", vml)
            add_default(parts, "vml", VML_TYPE)
            el = etree.Element(f"{{{MAIN}}}legacyDrawing")
            el.set(f"{{{R}}}id", rid)
            place(self.sheet, el)
        parts.put(vml, self._vml(number).encode("utf-8"))

    def _comments(self) -> etree._Element:
        root = etree.Element(q("comments"), nsmap={None: MAIN})
        authors = etree.SubElement(root, q("authors"))
        names: dict[str, int] = {}
        listed = etree.SubElement(root, q("commentList"))
        for ref, (author, text) in self.notes.items():
            if author not in names:
                names[author] = len(names)
                etree.SubElement(authors, q("author")).text = author
            kept = self.kept.get(ref)
            if kept is not None:
                c = etree.SubElement(listed, q("comment"), ref=ref, authorId=str(names[author]))
                c.extend(el for el in list(kept) if local(el) == "text")
                continue
            c = etree.SubElement(listed, q("comment"), ref=ref, authorId=str(names[author]))
            t = etree.SubElement(etree.SubElement(c, q("text")), q("t"))
            t.text = literal(text)
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        return root

    def _vml(self, number: int) -> str:
        shapes = []
        for n, (ref, (_, text)) in enumerate(self.notes.items(), 1):
            try:
                row, col = ref_rc(ref)
            except ValueError:
                continue
            lines = min(36, 1 + text.count("\n") + len(text) // 24)
            height = min(450, 14 + 11 * lines)  # points: the box grows with its text, within reason
            anchor = f"{col}, 15, {max(row - 2, 0)}, 2, {col + 4}, 15, {max(row - 2, 0) + lines // 2 + 3}, 16"
            shapes.append(
                f'<v:shape id="_x0000_s{number * 1024 + n}" type="#_x0000_t202" '
                f'style="position:absolute;margin-left:60pt;margin-top:2pt;width:240pt;height:{height}pt;'
                f'z-index:{n};visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
                '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
                '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
                '<div style="text-align:left"></div></v:textbox>'
                '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
                f"<x:Anchor>{escape(anchor)}</x:Anchor><x:AutoFill>False</x:AutoFill>"
                f"<x:Row>{row - 1}</x:Row><x:Column>{col - 1}</x:Column></x:ClientData></v:shape>"
            )
        return (
            '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel">'
            f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{number}"/></o:shapelayout>'
            '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
            'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
            '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>' + "".join(shapes) + "</xml>"
        )


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
