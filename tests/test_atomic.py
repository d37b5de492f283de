"""Outputs are written atomically, except into a target that is not a regular file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

from perfxl.atomic import write_text

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sample_workbooks" / "君山区信访局_2020.xlsx"


def _pipe_reader(pipe: Path) -> tuple[threading.Thread, list[bytes]]:
    """A new named pipe and a started thread that reads all of it into the list."""
    os.mkfifo(pipe)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(pipe.read_bytes()), daemon=True)
    reader.start()
    return reader, got


def test_a_named_pipe_is_written_into_not_replaced(tmp_path: Path) -> None:
    pipe = tmp_path / "结果.json"
    reader, got = _pipe_reader(pipe)
    write_text(pipe, '{"单位": 1}')
    reader.join(timeout=10)
    assert got == ['{"单位": 1}'.encode()]
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)  # still the pipe, not a file renamed over it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["结果.json"]  # nothing left beside it


def test_a_regular_file_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "结果.json"
    target.write_text("旧内容" * 100, encoding="utf-8")
    write_text(target, "新")
    assert target.read_text(encoding="utf-8") == "新"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["结果.json"]


def test_json_to_a_pipe_from_the_command_line(tmp_path: Path) -> None:
    """``perfxl check --json PIPE``: the JSON arrives through the pipe, which stays a pipe."""
    pipe = tmp_path / "out.json"
    reader, got = _pipe_reader(pipe)
    cmd = [sys.executable, "-m", "perfxl", "check", "--no-review", "--json", str(pipe), str(SEED)]
    done = subprocess.run(cmd, capture_output=True, timeout=120, cwd=tmp_path)
    reader.join(timeout=10)
    assert done.returncode == 1, done.stderr.decode()  # the seed has one 错误
    assert got and b'"findings"' in got[0]
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
