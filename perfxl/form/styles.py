"""The look shared by the workbooks perfxl writes (template, review copy, summary): fonts, fills, row heights.

It lives with the template writer, the lowest of the three writers, so the report writers can use it too.
"""

from __future__ import annotations

# the writers measure text with these (they live in the engine, whose layout needs them too)
from perfxl.engine.text import text_width as text_width
from perfxl.engine.text import wrapped_lines as wrapped_lines

BODY_FONT = "仿宋"
TITLE_FONT = "宋体"
HEADER_FILL = "#F2F2F2"
INPUT_FILL = "#FFF2CC"  # light yellow: the unit types here
FORMULA_FILL = "#E2EFDA"  # light green: computed (the review marks 提示 in light blue)
REQUIRED_FILL = "#F8CBAD"  # orange: a required cell still blank (the template's 自查 marks it)
# Findings by severity (错误, 警告, 提示): Excel's own "bad" / "neutral" / light blue.
SEVERITY_FILLS = {"错误": "#FFC7CE", "警告": "#FFEB9C", "提示": "#DDEBF7"}
BAD_TEXT = "#9C0006"
MUTED_TEXT = "#7F7F7F"
LINE_HEIGHT = 15  # points per line of 10–11 point text, with leading
DENSE_LINE_HEIGHT = 13.5  # the summary's long tables: 10 point text, tighter
