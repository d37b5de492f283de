"""Tell whether a formula reaches outside the workbook: DDE, other files, the network, programs.

Such a formula in a returned workbook runs (or asks to run) when the bureau opens the file, so
the checker reports it as an 错误 and the review copy never carries it live. A formula is lexed
once, left to right (string literals and quoted sheet names set apart), so the cost is linear in
its length; results are cached, since the same formula texts come back in every return.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["danger"]

# Functions that reach outside the workbook, and what each does there.
_FUNCTIONS = {
    "WEBSERVICE": "访问网络地址",
    "FILTERXML": "解析外部取得的数据",
    "IMAGE": "从网络加载图片",
    "RTD": "连接外部实时数据服务",
    "CALL": "调用外部程序库",
    "REGISTER": "注册并调用外部程序库",
    "REGISTER.ID": "注册并调用外部程序库",
    "EXEC": "运行外部程序",
    "FOPEN": "读写磁盘文件",
    "FWRITE": "读写磁盘文件",
    "FWRITELN": "读写磁盘文件",
    "FREAD": "读写磁盘文件",
    "FREADLN": "读写磁盘文件",
    "FILES": "列出磁盘文件",
    "DIRECTORY": "访问磁盘目录",
    "SQL.REQUEST": "连接外部数据库",
    "DDE": "DDE 调用（可启动其他程序）",
    "DDEAUTO": "DDE 调用（可启动其他程序）",
}
_PREFIXES = ("_XLFN._XLWS.", "_XLFN.", "_XLWS.", "_XLETA.")
_CALL_RE = re.compile(r"([A-Za-z_\\][A-Za-z0-9_.\\]*)\s*\(")
_OUTSIDE_RE = re.compile(r"://|^\\\\|^[A-Za-z]:[\\/]|^(?:mailto|file|ftp|news|telnet):|\[", re.IGNORECASE)
# Every name the loop below can act on contains one of these: a formula without any needs no loop.
_RISKY_NAMES = (*_FUNCTIONS, "_XLL.", "HYPERLINK", "INDIRECT")
# Characters Excel forbids in sheet names: a quoted "name" holding one is a path to another file.
_PATH_CHARS = frozenset("[]\\/:?*")


@lru_cache(maxsize=4096)
def danger(formula: str) -> str | None:
    """Why ``formula`` (with or without its leading ``=``) reaches outside the workbook, in
    Chinese (e.g. “DDE 调用（可启动其他程序）”); ``None`` for a formula that stays inside."""
    code, literals, quoted = _lex(formula)
    if "|" in code:
        return "DDE 调用（可启动其他程序）"
    if any(_PATH_CHARS & set(name) for name in quoted) or ("[" in code and _external_bracket(code)):
        return "引用了其他工作簿（外部链接）"
    upper = code.upper()
    if not any(name in upper for name in _RISKY_NAMES):  # most formulas: no call needs examining
        return None
    for m in _CALL_RE.finditer(code):
        name = m.group(1).upper()
        for prefix in _PREFIXES:
            name = name.removeprefix(prefix)
        if name.startswith("_XLL."):
            return f"{name[5:] or name} 是加载项函数（调用外部程序库）"
        if name in _FUNCTIONS:
            return f"{name} 函数：{_FUNCTIONS[name]}"
        if name == "HYPERLINK" and not (literals and all(s.startswith("#") for s in literals)):
            return "HYPERLINK 函数：链接到工作簿以外的位置"
        if name == "INDIRECT" and any(_OUTSIDE_RE.search(s) for s in literals):
            return "INDIRECT 函数：间接引用其他文件"
    return None


# One token of a formula: a string literal, a quoted sheet name (either may be left open at the
# end; a doubled quote inside is an escaped one) or a run of anything else.
_TOKEN = re.compile(r"\"((?:[^\"]|\"\")*)\"?|'((?:[^']|'')*)'?|[^\"']+")


def _lex(formula: str) -> tuple[str, list[str], list[str]]:
    """(the formula outside strings and quoted names, its string literals, its quoted names)."""
    code: list[str] = []
    literals: list[str] = []
    quoted: list[str] = []
    for m in _TOKEN.finditer(formula):
        literal, name = m.group(1, 2)
        if literal is not None:
            literals.append(literal.replace('""', '"'))
            code.append(" ")
        elif name is not None:
            quoted.append(name.replace("''", "'"))
            code.append("'Q'")
        else:
            code.append(m.group())
    return "".join(code), literals, quoted


def _external_bracket(code: str) -> bool:
    """A ``[`` that opens a workbook reference (``[1]Sheet1!A1``), not a table's column
    (``表1[金额]``, ``表1[[#本行],[金额]]``, where it follows the table's name)."""
    depth = 0
    for i, ch in enumerate(code):
        if ch == "[":
            if depth == 0 and not _names_a_table(code[:i].rstrip()):
                return True
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
            if depth == 0 and _SHEET_AFTER.match(code, i + 1):
                return True  # [book]Sheet!A1, whatever came before the "["
    return False


# A sheet name and "!" right after a closing bracket: only a workbook reference looks like that.
_SHEET_AFTER = re.compile(r"[^\s!(),;:+\-*/&=<>^%\[\]{}]+!")


def _names_a_table(before: str) -> bool:
    """Whether ``before`` ends with a name (a table's: starts with a letter, _ or \\)."""
    j = len(before)
    while j > 0 and (before[j - 1].isalnum() or before[j - 1] in "_.\\"):
        j -= 1
    name = before[j:]
    return bool(name) and not name[0].isdigit() and not name[0] == "."
