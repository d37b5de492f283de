"""What a job process does (see ``jobs``): one api call each, returning plain values.

These run in a separate process, so they take and return only picklable values, and they call
``perfxl.api`` exactly as the command line does. A checked return is also stored from here (the
store takes writers from several processes), so the server itself only records the outcome.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfxl import api
from perfxl.batch.store import canonical
from perfxl.check import CheckResult
from perfxl.engine.layout import build_plan
from perfxl.engine.text import squash_spaces
from perfxl.report import review as _review  # noqa: F401 - loaded once in the fork server, not per check
from perfxl.spec import SpecError, available_editions, load_edition


def _warm() -> None:
    """Load every edition and its default layout once, in the fork server that imports this module:
    each job process is forked from it with them ready (as consolidation's workers are)."""
    for name in available_editions():
        try:
            build_plan(load_edition(name))
        except SpecError:  # a broken edition is reported by the job that asks for it
            pass


_warm()


@dataclass(frozen=True)
class Intake:
    """Who an upload is for and where it goes, as the job that checks it needs to know."""

    name: str  # the name it was sent as (the result's ``file``, as the CLI names the path given)
    store: str  # the store's URL or SQLite path
    year: int | None  # the year it was sent for
    owner: tuple[str, str] | None  # (code, name) of the unit whose private link it came through


def check(path: str, review: str, intake: Intake) -> dict[str, Any]:
    """``perfxl check FILE -o REVIEW --force --db STORE``: the return is stored as its unit's next
    round (explanations carried over) and its review copy says so — unless it is not the sender's
    (another unit's, another year's): then it is checked without the store, and the outcome has
    a note. Whose it is takes a check of its own first (without the copy, a small part of the cost)."""
    note = None
    if intake.owner is not None or intake.year is not None:
        first = next(api.check_files([path], review=False)).result
        if first.status != "unusable":
            note = _not_the_owners(intake.owner, first) or _not_the_year(intake.year, first)
    store = None if note else intake.store
    done = next(api.check_files([path], review=True, output=review, force=True, db=store))
    result = dataclasses.replace(done.result, file=intake.name)
    return outcome(result, done.review is not None, note)


def check_only(path: str, name: str) -> dict[str, Any]:
    """``perfxl check FILE --no-review --json -``: the check's JSON object, under the name sent."""
    result = next(api.check_files([path], review=False)).result
    return dataclasses.replace(result, file=name).to_json()


def outcome(result: CheckResult, reviewed: bool, note: str | None) -> dict[str, Any]:
    """What the web app records of a check: the upload row's columns, and the JSON itself."""
    counts = result.counts
    return {
        "status": result.status,
        "reason": result.reason,
        "note": note,
        "generated_at": result.generated_at,
        "code": result.code,
        "unit_name": result.unit,
        "errors": counts["错误"],
        "warnings": counts["警告"],
        "infos": counts["提示"],
        "explained": result.explained,
        "round": result.round,
        "reported_total": None if result.reported_total is None else canonical(result.reported_total),
        "recomputed_total": None if result.recomputed_total is None else canonical(result.recomputed_total),
        "reported_grade": result.reported_grade,
        "recomputed_grade": result.recomputed_grade,
        "review": reviewed,
        "result": json.dumps(result.to_json(), ensure_ascii=False),
    }


def _not_the_owners(owner: tuple[str, str] | None, result: CheckResult) -> str | None:
    """Why a return sent through a unit's link is not that unit's, or None if it is (or the file
    says nothing about whom it is for: the checker's own findings speak to that)."""
    if owner is None:
        return None
    code, name = squash_spaces(result.code, nfkc=True), squash_spaces(result.unit, nfkc=True)
    own_code, own_name = (squash_spaces(v, nfkc=True) for v in owner)
    if code and own_code:
        same = code == own_code
    elif name:
        same = name == own_name
    else:
        return None
    if same:
        return None
    said = f"“{result.unit or '（未填）'}”" + (f"（预算编码 {result.code}）" if result.code else "")
    return f"这份文件填写的单位是{said}，不是本单位“{owner[1]}”，未计入本单位；请上传本单位的报表"


def _not_the_year(year: int | None, result: CheckResult) -> str | None:
    if year is None or result.year is None or result.year == year:
        return None
    return f"文件中的年度是 {result.year} 年，本次收表是 {year} 年度；未计入本年度"


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
    from perfxl.form.prefill import PrefillError, load_roster

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
