"""click's own words in Chinese: usage lines, help headings, the standard options and the usage errors.

click passes every text it prints through gettext (``_`` and ``ngettext`` in a few of its modules)
but takes no catalogue other than the process-wide gettext domain, which a library must not claim.
``install()`` therefore puts this table's lookup in those modules' place, once, before the commands
are defined (the standard options' help is looked up as they are declared). A text the table lacks
stays as click wrote it, so a newer click can only fall back to English, never break;
``tests/test_cli_chinese.py`` walks every command's help and the usual slips and fails on English.

Only ``perfxl.cli`` installs it: using perfxl as a library leaves click alone.
"""

from __future__ import annotations

import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types

# click's text -> ours. The {fields} are click's; ``{name!r}`` becomes “{name}”: Chinese quotes, not repr.
TEXTS = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "用 “{command} {option}” 查看帮助。",
    "Aborted!": "已中止。",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有命令“{name}”。",
    "No such option {name!r}.": "没有选项“{name}”。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "Invalid value: {message}": "值不对：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值不对：{message}",
    "Option {name!r} does not take a value.": "选项“{name}”后面不能写值。",
    "Argument {name!r} takes {nargs} values.": "参数“{name}”要写 {nargs} 个值。",
    "Invalid start character for option ({option})": "选项开头的字符不对（{option}）",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name}“{filename}”不存在。",
    "{name} {filename!r} is a file.": "{name}“{filename}”是文件，这里要的是文件夹。",
    "{name} {filename!r} is a directory.": "{name}“{filename}”是文件夹，这里要的是文件。",
    "{name} {filename!r} is not readable.": "{name}“{filename}”没有读取权限。",
    "{name} {filename!r} is not writable.": "{name}“{filename}”没有写入权限。",
    "{name} {filename!r} is not executable.": "{name}“{filename}”不能执行。",
    "Could not open file {filename!r}: {message}": "无法打开文件“{filename}”：{message}",
    "{value!r} is not a valid {number_type}.": "“{value}”不是有效的数字。",
    "{value} is not in the range {range}.": "{value} 不在允许的范围（{range}）内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "“{value}”不是有效的是/否值。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（运行时决定）",
    "unknown error": "未知错误",
    "Value must be an iterable.": "值应为多个。",
    "deprecated": "已弃用",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不再询问，直接执行。",
    "Repeat for confirmation": "请再输入一次确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Error: invalid input": "错误：输入无效",
    "Press any key to continue...": "按任意键继续……",
}
# ngettext: (singular, plural) -> ours (Chinese has one form; click fills in every field either way)
PLURALS = {
    (
        "Got unexpected extra argument ({args})",
        "Got unexpected extra arguments ({args})",
    ): "多余的参数（{args}）",
    (
        "Did you mean {possibility}?",
        "(Did you mean one of: {possibilities}?)",
    ): "（是不是要输入 {possibility}？）",
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."): (
        "选项“{name}”后面要写值。"
    ),
    (
        "Takes {nargs} values but 1 was given.",
        "Takes {nargs} values but {len} were given.",
    ): "要写 {nargs} 个值。",
    (
        "{value!r} is not {choice}.",
        "{value!r} is not one of {choices}.",
    ): "“{value}”不是可选的值（可选：{choices}）。",
}

_MODULES = (
    click.core,
    click.decorators,
    click.exceptions,
    click.formatting,
    click.parser,
    click.termui,
    click.types,
)


def text(message: str) -> str:
    """Our text for one of click's."""
    return TEXTS.get(message, message)


def plural(singular: str, many: str, n: int) -> str:
    """Our text for one of click's counted texts."""
    return PLURALS.get((singular, many)) or (singular if n == 1 else many)


def install() -> None:
    """Make click speak Chinese (idempotent)."""
    for module in _MODULES:
        if hasattr(module, "_"):
            module._ = text  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = plural  # type: ignore[attr-defined]


__all__ = ["PLURALS", "TEXTS", "install", "plural", "text"]
