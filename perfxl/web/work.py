"""What a job process does (see ``jobs``): one api call each, returning plain values.

These run in a separate process, so they take and return only picklable values, and they call
``perfxl.api`` exactly as the command line does.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from perfxl import api
from perfxl.check import CheckResult
from perfxl.report import review as _review  # noqa: F401 - loaded once in the fork server, not per check


def check(path: str, review: str) -> tuple[CheckResult, bool, str | None]:
    """``perfxl check FILE -o REVIEW --force``: the result, whether the review copy was written,
    and why not if it was not."""
    done = next(api.check_files([path], review=True, output=review, force=True))
    return done.result, done.review is not None, done.review_problem


def check_only(path: str) -> CheckResult:
    """``perfxl check FILE --no-review``."""
    return next(api.check_files([path], review=False)).result


def template(
    output: str,
    edition: str,
    unit: tuple[str, str, int],
    options: dict[str, Any],
    values: dict[str, Any],
    prior_db: str | None,
) -> bool:
    """One unit's template (``perfxl template -o``), prefilled from last year's store; whether
    anything came from the store."""
    done = api.write_template(
        output,
        edition_name=edition,
        unit=api.Unit(*unit),
        values=values,
        options=options,
        prior_db=prior_db,
        force=True,
    )
    return done.prefilled_from_db


def templates_zip(
    output: str,
    edition: str,
    units: list[tuple[str, tuple[str, str, int], dict[str, Any], dict[str, Any]]],
    prior_db: str | None,
) -> int:
    """Every unit's template in one zip: (name in the zip, unit, options, values) per unit. Each
    workbook is written under a numbered scratch name; the unit's name is used only inside the zip."""
    scratch = Path(output).parent
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as z:
        for n, (arcname, unit, options, values) in enumerate(units):
            path = scratch / f"{n}.xlsx"
            template(str(path), edition, unit, options, values, prior_db)
            z.write(path, arcname)
            path.unlink()
    return len(units)


def summary(files: list[tuple[str, str]], roster: list[tuple[str, str, int]], output: str) -> dict[str, Any]:
    """``perfxl consolidate FILES -o OUTPUT`` over the current returns, with the roster's units;
    the parts the 汇总 page shows: rule statistics, the used returns, the one-line summary."""
    done = api.consolidate(
        [path for path, _ in files],
        output,
        roster=[api.Unit(*u) for u in roster],
        workers=1,
        names=dict(files),
    )
    con = done.consolidation
    data = con.to_json()
    return {
        "line": con.summary_line(),
        "counts": con.counts,
        "rules": data["rules"],
        "returns": [r for r in data["returns"] if r.get("used")],
        "missing": data["missing"],
        "edition": next((r["edition"] for r in data["returns"] if r.get("edition")), None),
    }


def roster(path: str, edition: str, year: int) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """A roster file's units as (code, name, layout options, prefill values), the way ``perfxl
    template --roster`` reads it; a row of another year is a mistake to fix, not to guess about."""
    from perfxl.engine.layout import build_plan
    from perfxl.form.prefill import PrefillError, load_roster
    from perfxl.spec import SpecError, load_edition

    try:
        rows = load_roster(Path(path), {c.id for c in build_plan(load_edition(edition)).inputs()})
    except (PrefillError, SpecError) as e:
        raise api.PerfxlError(str(e).replace(path, "名册")) from None
    other = [r.unit for r in rows if r.unit.year not in (None, year)]
    if other:
        raise api.PerfxlError(
            f"名册中“{other[0].name}”的年度是 {other[0].year}，与本次任务的 {year} 年度不一致"
        )
    return [(r.unit.code, r.unit.name, r.options, r.values) for r in rows]
