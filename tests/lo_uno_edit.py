"""Edit workbooks in a headless LibreOffice the way a user does (run by a Python that has ``uno``).

Not imported by the tests: ``tests/lo_edit.py`` runs it as

    python3 lo_uno_edit.py JOBS.json PROFILE_DIR

where JOBS.json is a list of ``{"src", "dst", "steps": [...]}``; each step is one user action:
``["unprotect", sheet]``, ``["insert_rows", sheet, row (1-based), count]``,
``["delete_rows", sheet, row, count]``, ``["set", sheet, "A9", value]`` (a number, a text, or a
formula starting with "=").
Each workbook is loaded, edited through Calc's own API (the code behind the menu commands, so
formulas and defined names are adjusted exactly as in the program) and saved as .xlsx.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]


def _prop(name: str, value: object) -> PropertyValue:
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def _connect(pipe: str):  # noqa: ANN202 - UNO objects have no Python types
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(300):
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:  # the office is still starting
            time.sleep(0.1)
    raise SystemExit("LibreOffice did not start")


def _apply(doc, step: list) -> None:  # noqa: ANN001
    action, sheet = step[0], doc.Sheets.getByName(step[1])
    if action == "unprotect":
        sheet.unprotect("")
    elif action == "insert_rows":
        sheet.Rows.insertByIndex(step[2] - 1, step[3])
    elif action == "delete_rows":
        sheet.Rows.removeByIndex(step[2] - 1, step[3])
    elif action == "set":
        cell = sheet.getCellRangeByName(step[2])
        if isinstance(step[3], str) and step[3].startswith("="):
            cell.setFormula(step[3])
        elif isinstance(step[3], str):
            cell.setString(step[3])
        else:
            cell.setValue(step[3])
    else:
        raise SystemExit(f"unknown step {action}")


def main() -> None:
    jobs = json.loads(open(sys.argv[1], encoding="utf-8").read())
    profile = sys.argv[2]
    pipe = f"perfxl_edit_{os.getpid()}"
    office = subprocess.Popen(
        [
            "soffice",
            f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}",
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            f"--accept=pipe,name={pipe};urp;",
        ],
        start_new_session=True,
    )
    try:
        ctx = _connect(pipe)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        for job in jobs:
            url = uno.systemPathToFileUrl(os.path.abspath(job["src"]))
            doc = desktop.loadComponentFromURL(url, "_blank", 0, (_prop("Hidden", True),))
            if doc is None:
                raise SystemExit(f"LibreOffice could not open {job['src']}")
            try:
                for step in job["steps"]:
                    _apply(doc, step)
                out = uno.systemPathToFileUrl(os.path.abspath(job["dst"]))
                doc.storeToURL(out, (_prop("FilterName", "Calc MS Excel 2007 XML"),))
            finally:
                doc.close(True)
        try:
            desktop.terminate()
        except Exception:  # the bridge closes as the office quits
            pass
        office.wait(30)
    finally:
        if office.poll() is None:
            os.killpg(office.pid, 9)


if __name__ == "__main__":
    main()
