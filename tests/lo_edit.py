"""Edit workbooks as a user does in LibreOffice (insert or delete rows, type into cells), for the tests.

openpyxl (``tests/mutate.py``) edits a file without knowing what a spreadsheet program would
adjust; LibreOffice does it the program's way: every formula and defined name that refers below an
inserted row is rewritten. ``edit_many`` runs ``lo_uno_edit.py`` under a Python that has
LibreOffice's ``uno`` module (Debian: ``python3-uno``), with one headless office for all jobs::

    from lo_edit import edit_many, uno_python

    edit_many([(src, dst, [["unprotect", "收支情况"], ["insert_rows", "收支情况", 9, 1]])])
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("lo_uno_edit.py")
CANDIDATES = ("/usr/lib/libreoffice/program/python", "/usr/bin/python3", "python3")

Job = tuple[Path, Path, list[list[Any]]]


@cache
def uno_python() -> str | None:
    """A Python that can ``import uno`` (LibreOffice's own, or the system's with python3-uno)."""
    if shutil.which("soffice") is None:
        return None
    for exe in CANDIDATES:
        path = shutil.which(exe)
        if path and subprocess.run([path, "-c", "import uno"], capture_output=True).returncode == 0:
            return path
    return None


def edit_many(jobs: list[Job], timeout: float = 300) -> None:
    """Apply each job's steps (see lo_uno_edit.py) to ``src``, saving ``dst``; ``src`` is untouched."""
    exe = uno_python()
    if exe is None:
        raise RuntimeError("no Python with LibreOffice's uno module (install python3-uno)")
    with tempfile.TemporaryDirectory(prefix="lo-edit-") as tmp:
        work = Path(tmp)
        # ASCII names: LibreOffice's URL conversion depends on the process locale
        spec = []
        for n, (src, _dst, steps) in enumerate(jobs):
            shutil.copyfile(src, work / f"in{n}.xlsx")
            spec.append({"src": str(work / f"in{n}.xlsx"), "dst": str(work / f"out{n}.xlsx"), "steps": steps})
        (work / "jobs.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        (work / "profile").mkdir()
        env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        done = subprocess.run(
            [exe, str(SCRIPT), str(work / "jobs.json"), str(work / "profile")],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        for n, (_src, dst, _steps) in enumerate(jobs):
            out = work / f"out{n}.xlsx"
            if not out.is_file():
                raise RuntimeError(f"LibreOffice did not save job {n}: {done.stdout}\n{done.stderr}")
            shutil.move(out, dst)
