"""A fresh .xlsx package holding the values of a .xls/.ods return (no formulas, no names to keep).

A .xls or .ods return is read as values only (python-calamine, in ``check.formats``); its review
copy starts from this package, one sheet per sheet of the return, text always as text.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import quoteattr

from perfxl.check.sharedformula import ref_rc
from perfxl.check.xlsxread import Workbook
from perfxl.report.package_edit import WORKSHEET_TYPE, R
from perfxl.report.sheetxml import NewSheet

MAIN_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
DATE = 1  # the cell format of a date


def values_package(values: Workbook) -> bytes:
    """The package of ``values``: its sheets in order, hidden ones hidden, dates shown as dates."""
    sheets: list[tuple[str, str, bytes]] = []  # name, state, part
    for n, sheet in enumerate(values.sheets.values(), 1):
        ws = NewSheet(plain=True)
        for ref, found in sheet.cells.items():
            try:
                row, col = ref_rc(ref)
            except ValueError:
                continue
            value = int(found.value) if isinstance(found.value, bool) else found.value
            ws.put(row, col, value, DATE if found.date else 0)
        name = sheet.name
        taken = {s[0] for s in sheets}
        if not name or len(name) > 31 or any(ch in name for ch in "[]:*?/\\") or name in taken:
            name = f"表{n}"  # a name Excel does not allow
        sheets.append((name, sheet.state, ws.xml()))
    if not sheets:
        sheets.append(("Sheet1", "visible", NewSheet(plain=True).xml()))
    listed, rels, types = [], [], []
    for n, (name, state, _) in enumerate(sheets, 1):
        hidden = f' state="{state}"' if state in ("hidden", "veryHidden") else ""
        listed.append(f'<sheet name={quoteattr(name)} sheetId="{n}"{hidden} r:id="rId{n}"/>')
        rels.append(f'<Relationship Id="rId{n}" Type="{R}/worksheet" Target="worksheets/sheet{n}.xml"/>')
        types.append(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{WORKSHEET_TYPE}"/>')
    rels.append(f'<Relationship Id="rId{len(sheets) + 1}" Type="{R}/styles" Target="styles.xml"/>')
    parts = {
        "[Content_Types].xml": f'{_HEAD}<Types xmlns="{_TYPES}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{MAIN_TYPE}"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        + "".join(types)
        + "</Types>",
        "_rels/.rels": f'{_HEAD}<Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{R}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{R}">'
        f"<sheets>{''.join(listed)}</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": f'{_HEAD}<Relationships xmlns="{_RELS}">{"".join(rels)}'
        "</Relationships>",
        "xl/styles.xml": _STYLES,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text.encode("utf-8"))
        for n, (_, _, part) in enumerate(sheets, 1):
            zf.writestr(f"xl/worksheets/sheet{n}.xml", part)
    return out.getvalue()
