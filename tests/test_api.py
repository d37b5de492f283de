"""perfxl.api is the library behind the CLI: every function is used by a command and documented, and
the README's example runs."""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest

from perfxl import api, cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
JOBS = [name for name in api.__all__ if inspect.isfunction(getattr(api, name))]


def _api_section() -> str:
    start = README.index("## Python 接口")
    return README[start : README.index("\n## ", start + 1)]


def test_the_api_has_a_function_for_every_job() -> None:
    assert JOBS == [
        "check_files",
        "consolidate",
        "editions",
        "fields",
        "history",
        "write_reports",
        "write_template",
        "write_templates",
    ]


@pytest.mark.parametrize("name", JOBS)
def test_every_api_function_is_used_by_the_cli(name: str) -> None:
    assert re.search(rf"\bapi\.{name}\b", inspect.getsource(cli)), f"perfxl.cli does not call api.{name}"


@pytest.mark.parametrize("name", JOBS)
def test_every_api_function_is_documented(name: str) -> None:
    assert f"`api.{name}(" in _api_section()
    assert (getattr(api, name).__doc__ or "").strip()


def test_the_readme_example_runs(tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", _api_section(), re.S)
    assert code is not None
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code.group(1), "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert (tmp_path / "审核" / "信访局_审核.xlsx").is_file()
    assert (tmp_path / "汇总.xlsx").is_file()
    assert (tmp_path / "perfxl.sqlite").is_file()


def test_check_files_keeps_an_existing_review_copy_and_says_why(tmp_path: Path) -> None:
    source = tmp_path / "a.xlsx"
    api.write_template(source, unit=api.Unit("某单位", "1", 2020))
    first = next(api.check_files([source]))
    assert first.review == tmp_path / "a_审核.xlsx" and first.review_problem is None
    again = next(api.check_files([source]))
    assert again.review is None and "已存在" in (again.review_problem or "")
    assert again.exit_code == 2


def test_a_user_mistake_is_a_perfxl_error_in_chinese(tmp_path: Path) -> None:
    with pytest.raises(api.PerfxlError, match="未知版本"):
        api.fields("no-such-edition")
    target = tmp_path / "x.xlsx"
    target.write_bytes(b"")
    with pytest.raises(api.PerfxlError, match="已存在"):
        api.write_template(target)
