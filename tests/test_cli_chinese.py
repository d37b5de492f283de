"""Every word a user reads on the command line is Chinese: each command's help and the usual slips.

English that may stay: command and option names, file names and extensions, product names (Excel,
WPS, JSON…), field ids, and the example commands themselves. Anything else of two or more Latin
letters fails the test, so a click upgrade that adds a text, or a new option without a Chinese
metavar, is caught here.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from perfxl.cli import cli

SEED = Path(__file__).resolve().parent.parent / "sample_workbooks" / "君山区信访局_2020.xlsx"
ALLOWED = {
    "perfxl",
    *cli.commands,
    "id",
    "xlsx",
    "xlsm",
    "xls",
    "et",
    "ods",
    "docx",
    "csv",
    "CSV",
    "JSON",
    "YAML",
    "SQLite",
    "SQLAlchemy",
    "PostgreSQL",
    "Excel",
    "WPS",
    "Word",
    "sqlite",
    "hunan",
    "quality",
    "prior_year",
    "python",
    "UTF",  # as in “另存为 UTF-8”
    "Tab",  # the key on the keyboard
}
WIDTH = 80  # columns of a narrow terminal (Windows' console has 120); a CJK character takes two


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), prog_name="perfxl", terminal_width=WIDTH)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output


def english(text: str, typed: tuple[str, ...] = ()) -> list[str]:
    """Latin words of two or more letters that are not names a user types (or what they typed)."""
    words = []
    for word in typed:
        text = text.replace(word, " ")
    for line in text.splitlines():
        if line.strip().startswith("perfxl "):  # an example: a command as typed
            continue
        line = re.sub(r"(?<![\w.])-{1,2}[a-z][a-z-]*", " ", line)  # option names
        line = re.sub(r"[\w./-]*\.(xlsx|xlsm|xls|csv|json|sqlite|docx|yaml)\b", " ", line)  # file names
        line = re.sub(
            r"\b[a-z]+(\.\w+)+\b", " ", line
        )  # field ids and keys: income.org.carryover, rows.0.type
        line = re.sub(r"“[^”]*”", " ", line)  # a key or value quoted as the user wrote it
        words += [w for w in re.findall(r"[A-Za-z][A-Za-z_]+", line) if w not in ALLOWED]
    return words


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


HELPS = [[], *([name] for name in sorted(cli.commands))]


@pytest.mark.parametrize("command", HELPS, ids=lambda c: " ".join(c) or "perfxl")
def test_help_is_chinese(command: list[str]) -> None:
    text = run(*command, "--help")
    assert text.startswith("用法：perfxl"), text
    assert "选项：" in text and "显示本帮助并退出。" in text
    assert english(text) == [], text


@pytest.mark.parametrize("command", [c for c in HELPS if c], ids=lambda c: c[0])
def test_examples_are_whole_commands_that_fit_a_narrow_terminal(command: list[str]) -> None:
    """Each example line is one whole command, never wrapped mid-command, and fits 80 columns."""
    text = run(*command, "--help")
    block = text.split("示例：", 1)[1].split("选项：", 1)[0]
    lines = [line for line in block.splitlines() if line.strip()]
    assert lines and all(line.strip().startswith(f"perfxl {command[0]}") for line in lines), block
    assert all(display_width(line) <= WIDTH for line in lines), [display_width(line) for line in lines]


SLIPS = [
    pytest.param(["chek", "a.xlsx"], "没有命令“chek”", id="no-such-command"),
    pytest.param(["check", "--nosuch", "a.xlsx"], "没有选项“--nosuch”", id="no-such-option"),
    pytest.param(["check", "--jsn", "-", "a.xlsx"], "是不是要输入", id="option-misspelt"),
    pytest.param(["check"], "请给出要审核的报表文件", id="check-without-files"),
    pytest.param(["consolidate", "."], "请用 -o 指定汇总工作簿", id="consolidate-without-o"),
    pytest.param(["history", "--unit", "430611"], "请用 --db 指定数据库", id="history-without-db"),
    pytest.param(["consolidate", "不存在的文件夹", "-o", "a.xlsx"], "不存在", id="path-does-not-exist"),
    pytest.param(["template", "--roster", "不存在.csv"], "不存在", id="file-does-not-exist"),
    pytest.param(["template", "-o", "."], "是文件夹", id="output-is-a-folder"),
    pytest.param(
        ["template", "--year", "二〇二〇", "-o", "a.xlsx"], "不是有效的数字", id="year-not-a-number"
    ),
    pytest.param(["consolidate", ".", "-o", "a.xlsx", "--workers", "0"], "不在允许的范围", id="workers-0"),
    pytest.param(["template", "-o"], "后面要写值", id="option-without-value"),
    pytest.param(["editions", "多余"], "多余的参数", id="extra-argument"),
    pytest.param(["check", "--tolerance", "很小", str(SEED)], "--tolerance 应为数字", id="tolerance"),
    pytest.param(["--version"], "perfxl 版本", id="version"),
    # what the operating system says, in Chinese
    pytest.param(["check", "不存在的报表.xlsx"], "不存在", id="check-missing-file"),
    pytest.param(["check", "."], "文件夹", id="check-a-folder"),
]


@pytest.mark.parametrize(("args", "says"), SLIPS)
def test_usual_slips_are_said_in_chinese(args: list[str], says: str, tmp_path: Path) -> None:
    text = run(*args)
    assert says in text, text
    typed = tuple(a for a in args if len(a) > 1 and not a.startswith("-"))  # shown back as typed
    assert english(text, typed) == [], text


# --------------------------------------------------------------------------- a faulty edition file

ROOT = Path(__file__).resolve().parent.parent
GOOD_FORM = (ROOT / "templates" / "hunan-2020.yaml").read_text(encoding="utf-8")
GOOD_RUBRIC = (ROOT / "checks" / "hunan-2020.yaml").read_text(encoding="utf-8")
FAULTS = [
    pytest.param(GOOD_FORM.encode("gb18030"), GOOD_RUBRIC, ("UTF-8",), id="saved-as-gbk"),
    pytest.param(GOOD_FORM.replace("\n  ", "\n\t", 1).encode(), GOOD_RUBRIC, ("第 ", "行", "Tab"), id="tab"),
    pytest.param(
        GOOD_FORM.encode(), GOOD_RUBRIC + "\nform: hunan-2020\n", ("form", "写了两次"), id="key-twice"
    ),
    pytest.param(
        GOOD_FORM.replace("type: text, required: true}", "type: [text], required: true}", 1).encode(),
        GOOD_RUBRIC,
        ("basic.rows.0.0.type", "未知字段类型"),
        id="type-a-list",
    ),
]


@pytest.mark.parametrize(("form", "rubric", "says"), FAULTS)
def test_faulty_edition_is_named_with_file_and_key(
    form: bytes, rubric: str, says: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hand-edited edition with a mistake: `perfxl editions` still lists the good ones and says,
    in Chinese, which file and where the bad one is wrong (exit 2), never a traceback."""
    templates, checks = tmp_path / "templates", tmp_path / "checks"
    templates.mkdir()
    checks.mkdir()
    (templates / "hunan-2020.yaml").write_text(GOOD_FORM, encoding="utf-8")
    (checks / "hunan-2020.yaml").write_text(GOOD_RUBRIC, encoding="utf-8")
    (templates / "hunan-2021.yaml").write_bytes(form.replace(b"edition: hunan-2020", b"edition: hunan-2021"))
    (checks / "hunan-2021.yaml").write_text(rubric.replace("form: hunan-2020", "form: hunan-2021"))
    monkeypatch.setattr("perfxl.spec.load.data_dirs", lambda: (templates, checks))
    result = CliRunner().invoke(cli, ["editions"], prog_name="perfxl")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "hunan-2020\t" in result.stdout  # the good edition is still listed
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("hunan-2021")]
    assert "hunan-2021.yaml" in line and all(s in line for s in says), line
    said = line.replace(str(tmp_path), "").replace("hunan-2021", "").split("可用：")[0]  # keys one may write
    assert english(said) == [], line
