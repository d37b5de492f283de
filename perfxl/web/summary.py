"""汇总: the summary workbook of a year's current returns, made by ``perfxl consolidate`` in a job,
and what the page shows of it (rule statistics, the charts as pictures).

A summary is made from exactly the current return of every roster unit, under the name each file
was sent as, with the roster (so 未报送 lists who has not reported). It is kept under a key of
what went into it; when a return changes, the key changes and the page offers to make it anew.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from perfxl.report.summary import histogram
from perfxl.spec import SpecError, load_edition
from perfxl.web import board, db, work
from perfxl.web.jobs import JobFailed
from perfxl.web.state import Site

TOP_RULES = 10


def _inputs(conn: Any, year: int) -> dict[str, Any]:
    """What a summary of ``year`` is made of: the roster and each unit's current upload."""
    task = db.task(conn, year)
    units = db.units(conn, year)
    rows = board.rows(conn, year)
    current = [r["current"] for r in rows if r["current"] is not None]
    files = []
    for upload_id in current:
        u = db.upload(conn, upload_id)
        if u is not None:
            files.append((u["sha256"], u["suffix"], u["filename"]))
    roster = [(u["name"], u["code"] or "", year) for u in units]
    return {"edition": task["edition"] if task else None, "roster": roster, "files": files}


def _key(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:24]


def _paths(site: Site, year: int, key: str) -> tuple[Path, Path]:
    base = site.files.root / "summaries" / f"{year}-{key}"
    return base.with_suffix(".xlsx"), base.with_suffix(".json")


async def state(site: Site, year: int) -> dict[str, Any]:
    """The page's data: whether the summary of the current returns is ready, being made or failed,
    and if ready its one-line summary, rule statistics and chart data."""
    inputs = await site.aread(lambda c: _inputs(c, year))
    key = _key(inputs)
    xlsx, meta = _paths(site, year, key)
    task = site.summaries.get(year)
    running = task is not None and not task.done()
    error = None
    if task is not None and task.done() and not task.cancelled() and task.exception() is not None:
        error = str(task.exception())
    out: dict[str, Any] = {
        "year": year,
        "returns": len(inputs["files"]),
        "units": len(inputs["roster"]),
        "ready": xlsx.is_file() and meta.is_file(),
        "running": running,
        "error": error,
    }
    if out["ready"]:
        made = json.loads(meta.read_text(encoding="utf-8"))
        out |= {
            "line": made["line"],
            "counts": made["counts"],
            "rules": made["rules"],
            "missing": made["missing"],
        }
        out["charts"] = charts(made)
    return out


async def start(site: Site, year: int) -> None:
    """Start making the summary of ``year`` (nothing to do if it is ready or being made)."""
    running = site.summaries.get(year)
    if running is not None and not running.done():
        return
    inputs = await site.aread(lambda c: _inputs(c, year))
    xlsx, meta = _paths(site, year, _key(inputs))
    if xlsx.is_file() and meta.is_file():
        return
    site.summaries[year] = site.spawn(_make(site, inputs, xlsx, meta))


async def _make(site: Site, inputs: dict[str, Any], xlsx: Path, meta: Path) -> None:
    if not inputs["files"]:
        raise JobFailed("本年度还没有可用的报表，无法汇总")
    files = [(str(site.files.path(sha, suffix)), name) for sha, suffix, name in inputs["files"]]
    tmp = xlsx.with_suffix(".part.xlsx")
    made = await site.jobs.run(site.settings.summary_seconds, work.summary, files, inputs["roster"], str(tmp))
    made["edition"] = made.get("edition") or inputs["edition"]
    tmp.replace(xlsx)
    meta.write_text(json.dumps(made, ensure_ascii=False), encoding="utf-8")


async def workbook(site: Site, year: int) -> Path | None:
    """The summary workbook of the current returns, if it has been made."""
    inputs = await site.aread(lambda c: _inputs(c, year))
    xlsx, meta = _paths(site, year, _key(inputs))
    return xlsx if xlsx.is_file() and meta.is_file() else None


def charts(made: dict[str, Any]) -> dict[str, Any]:
    """The workbook's four charts as data for the page's pictures: grades, score bands, self vs
    recomputed, and the rules most units fail."""
    usable = [r for r in made["returns"] if r.get("status") != "unusable"]
    labels = _grade_labels(made.get("edition"))
    grades = [(g, sum(1 for r in usable if r.get("recomputed_grade") == g)) for g in labels]
    totals = [_dec(r.get("recomputed_total")) for r in usable]
    points = [
        (float(r["reported_total"]), float(r["recomputed_total"]), r.get("unit") or r.get("name") or "")
        for r in usable
        if r.get("reported_total") is not None and r.get("recomputed_total") is not None
    ]
    failing = [r for r in made["rules"] if r.get("severity") in ("错误", "警告")][:TOP_RULES]
    scores = [v for x, y, _ in points for v in (x, y)]
    low = max(0, min(int(min(scores)) // 10 * 10 - 10, 50)) if scores else 0  # the scatter's axes start here
    return {
        "low": low,
        "grades": grades,
        "bands": histogram(totals),
        "points": points,
        "rules": [(r["title"], int(r["units"] or 0)) for r in failing],
    }


def _grade_labels(edition: str | None) -> list[str]:
    try:
        ed = load_edition(edition) if edition else None
    except SpecError:
        ed = None
    if ed is None:
        return ["优秀", "良好", "中", "差"]
    return [g.label for g in sorted(ed.rubric.grades, key=lambda g: g.min, reverse=True)]


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
