"""The 绩效评价报告 as a Word document (python-docx only lives here).

Official title with unit and year, the sections 一–六 from the 评价报告 sheet (the draft written
from the tables where the unit wrote nothing, marked as such), the form's 收支 and 三公 tables,
and the 评分表 with the self-scores beside the scores perfxl recomputed. A4, 仿宋 body, 黑体
headings, 宋体 tables, page numbers; written atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from docx import Document
from docx.document import Document as Doc
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from perfxl.atomic import atomic_target
from perfxl.check.result import CheckResult
from perfxl.engine.layout import Plan, unit_rows
from perfxl.form.styles import BODY_FONT, TITLE_FONT
from perfxl.spec.kinds.common import quantize
from perfxl.spec.model import Table as FormTable
from perfxl.spec.narrative import draft_id

HEADING_FONT = "黑体"
DRAFT_FONT = "楷体"
BODY_SIZE = Pt(16)  # 三号, as official documents are set
TABLE_SIZE = Pt(9)
ROW_HEIGHT = Cm(0.6)
LINE = Pt(28)  # fixed line pitch of the body: 22 lines a page
GREY = RGBColor(0x59, 0x59, 0x59)
TEXT_WIDTH = Cm(15.6)  # A4 less the margins below
DRAFT_MARK = "【本节未填写，以下为按报表数据自动生成的参考文字】"
BLANK_MARK = "（本节未填写。）"
SCORE_HEADER = ("一级指标", "二级指标", "三级指标", "分值", "自评得分", "复核得分", "扣分原因和其他说明")
SCORE_WIDTHS = (2.0, 2.0, 3.6, 1.1, 1.3, 1.3, 4.3)  # cm, adding up to TEXT_WIDTH
SCORE_NOTE = (
    "注：复核得分是财政部门审核时按评分标准、根据报表数据独立计算的得分；加粗的复核得分与自评得分不一致。"
)


def write_report(plan: Plan, result: CheckResult, own: Mapping[str, str], output: Path) -> Path:
    """Write the report of one checked return; ``own`` is the unit's text of each section (by part id)."""
    spec = plan.edition.form.narrative
    if spec is None:
        raise ValueError(f"版本 {plan.edition.name} 没有评价报告表样，无法生成 Word 报告")
    doc = Document()
    _page_setup(doc)
    _styles(doc)
    unit = result.unit or "（单位名称未填）"
    year = f"{result.year}年" if result.year else ""
    doc.core_properties.title = f"{unit}{year}{spec.title}"
    doc.core_properties.author = "perfxl"
    doc.core_properties.comments = f"据 {Path(result.file).name}（SHA-256 {result.sha256}）生成"

    _title(doc, unit, f"{year}{spec.title}")
    for chapter in spec.chapters:
        if chapter.heading:
            doc.add_paragraph(chapter.heading, style="Heading 1")
        for part in chapter.parts:
            if part.heading:
                doc.add_paragraph(part.heading, style="Heading 2")
            titled = bool(part.heading or chapter.heading)
            _section_text(doc, own.get(part.id), result.computed.get(draft_id(part)), titled)
    _signature(doc, unit)

    tables = {t.id: t for t in plan.edition.form.tables}
    for n, table_id in enumerate(spec.tables, start=1):
        _finance_table(doc, plan, result, tables[table_id], f"附表{n}", first=n == 1)
    _score_table(doc, plan, result, f"附表{len(spec.tables) + 1}")
    with atomic_target(output) as tmp:
        doc.save(str(tmp))
    return output


# ------------------------------------------------------------------ page and styles


def _page_setup(doc: Doc) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(footer, "— ", TITLE_FONT, Pt(14))
    _page_field(footer)
    _run(footer, " —", TITLE_FONT, Pt(14))


def _page_field(paragraph: Paragraph) -> None:
    """The current page number as a field Word, WPS and LibreOffice all update."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    _set_fonts(props, TITLE_FONT)
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "28")
    props.append(size)
    run.append(props)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _styles(doc: Doc) -> None:
    normal = doc.styles["Normal"]
    normal.font.size = BODY_SIZE
    _set_fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, LINE
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.first_line_indent = Pt(32)  # two characters
    fmt.widow_control = True
    for name in ("Heading 1", "Heading 2"):  # 一、 and （一） headings: 黑体 三号, like the body's size
        style = doc.styles[name]
        style.font.size, style.font.bold, style.font.italic = BODY_SIZE, False, False
        style.font.color.rgb = RGBColor(0, 0, 0)
        _set_fonts(style.element.get_or_add_rPr(), HEADING_FONT)
        pf = style.paragraph_format
        pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, LINE
        pf.space_before, pf.space_after = Pt(0), Pt(0)
        pf.first_line_indent = Pt(32)
        pf.keep_with_next = True


def _set_fonts(rpr: object, name: str) -> None:
    """Latin and East Asian font of a run's or style's properties (python-docx sets only the Latin one)."""
    fonts = rpr.find(qn("w:rFonts"))  # type: ignore[attr-defined]
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)  # type: ignore[attr-defined]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)


def _run(
    paragraph: Paragraph, text: str, font: str, size: Pt, bold: bool = False, colour: RGBColor | None = None
):  # type: ignore[no-untyped-def]
    run = paragraph.add_run(text)
    run.font.size, run.font.bold = size, bold
    _set_fonts(run._r.get_or_add_rPr(), font)
    if colour is not None:
        run.font.color.rgb = colour
    return run


# ------------------------------------------------------------------ the text


def _title(doc: Doc, unit: str, title: str) -> None:
    for text in (unit, title):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.first_line_indent = Pt(0)
        p.paragraph_format.line_spacing = Pt(36)
        _run(p, text, TITLE_FONT, Pt(22), bold=True)
    doc.add_paragraph().paragraph_format.line_spacing = Pt(20)


def _section_text(doc: Doc, own: str | None, draft: object, titled: bool) -> None:
    """The unit's paragraphs; else the draft, under a note saying so; else (under a heading) a note."""
    paragraphs = _paragraphs(own)
    if paragraphs:
        for text in paragraphs:
            doc.add_paragraph(text)
        return
    drafted = _paragraphs(draft if isinstance(draft, str) else None)
    if not drafted:
        if titled:
            _run(doc.add_paragraph(), BLANK_MARK, DRAFT_FONT, BODY_SIZE, colour=GREY)
        return
    _run(doc.add_paragraph(), DRAFT_MARK, DRAFT_FONT, Pt(14), colour=GREY)
    for text in drafted:
        _run(doc.add_paragraph(), text, BODY_FONT, BODY_SIZE, colour=GREY)


def _paragraphs(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").split("\n") if line.strip()]


def _signature(doc: Doc, unit: str) -> None:
    doc.add_paragraph()
    for text in (unit, "年    月    日"):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.first_line_indent = Pt(0)
        p.paragraph_format.right_indent = Pt(32)
        _run(p, text, BODY_FONT, BODY_SIZE)


# ------------------------------------------------------------------ the tables


def _appendix(doc: Doc, label: str, title: str, *, new_page: bool) -> None:
    if new_page:
        doc.add_page_break()
    p = doc.add_paragraph(style="Heading 1")
    p.paragraph_format.first_line_indent = Pt(0)
    _run(p, label, HEADING_FONT, Pt(14))
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Pt(0)
    p.paragraph_format.keep_with_next = True
    _run(p, title, HEADING_FONT, Pt(14))


def _finance_table(
    doc: Doc, plan: Plan, result: CheckResult, table: FormTable, label: str, first: bool
) -> None:
    """One table of the 收支情况 sheet: its 汇总 row, the 局机关 row, and the 二级机构 rows with data."""
    values = result.fact_values()
    typed = [c for c in table.columns if c.formula is None]  # a row's own computed cells are never blank
    rows = [
        (rid, name)
        for rid, name in unit_rows(plan.edition, plan.options)
        if rid in ("total", "org") or any(values.get(f"{table.id}.{rid}.{c.id}") is not None for c in typed)
    ]
    _appendix(doc, label, table.title, new_page=first)
    header = [plan.edition.form.finance["row_header"], *(c.header[-1] for c in table.columns)]
    label_width = 3.6
    rest = (TEXT_WIDTH.cm - label_width) / len(table.columns)
    grid = _grid(doc, len(rows) + 1, [label_width] + [rest] * len(table.columns))
    for c, text in enumerate(header):
        _cell(grid.cell(0, c), text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for r, (rid, name) in enumerate(rows, start=1):
        _cell(grid.cell(r, 0), name, bold=rid == "total")
        for c, col in enumerate(table.columns, start=1):
            value = _amount(values.get(f"{table.id}.{rid}.{col.id}"))
            _cell(grid.cell(r, c), value, bold=rid == "total", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _repeat_header(grid)
    doc.add_paragraph().paragraph_format.line_spacing = Pt(14)


def _score_table(doc: Doc, plan: Plan, result: CheckResult, label: str) -> None:
    """The 评分表: each item's 分值, the unit's 自评得分, perfxl's 复核得分 and the unit's 扣分原因."""
    form, rubric = plan.edition.form, plan.edition.rubric
    items = {i.id: i for i in result.items}
    _appendix(doc, label, form.rubric_sheet["title"], new_page=True)
    grid = _grid(doc, len(rubric.items) + 3, list(SCORE_WIDTHS))
    centre = WD_ALIGN_PARAGRAPH.CENTER
    for c, text in enumerate(SCORE_HEADER):
        _cell(grid.cell(0, c), text, bold=True, align=centre)
    row = 1
    for section in rubric.sections:
        top = row
        for group in section.groups:
            group_top = row
            for item in group.items:
                got = items.get(item.id)
                note = result.facts.get(f"score.{item.id}.note")
                _cell(grid.cell(row, 2), item.name)
                _cell(grid.cell(row, 3), _score(item.max), align=centre)
                _cell(grid.cell(row, 4), _score(got.self if got else None), align=centre)
                differs = got is not None and got.self != got.recomputed
                _cell(grid.cell(row, 5), _score(got.recomputed if got else None), align=centre, bold=differs)
                _cell(grid.cell(row, 6), note if isinstance(note, str) else "")
                row += 1
            _cell(
                grid.cell(group_top, 1).merge(grid.cell(row - 1, 1)),
                f"{group.label}\n（{_score(group.max)}分）",
                align=centre,
            )
        _cell(
            grid.cell(top, 0).merge(grid.cell(row - 1, 0)),
            f"{section.label}\n（{_score(section.max)}分）",
            align=centre,
        )
    lines = (
        (
            form.rubric_sheet["total_label"],
            _score(rubric.total),
            _score(result.reported_total),
            _score(result.recomputed_total),
        ),
        (form.rubric_sheet["grade_label"], "", result.reported_grade or "", result.recomputed_grade or ""),
    )
    for r, texts in enumerate(lines, start=row):
        _cell(grid.cell(r, 0).merge(grid.cell(r, 2)), texts[0], bold=True, align=centre)
        for c, text in enumerate(texts[1:], start=3):
            _cell(grid.cell(r, c), text, bold=True, align=centre)
        for cell in grid.rows[r].cells:  # 总分 and 评价等次 on one page
            cell.paragraphs[0].paragraph_format.keep_with_next = r == row
    _repeat_header(grid)
    note = doc.add_paragraph()
    note.paragraph_format.first_line_indent = Pt(0)
    note.paragraph_format.line_spacing = Pt(18)
    _run(note, SCORE_NOTE, BODY_FONT, Pt(10.5))


def _grid(doc: Doc, rows: int, widths_cm: list[float]) -> Table:
    grid = doc.add_table(rows=rows, cols=len(widths_cm))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    for c, column in enumerate(grid.columns):
        column.width = Cm(widths_cm[c])  # the grid LibreOffice and WPS lay out by
    for row in grid.rows:
        row.height, row.height_rule = ROW_HEIGHT, WD_ROW_HEIGHT_RULE.AT_LEAST
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # a row never breaks across pages
        for c, cell in enumerate(row.cells):
            cell.width = Cm(widths_cm[c])  # and the cell widths Word lays out by
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    return grid


def _cell(
    cell: _Cell, text: str, *, bold: bool = False, align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.LEFT
) -> None:
    """A table cell's text in the table font (a merged cell keeps one paragraph)."""
    for extra in cell.paragraphs[1:]:
        extra._p.getparent().remove(extra._p)
    p = cell.paragraphs[0]
    for run in list(p.runs):
        run._r.getparent().remove(run._r)
    p.paragraph_format.first_line_indent = Pt(0)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    p.alignment = align
    for k, line in enumerate(text.split("\n")):
        run = _run(p, line, TITLE_FONT, TABLE_SIZE, bold=bold)
        if k:
            run._r.addprevious(_break())


def _break() -> object:
    run = OxmlElement("w:r")
    run.append(OxmlElement("w:br"))
    return run


def _repeat_header(grid: Table) -> None:
    """The header row again at the top of every page the table runs onto."""
    grid.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))


def _amount(value: object) -> str:
    return f"{quantize(value, 2):.2f}" if isinstance(value, Decimal) else ""


def _score(value: Decimal | None) -> str:
    if value is None:
        return ""
    return "0" if value == 0 else format(quantize(value, 2).normalize(), "f")
