"""Headless LibreOffice as an independent formula calculator for the tests.

perfxl writes workbooks with xlsxwriter, which stores a *cached* value next to
every formula.  Reading such a file back with ``openpyxl(data_only=True)`` only
shows what Python claimed the result would be.  To check the formulas
themselves, the tests let LibreOffice open the file, recalculate every formula
and save a copy; the copy is then read back with openpyxl::

    from lo_recalc import recalc_many, soffice_available

    out = recalc_many([path], tmp_path / "lo")[path]
    wb = openpyxl.load_workbook(out, data_only=True)

Two LibreOffice behaviours this module has to work around:

* By default Calc does **not** recalculate OOXML files on load: it trusts the
  cached ``<v>`` values (the shipped default of
  ``/org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode`` is 1, "never"),
  and it ignores ``<calcPr fullCalcOnLoad="1"/>`` which xlsxwriter writes.
  Each call therefore runs soffice with a private, throw-away user profile whose
  ``registrymodifications.xcu`` sets ``OOXMLRecalcMode`` (and ``ODFRecalcMode``)
  to 0, "always recalculate".
* ``soffice --convert-to`` exits with status 0 even when a file could not be
  loaded; it only prints "Error: source file could not be loaded".  Every
  expected output is therefore checked, and a missing one raises
  :class:`LibreOfficeError` carrying soffice's output.

Starting soffice costs about a second, so all files of one call are converted by
a single soffice process.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "DEFAULT_TIMEOUT",
    "LibreOfficeError",
    "convert_many",
    "recalc_many",
    "soffice_available",
    "soffice_path",
    "to_pdf_many",
]

DEFAULT_TIMEOUT = 300.0
"""Seconds one soffice invocation may take before it is killed."""

# ``--convert-to EXT:FILTER``.  No shell is involved, so no quotes around the
# filter name: they would become part of it.
XLSX_CONVERT_TO = "xlsx:Calc MS Excel 2007 XML"
PDF_CONVERT_TO = "pdf"

# RecalcMode values of officecfg (ScRecalcOptions): 0 always, 1 never, 2 ask.
_RECALC_ALWAYS = 0
_RECALC_NEVER = 1

_XCU_TEMPLATE = """\
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc">\
<prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


class LibreOfficeError(RuntimeError):
    """soffice failed, timed out, or did not produce every expected file."""


def soffice_path() -> str | None:
    """Absolute path of the ``soffice`` executable, or None."""
    return shutil.which("soffice")


def soffice_available() -> bool:
    """True when a headless LibreOffice (``soffice``) is on PATH."""
    return soffice_path() is not None


def write_profile(profile_dir: Path, *, recalc_on_load: bool = True) -> Path:
    """Pre-seed a LibreOffice user profile; return its ``-env:UserInstallation`` URL.

    With ``recalc_on_load=False`` the profile pins the "never recalculate"
    mode instead, which the tests use as a control experiment.
    """
    user = profile_dir / "user"
    user.mkdir(parents=True, exist_ok=True)
    mode = _RECALC_ALWAYS if recalc_on_load else _RECALC_NEVER
    (user / "registrymodifications.xcu").write_text(_XCU_TEMPLATE.format(mode=mode), encoding="utf-8")
    return profile_dir.resolve().as_uri()


def _plan(
    paths: Iterable[os.PathLike[str] | str], out_dir: Path, suffix: str
) -> dict[Path, tuple[Path, Path]]:
    """Map each given path to (absolute source, expected output); validate."""
    plan: dict[Path, tuple[Path, Path]] = {}
    taken: dict[Path, Path] = {}
    for given in paths:
        src = Path(given).resolve()
        if not src.is_file():
            raise FileNotFoundError(f"no such file to convert: {given}")
        out = out_dir / (src.stem + suffix)
        if out == src:
            raise ValueError(f"converting {src} into {out_dir} would overwrite the input")
        if out in taken and taken[out] != src:
            raise ValueError(
                f"{taken[out]} and {src} would both be converted to {out}; "
                "use different file names or separate calls"
            )
        taken[out] = src
        plan[Path(given)] = (src, out)
    return plan


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run soffice in its own process group so a timeout kills soffice.bin too."""
    with subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            stdout, stderr = proc.communicate()
            raise LibreOfficeError(
                f"soffice did not finish within {timeout:g} s\n"
                f"command: {cmd}\nstdout:\n{stdout}\nstderr:\n{stderr}"
            ) from None
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def convert_many(
    paths: Iterable[os.PathLike[str] | str],
    out_dir: os.PathLike[str] | str,
    convert_to: str,
    suffix: str,
    *,
    recalc_on_load: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[Path, Path]:
    """Convert all ``paths`` with ONE soffice process into ``out_dir``.

    ``convert_to`` is soffice's ``--convert-to`` argument and ``suffix`` the
    extension soffice gives the outputs (``out_dir / (stem + suffix)``).
    Returns ``{Path(given): output path}``, keyed by the paths as passed in
    (not resolved), so callers can index with their own ``Path`` objects.
    Existing outputs of the same names are removed first, so a stale file
    can never pass for a fresh conversion.
    """
    out_root = Path(out_dir).resolve()
    plan = _plan(paths, out_root, suffix)
    if not plan:
        return {}
    exe = soffice_path()
    if exe is None:
        raise LibreOfficeError("soffice not found on PATH (install libreoffice-calc-nogui)")
    out_root.mkdir(parents=True, exist_ok=True)
    for _src, out in plan.values():
        out.unlink(missing_ok=True)
    sources = list(dict.fromkeys(src for src, _out in plan.values()))

    with tempfile.TemporaryDirectory(prefix="lo-profile-", ignore_cleanup_errors=True) as prof:
        cmd = [
            exe,
            f"-env:UserInstallation={write_profile(Path(prof), recalc_on_load=recalc_on_load)}",
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--norestore",
            "--convert-to",
            convert_to,
            "--outdir",
            str(out_root),
            *(str(s) for s in sources),
        ]
        result = _run(cmd, timeout)

    missing = [str(given) for given, (_src, out) in plan.items() if not out.is_file()]
    if result.returncode != 0 or missing:
        raise LibreOfficeError(
            f"soffice exited with status {result.returncode}; "
            f"missing output for {len(missing)} of {len(plan)} file(s): {missing}\n"
            f"command: {cmd}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return {given: out for given, (_src, out) in plan.items()}


def recalc_many(
    paths: Iterable[os.PathLike[str] | str],
    out_dir: os.PathLike[str] | str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[Path, Path]:
    """Open every workbook in LibreOffice, recalculate all formulas, save as .xlsx.

    One soffice process handles all files.  Returns ``{input: out_dir/<stem>.xlsx}``;
    read the results with ``openpyxl.load_workbook(out, data_only=True)``.
    """
    return convert_many(paths, out_dir, XLSX_CONVERT_TO, ".xlsx", timeout=timeout)


def to_pdf_many(
    paths: Iterable[os.PathLike[str] | str],
    out_dir: os.PathLike[str] | str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[Path, Path]:
    """Render every workbook (recalculated on load) to ``out_dir/<stem>.pdf``.

    Turn pages into PNGs for a look with ``pdftoppm -png -r 80 file.pdf prefix``.
    """
    return convert_many(paths, out_dir, PDF_CONVERT_TO, ".pdf", timeout=timeout)
