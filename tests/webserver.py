"""Test helpers for ``perfxl serve``: returns made from the seed sample, and the real server run as
a user runs it (``perfxl serve`` in a subprocess, on a free loopback port), stopped afterwards.

Used by tests/test_web.py, tests/test_web_e2e.py and benchmarks/bench_serve.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from perfxl import api

ROOT = Path(__file__).resolve().parent.parent
SEED_VALUES = ROOT / "sample_workbooks" / "君山区信访局_2020.yaml"
PASSWORD, TOKEN = "测试密码-123", "test-api-token-0123456789"


def make_return(
    path: Path,
    name: str,
    code: str,
    year: int = 2020,
    *,
    p3: int = 3,
    note: str | None = None,
    more: dict[str, object] | None = None,
) -> Path:
    """The seed sample filled in for another unit. As the seed, P3 (资金结余) self-scored 3 is one
    错误; ``p3=2`` is right, and without a ``note`` (扣分原因) it is one 警告; with one it is clean.
    ``more``: other field values (the file is byte-for-byte reproducible: change one for a new file)."""
    values: dict[str, object] = {"unit.name": name, "unit.code": code, "unit.year": year, "score.P3.self": p3}
    if note is not None:
        values["score.P3.note"] = note
    values |= more or {}
    api.write_template(
        path, unit=api.Unit(name, code, year), values_path=SEED_VALUES, values=values, force=True
    )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(data_dir: Path, *args: str, workers: int = 2) -> Iterator[str]:
    """``perfxl serve`` on 127.0.0.1 and a free port; yields its base URL; stops it afterwards."""
    port = free_port()
    env = {**os.environ, "PERFXL_PASSWORD": PASSWORD, "PERFXL_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "perfxl.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--workers", str(workers), *args]
    log = open(data_dir.parent / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/login", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    text = (data_dir.parent / f"serve-{port}.log").read_text(errors="replace")
                    raise RuntimeError(f"perfxl serve did not start:\n{text}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
