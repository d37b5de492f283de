"""The installed package carries its data: a wheel-installed perfxl finds its editions."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_every_edition_file(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("perfxl-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "checks"):
        for data in (ROOT / folder).glob("*.yaml"):
            assert f"perfxl/_data/{folder}/{data.name}" in names
    assert "perfxl/cli.py" in names
    web = ROOT / "perfxl" / "web"  # perfxl serve's pages and assets: no CDN, all in the wheel
    for asset in [*web.glob("templates/*.html"), *web.glob("static/*")]:
        assert asset.relative_to(ROOT).as_posix() in names
