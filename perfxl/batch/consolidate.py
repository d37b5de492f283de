"""Consolidate a batch of returns: check every file (in parallel), pick one return per unit, tabulate.

``consolidate(paths)`` returns a :class:`Consolidation` of pandas DataFrames; ``summary.write_summary``
turns it into the summary workbook and ``store.save_consolidation`` into a database. pandas lives here and in
summary.py only. Workers send back compact rows (tuples of plain values), never ``CheckResult``
objects; the parent keeps the long tables as codes into their distinct values (``columns.py``)
until the frames are made, so 10,000 returns fit in a few hundred MB.

``units`` and ``finance`` hold the *used* returns only (one per unit); the other frames cover every
file (``scores`` and ``facts`` every usable one), with ``sha256`` to join on and ``used`` to filter:
a store keeps every version, the summary shows the used ones.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from perfxl.batch.columns import LongTable, WideTable
from perfxl.batch.current import Recency, mtime_text, recency_key
from perfxl.batch.store import Saved, Store, open_store, save_rounds, take_round
from perfxl.check import check_file
from perfxl.check.explanations import pair
from perfxl.check.result import CheckResult, plain
from perfxl.engine.catalogue import entry, finding
from perfxl.engine.findings import ERROR, INFO, SEVERITIES, WARNING
from perfxl.engine.layout import finance_columns
from perfxl.engine.text import squash_spaces
from perfxl.form.meta import Unit
from perfxl.oserror import os_reason, shown
from perfxl.report.words import is_review_copy, local_time, review_path
from perfxl.spec import Edition, SpecError, available_editions, load_edition

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".et")  # .et is picked up so it gets an "unusable" row
# Findings that keep a return's amounts out of the district totals (收支汇总), and what the sheet says:
# a return in 元 would swell every total ten-thousandfold.
OUT_OF_TOTALS = {"plausible.yuan": "金额疑似以元填报，需核实"}
# A rule failing in more than this share of usable returns (and in at least FLAG_MIN units) is
# more likely a defect of the rule or the template than of the units.
FLAG_SHARE, FLAG_MIN = 0.5, 5

RETURN_COLUMNS = [
    "file",
    "name",
    "size",
    "mtime",
    "sha256",
    "edition",
    "code",
    "unit",
    "year",
    "generated_at",
    "checked_at",
    "status",
    "reason",
    "reported_total",
    "recomputed_total",
    "difference",
    "reported_grade",
    "recomputed_grade",
    "errors",
    "warnings",
    "infos",
    "explained",
    "round",
    "fixed",
    "new",
    "used",
    "in_totals",
    "totals_note",
    "review",
    "review_error",
]
SCORE_COLUMNS = [
    "sha256",
    "code",
    "unit",
    "used",
    "item",
    "name",
    "max",
    "self",
    "recomputed",
    "consistent",
    "reading",
]
FINDING_COLUMNS = [
    "sha256",
    "file",
    "name",
    "code",
    "unit",
    "year",
    "used",
    "rule",
    "severity",
    "sheet",
    "cell",
    "item",
    "reported",
    "expected",
    "difference",
    "message",
    "explanation",
    "explained",
    "change",
]
# The previous round's findings a return no longer has (已修正), with the return they were fixed in.
FIXED_COLUMNS = [c for c in FINDING_COLUMNS if c not in ("difference", "explanation", "explained", "change")]
RULE_COLUMNS = ["rule", "title", "severity", "units", "share", "findings", "flagged", "note", "example"]
MISSING_COLUMNS = ["code", "unit", "year"]
DUPLICATE_COLUMNS = [
    "group",
    "key",
    "code",
    "unit",
    "year",
    "file",
    "name",
    "sha256",
    "generated_at",
    "mtime",
    "used",
    "reason",
]
FACT_COLUMNS = ["sha256", "field", "value", "numeric"]


class ConsolidateError(ValueError):
    """The batch cannot start (nothing to read, a bad roster); the message says what to fix."""


@dataclass
class Consolidation:
    """Everything a consolidation found out, as DataFrames (amounts and scores are ``Decimal``).

    returns     one row per file, unusable and duplicate returns included: ``used`` says whether
                it counts in the totals, ``reason`` why a file is unusable or (not) used
                ``in_totals`` whether its amounts count in the district totals (not when they look like
                元, see ``OUT_OF_TOTALS``), ``totals_note`` why not
    units       the used returns (one per unit), same columns as ``returns``
    scores      long: one row per usable return × rubric item (max, self, recomputed, consistent);
                files of identical content (same sha256) appear once, here and in ``facts``
    finance     one row per used unit: the recomputed 汇总 row of every finance table,
                columns ``<table>.total.<column>`` (e.g. ``income.total.total``), and ``in_totals``
                and ``totals_note`` as in ``returns`` (the sheet's 合计 adds up only ``in_totals``)
    findings    long: every finding of every file (``used`` tells whether its return counts)
    rules       per rule: units failing it among usable used returns, share, flagged as suspect
    missing     roster units without a used return (empty without a roster)
    duplicates  every return of a unit that sent several, which one was used and why
    facts       long (only with a store, or ``facts=True``; else empty): every input read and
                every recomputed formula value of each usable return,
                as text (sha256, field, value) and whether it is a number (numeric), e.g.
                ``sangong.total.total`` for next year's prefill
    elapsed     seconds the consolidation took

    With a store, each return is also its unit's round: ``returns`` says which (``round``) and how
    many findings it fixed and added since the previous round (``fixed``, ``new``), ``findings``
    carry the unit's explanations (``explanation``, ``explained``) and mark the new ones
    (``change``), ``fixed`` lists the findings fixed, and ``stored`` counts the store's outcomes.
    """

    returns: pd.DataFrame
    units: pd.DataFrame
    scores: pd.DataFrame
    finance: pd.DataFrame
    findings: pd.DataFrame
    rules: pd.DataFrame
    missing: pd.DataFrame
    duplicates: pd.DataFrame
    facts: pd.DataFrame
    elapsed: float
    fixed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FIXED_COLUMNS))
    stored: dict[str, int] | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Findings per severity over the used returns."""
        used = self.units
        return {
            ERROR: int(used["errors"].sum()),
            WARNING: int(used["warnings"].sum()),
            INFO: int(used["infos"].sum()),
        }

    @property
    def unusable(self) -> int:
        return int((self.returns["status"] == "unusable").sum())

    @property
    def exit_code(self) -> int:
        """2 if any file is unusable; else 1 if a used return has an 错误; else 0."""
        if self.unusable:
            return 2
        return 1 if self.counts[ERROR] else 0

    def summary_line(self) -> str:
        c = self.counts
        extra = []
        if len(self.duplicates):
            extra.append(f"重复报送未采用 {int((~self.duplicates['used'].astype(bool)).sum())} 份")
        if len(self.missing):
            extra.append(f"未报送 {len(self.missing)} 个单位")
        usable = self.units[self.units["status"] != "unusable"]
        kept_out = int((~usable["in_totals"].astype(bool)).sum())
        if kept_out:
            extra.append(f"金额疑似以元填报、未计入收支合计 {kept_out} 个单位")
        tail = "，" + "，".join(extra) if extra else ""
        explained = int(self.units["explained"].fillna(0).sum())
        said = f"、已说明 {explained} 条" if explained else ""
        return (
            f"汇总完成：文件 {len(self.returns)} 个，单位 {len(self.units)} 个，错误 {c[ERROR]} 条、"
            f"警告 {c[WARNING]} 条、提示 {c[INFO]} 条{said}，无法使用 {self.unusable} 个{tail}，"
            f"用时 {self.elapsed:.1f} 秒"
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-safe summary: counts, every file, missing, duplicates, rules and findings (not facts)."""
        return {
            "files": len(self.returns),
            "units": len(self.units),
            "counts": self.counts,
            "unusable": self.unusable,
            "elapsed": round(self.elapsed, 3),
            "exit_code": self.exit_code,
            "returns": _records(self.returns),
            "missing": _records(self.missing),
            "duplicates": _records(self.duplicates),
            "rules": _records(self.rules),
            "findings": _records(self.findings),
            "fixed": _records(self.fixed),
        }


# ------------------------------------------------------------------ finding the files


def find_returns(
    paths: Iterable[str | os.PathLike[str]], exclude: Iterable[str | os.PathLike[str]] = ()
) -> list[tuple[Path, str]]:
    """(path, display name) of every return under ``paths``, sorted, each once.

    Folders are searched recursively for .xlsx/.xlsm/.xls/.ods/.et; Office lock files (``~$*``), hidden
    files, our own annotated copies (``*_审核.xlsx``) and ``exclude`` (e.g. the summary being
    written) are skipped, also when named directly (a shell glob picks them up). A file named
    directly is taken whatever its extension: it gets an "unusable" row if it is no workbook.
    """
    skip = {_key(Path(p)) for p in exclude}
    found: dict[str, tuple[Path, str]] = {}
    for raw in paths:
        root = Path(raw)
        if root.is_dir():
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for fn in filenames:
                    p = Path(dirpath) / fn
                    if p.suffix.lower() in SUFFIXES and not _ignored(p):
                        found.setdefault(_key(p), (p, p.relative_to(root).as_posix()))
        elif not root.exists():
            raise ConsolidateError(f"找不到文件或文件夹：{root}")
        elif not _ignored(root):
            found.setdefault(_key(root), (root, root.name))
    return sorted((v for k, v in found.items() if k not in skip), key=lambda v: (v[1], str(v[0])))


def _ignored(p: Path) -> bool:
    name = p.name
    return name.startswith(("~$", ".")) or is_review_copy(p)


def _key(p: Path) -> str:
    return os.path.normcase(os.path.abspath(p))


# ------------------------------------------------------------------ the worker

# What a worker sends back for one file: plain values only.
#   summary  dict of the RETURN_COLUMNS a worker knows (no used/reason of duplicates)
#   items    tuples (item, name, max, self, recomputed, consistent, reading)
#   finance  dict "<table>.total.<col>" -> Decimal
#   findings tuples (rule, severity, sheet, cell, item, reported, expected, difference, message,
#            explanation, explained)
#   facts    (field ids, values as text, whether each is a number) of CheckResult.fact_values,
#            three equal-length tuples
Row = tuple[
    dict[str, Any],
    list[tuple[Any, ...]],
    dict[str, Decimal],
    list[tuple[Any, ...]],
    tuple[tuple[str, ...], tuple[str, ...], tuple[bool, ...]],
]
Job = tuple[str, str, "str | None", "Decimal | None", bool]  # path, name, review copy, tolerance, facts


def _many(one: Callable[..., Any], jobs: Sequence[tuple[Any, ...]]) -> list[Any]:
    return [one(*job) for job in jobs]


def check_one(
    path: str, name: str, review: str | None = None, tolerance: Decimal | None = None, facts: bool = True
) -> Row:
    """Check one file and reduce the result to a compact row (with its facts only if ``facts``: only
    a store keeps them); never raises."""
    size, mtime = 0, None
    try:
        st = os.stat(path)
        size, mtime = st.st_size, st.st_mtime
    except OSError:
        pass
    try:
        result = check_file(path, tolerance)
    except Exception as e:  # a checker bug must not stop the batch; the row says what happened
        reason = f"审核时程序出错（{type(e).__name__}: {e}），请将此文件反馈给软件维护人员"
        result = CheckResult(file=path, status="unusable", reason=reason)
    if result.status == "unusable":
        result.reason = _unusable_reason(Path(path), size, result.reason or "无法读取")
        result.findings = [finding("file.unusable", file=shown(Path(path).name), reason=result.reason)]
    review_done, review_error = None, None
    if review and result.status != "unusable":
        review_done, review_error = _write_review(path, result, review)
    kept_out = next((f for f in result.findings if f.rule in OUT_OF_TOTALS), None)
    summary = {
        **result.return_row(),
        "in_totals": result.status != "unusable" and kept_out is None,
        "totals_note": (
            f"{OUT_OF_TOTALS[kept_out.rule]}（{kept_out.where} 等），金额未计入收支汇总的合计"
            if kept_out is not None
            else None
        ),
        "file": shown(path),  # as the job names it (printable), whatever the checker made of it
        "name": shown(name),
        "size": size,
        "mtime": mtime_text(mtime) if mtime else None,
        "checked_at": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
        "review": review_done,
        "review_error": review_error,
    }
    items: list[tuple[Any, ...]] = []
    finance: dict[str, Decimal] = {}
    if result.status != "unusable" and result.edition:
        ed = load_edition(result.edition)
        tol = ed.rubric.score_tolerance
        for it in result.item_rows():
            own = it["self"]
            ok = own is not None and any(abs(own - x) <= tol for x in (it["recomputed"], *it["defensible"]))
            items.append((it["id"], it["name"], it["max"], own, it["recomputed"], ok, it["reading"]))
        for key, _title, _header in finance_columns(ed):
            value = result.computed.get(key)
            if isinstance(value, Decimal):
                finance[key] = value
    findings = [
        (
            f["rule"],
            f["severity"],
            f["sheet"],
            f["cell"],
            f["item"],
            _plain(f["reported"]),
            _plain(f["expected"]),
            f["difference"],
            f["message"],
            f["explanation"],
            f["explained"],
        )
        for f in result.finding_rows()
    ]
    known = result.fact_values() if facts else {}
    fields = tuple(known)
    values = tuple(_text(known[k]) for k in fields)
    numeric = tuple(isinstance(known[k], Decimal) for k in fields)
    return summary, items, finance, findings, (fields, values, numeric)


def _write_review(path: str, result: CheckResult, review: str) -> tuple[str | None, str | None]:
    """(the copy written, or why not): the check itself is done, so nothing is raised."""
    try:
        from perfxl.report.review import write_review

        if _key(Path(review)) == _key(Path(path)):
            raise ValueError("审核副本不能覆盖原文件")
        write_review(Path(path), result, Path(review))
        return shown(review), None
    except OSError as e:
        return None, f"审核副本未能写出：{os_reason(e)}"
    except ValueError as e:  # the copy cannot be made safely: the reason is Chinese
        return None, f"审核副本未能写出：{e}"
    except Exception as e:  # the check itself is done; report the copy that could not be written
        return None, f"审核副本未能写出（程序出错：{type(e).__name__}）"


ReviewJob = tuple[str, str, "Decimal | None", "Saved | None"]  # path, copy, tolerance, its round


def review_one(
    path: str, review: str, tolerance: Decimal | None = None, saved: Saved | None = None
) -> tuple[str, str | None, str | None]:
    """Check one file again and write its review copy as the store numbered its round (the store
    is written between the two passes, so the copies can say which round); never raises."""
    try:
        result = check_file(path, tolerance)
    except Exception as e:  # pragma: no cover - the first pass checked this very file
        return path, None, f"审核副本未能写出（{type(e).__name__}: {e}）"
    if saved is not None:
        take_round(result, saved)
    if result.status == "unusable":
        return path, None, None
    return path, *_write_review(path, result, review)


def _review_crashed(job: ReviewJob, reason: str) -> tuple[str, str | None, str | None]:
    return job[0], None, f"审核副本未能写出：{reason}"


def _unusable_reason(path: Path, size: int, reason: str) -> str:
    suffix = path.suffix.lower()
    if size == 0 and path.exists():
        return "文件为空（0 字节），可能是保存或传送失败，请重新报送"
    if suffix == ".et":
        return "这是 WPS 表格专用格式（.et），请用 WPS 另存为 .xlsx 后重新报送"
    return reason


def _plain(value: Any) -> Any:
    """Reported/expected values as Decimal, str or None (one type per kind, easy to store)."""
    if value is None or isinstance(value, (Decimal, str)):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN/∞ are never amounts: as text, so no writer chokes on them
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    return str(value)


def _text(value: Any) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


# ------------------------------------------------------------------ running the batch


def consolidate(
    paths: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str] | None = None,
    *,
    roster: str | os.PathLike[str] | Sequence[Unit] | None = None,
    review_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    tolerance: Decimal | None = None,
    progress: bool | None = False,
    exclude: Iterable[str | os.PathLike[str]] = (),
    names: Mapping[str, str] | None = None,
    db: str | Store | None = None,
    facts: bool | None = None,
) -> Consolidation:
    """Check every return under ``paths`` and consolidate them; write the summary workbook to ``output``.

    ``workers``: processes (default: the number of CPUs; 1 checks in this process).
    ``roster``: a roster CSV (预算编码/单位名称/年度) or Units, to list who has not reported.
    ``review_dir``: also write each return's annotated copy there (by the worker).
    ``progress``: a carriage-return counter on stderr; None shows it when stderr is a terminal.
    ``db``: a store (path, URL or open ``Store``) every usable return is saved into as its unit's
    next round, before the summary and the review copies are written, so both can say which round
    each return is, what it fixed, and the explanations carried over from earlier rounds.
    A file that cannot be used never stops the batch: it gets a row with a Chinese reason.
    ``facts``: keep every return's facts (``Consolidation.facts``); by default only with a store,
    which is what keeps them: at 10,000 returns they are two million rows.
    ``names``: {path as given: name to show} for files whose own name means nothing to a person
    (the web app keeps uploads under their content hash and shows the name they were sent with).
    """
    started = time.perf_counter()
    expected = _roster(roster) if roster is not None else None
    skip = [*exclude, *([output] if output is not None else [])]
    files = find_returns(paths, skip)
    if names:
        files = [(p, names.get(str(p), name)) for p, name in files]
    if not files:
        raise ConsolidateError(
            "没有找到任何报表文件（.xlsx/.xlsm/.xls/.ods/.et）：" + "、".join(str(p) for p in paths)
        )
    # Opened first: a wrong URL fails before the batch is checked, not after.
    store = open_store(db) if db is not None and not isinstance(db, Store) else db
    try:
        folder = Path(review_dir) if review_dir is not None else None
        # With a store the copies are written in a second pass, once the rounds are known.
        keep = store is not None if facts is None else facts
        jobs = _jobs(files, folder if store is None else None, tolerance, keep)
        acc = _Accumulator(keep)
        show = sys.stderr.isatty() if progress is None else progress
        bar = _Progress(len(jobs), sys.stderr if show else None)
        for row in _run(jobs, workers):
            acc.add(row)
            bar.step()
        bar.close()
        con = acc.build(expected)
        del acc  # the rows now live in the frames; free them before the workbook is written
        if store is not None:
            con.stored, saved = save_rounds(con, store, brief=True)
            _take_rounds(con, saved)
            if folder is not None:
                _reviews(con, _jobs(files, folder, tolerance, False), saved, workers, show)
    finally:
        if store is not None and store is not db:
            store.close()
    con.elapsed = time.perf_counter() - started
    if output is not None:
        from perfxl.report.summary import write_summary

        write_summary(con, output)
        con.elapsed = time.perf_counter() - started
    return con


def _reviews(
    con: Consolidation, jobs: list[Job], saved: dict[str, Saved], workers: int | None, show: bool
) -> None:
    """The second pass: every usable return's review copy, saying its round."""
    usable = {r["file"]: r["sha256"] for r in _records(con.returns) if r["status"] != "unusable"}
    todo = [
        (path, review, tol, saved.get(usable[path]))
        for path, _n, review, tol, _facts in jobs
        if path in usable and review
    ]
    done: dict[str, tuple[str | None, str | None]] = {}
    bar = _Progress(len(todo), sys.stderr if show else None, "写审核副本")
    for path, review, error in _run(todo, workers, review_one, _review_crashed):
        done[path] = (review, error)
        bar.step()
    bar.close()
    for frame in (con.returns, con.units):
        frame["review"] = [done.get(f, (None, None))[0] for f in frame["file"]]
        frame["review_error"] = [done.get(f, (None, None))[1] for f in frame["file"]]


def _take_rounds(con: Consolidation, saved: dict[str, Saved]) -> None:
    """What the store said of each return: its round, what it fixed and added, and the explanations
    carried over to its findings (so its open 警告 and 提示 are counted again)."""
    rounds = {sha: s for sha, s in saved.items() if s.round is not None}
    f = con.findings
    explanation, explained = list(f["explanation"]), list(f["explained"])
    change: list[str | None] = [None] * len(f)
    by_file: dict[str, list[int]] = {}
    for n, name in enumerate(f["file"]):
        by_file.setdefault(name, []).append(n)
    returns = _records(con.returns)
    # the keys as plain lists once: a pandas lookup per finding cost seconds at 1,000 returns
    rule, sheet, cell = f["rule"].tolist(), f["sheet"].tolist(), f["cell"].tolist()
    fixed_rows = []
    for r in returns:
        s = rounds.get(r["sha256"])
        rows = by_file.get(r["file"], [])
        if s is None:
            continue
        mine = [(rule[n], sheet[n], cell[n]) for n in rows]
        stored = list(s.findings)
        matched = pair([(x["rule"], x["sheet"], x["cell"]) for x in stored], [_none(k) for k in mine])
        new = {(x["rule"], x["sheet"], x["cell"]) for x in s.new}
        for m, n in enumerate(rows):
            if m in matched:
                explanation[n], explained[n] = (
                    stored[matched[m]]["explanation"],
                    stored[matched[m]]["explained"],
                )
            if _none(mine[m]) in new:
                change[n] = "新增"
        fixed_rows += [{**{k: r.get(k) for k in FIXED_COLUMNS[:7]}, **x} for x in s.fixed]
    f["explanation"], f["explained"], f["change"] = explanation, pd.array(explained, dtype=bool), change
    open_ = ~f["explained"]
    files = f["file"].astype(object)  # plain labels: looked up in a categorical index, some fail
    for frame in (con.returns, con.units):  # each file's findings are all in ``findings``: count again
        for key, rows_of in (
            ("errors", open_ & (f["severity"] == ERROR)),
            ("warnings", open_ & (f["severity"] == WARNING)),
            ("infos", open_ & (f["severity"] == INFO)),
            ("explained", f["explained"]),
        ):
            counts = files[rows_of].value_counts().to_dict()
            frame[key] = pd.array([int(counts.get(x, 0)) for x in frame["file"]], dtype="Int64")
        frame["round"] = pd.array([_round(rounds.get(sha)) for sha in frame["sha256"]], dtype="Int64")
        frame["fixed"] = pd.array([_len(rounds.get(sha), "fixed") for sha in frame["sha256"]], dtype="Int64")
        frame["new"] = pd.array([_len(rounds.get(sha), "new") for sha in frame["sha256"]], dtype="Int64")
    con.fixed = pd.DataFrame(
        [{c: row.get(c) for c in FIXED_COLUMNS} for row in fixed_rows], columns=FIXED_COLUMNS
    )


def _none(k: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(None if v is None or (isinstance(v, float) and v != v) else v for v in k)


def _round(s: Saved | None) -> int | None:
    return s.round if s is not None else None


def _len(s: Saved | None, part: str) -> int | None:
    return len(getattr(s, part)) if s is not None and s.round is not None and s.round > 1 else None


def _jobs(
    files: list[tuple[Path, str]], review_dir: Path | None, tol: Decimal | None, facts: bool
) -> list[Job]:
    jobs: list[Job] = []
    taken: set[str] = set()
    for path, name in files:
        review = None
        if review_dir is not None:
            rel = Path(name)
            target, n = review_path(rel, review_dir / rel.parent), 1
            while _key(target) in taken:  # two inputs with one name (given from different folders)
                n += 1
                target = review_path(rel, review_dir / rel.parent, n)
            taken.add(_key(target))
            review = str(target)
        jobs.append((str(path), name, review, tol, facts))
    return jobs


def _run(
    jobs: Sequence[tuple[Any, ...]],
    workers: int | None,
    one: Callable[..., Any] = check_one,
    crashed: Callable[[Any, str], Any] | None = None,
) -> Iterator[Any]:
    """``one(*job)`` for every job, in ``workers`` processes, as each is done; a job whose worker
    died gets ``crashed(job, reason)``."""
    crashed = crashed or _crashed
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n < 1:
        raise ConsolidateError(f"进程数应至少为 1（实际为 {n}）")
    n = min(n, len(jobs))
    if n <= 1:
        for job in jobs:
            yield one(*job)
        return
    for name in available_editions():  # loaded once here: forked workers inherit the cache
        try:
            load_edition(name)
        except SpecError:
            pass
    size = max(1, min(16, len(jobs) // (n * 8)))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    with ProcessPoolExecutor(max_workers=n) as pool:
        pending = {pool.submit(_many, one, chunk): chunk for chunk in chunks}
        try:
            yield from _collect(pending, crashed)
        except BaseException:  # Ctrl-C (or the caller stopped): do not wait for the queued files
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _collect(pending: dict[Any, Sequence[Any]], crashed: Callable[[Any, str], Any]) -> Iterator[Any]:
    while pending:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            chunk = pending.pop(fut)
            try:
                rows = fut.result()
            except BrokenProcessPool:  # a worker died (e.g. killed for memory): these files get a row
                rows = [
                    crashed(job, "审核进程意外退出（可能内存不足），请单独重新审核此文件") for job in chunk
                ]
            except Exception as e:  # pragma: no cover - check_one never raises
                rows = [crashed(job, f"审核时程序出错（{type(e).__name__}: {e}）") for job in chunk]
            yield from rows


def _crashed(job: Job, reason: str) -> Row:
    path, name = job[0], job[1]
    summary = {
        "file": shown(path),
        "name": shown(name),
        "size": 0,
        "mtime": None,
        "status": "unusable",
        "reason": reason,
        "errors": 1,
        "warnings": 0,
        "infos": 0,
        "explained": 0,
    }
    return (
        summary,
        [],
        {},
        [
            (
                "file.unusable",
                ERROR,
                None,
                None,
                None,
                None,
                None,
                None,
                f"{shown(Path(path).name)}：{reason}",
                None,
                False,
            )
        ],
        ((), (), ()),
    )


class _Progress:
    """``审核 123/1000（12%）…`` on one terminal line, redrawn at most ten times a second."""

    def __init__(self, total: int, stream: TextIO | None, what: str = "审核") -> None:
        self.total, self.done, self.stream, self.what = total, 0, stream, what
        self.start = self.last = time.perf_counter()

    def step(self) -> None:
        self.done += 1
        now = time.perf_counter()
        if self.stream is not None and (now - self.last >= 0.1 or self.done == self.total):
            self.last = now
            pct = 100 * self.done // self.total if self.total else 100
            self.stream.write(f"\r{self.what} {self.done}/{self.total}（{pct}%） {now - self.start:.0f} 秒")
            self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.total:
            self.stream.write("\n")
            self.stream.flush()


# ------------------------------------------------------------------ assembling the frames


class _Accumulator:
    """Rows as they come back: each return's summary as a dict, the long tables (items, findings,
    facts) as codes into their distinct values (``columns.LongTable``), so the parent holds a few
    bytes per cell and each repeated value once; the frames are made from them in ``build``."""

    def __init__(self, keep_facts: bool = True) -> None:
        self.keep_facts = keep_facts
        self.returns: list[dict[str, Any]] = []
        self.items = LongTable(ITEM_FIELDS, flags=("consistent",))
        self.finance = WideTable()
        self.findings = LongTable(FINDING_FIELDS, flags=("explained",))
        self.facts = LongTable(FACT_FIELDS, flags=("numeric",))
        self._names: dict[Any, Any] = {}

    def add(self, row: Row) -> None:
        summary, items, finance, findings, (fields, values, numeric) = row
        index = len(self.returns)
        one = self._one  # the summary's texts (status, edition, times…) repeat from file to file too
        summary = {k: one(v) if isinstance(v, str) else v for k, v in summary.items()}
        summary["_index"] = index
        self.returns.append(summary)
        self.items.add(index, items)
        self.finance.add(index, finance)
        self.findings.add(index, findings)
        if fields:
            self.facts.add_columns(index, (fields, values, numeric))

    def build(self, roster: list[Unit] | None) -> Consolidation:
        rows = self.returns
        groups = _choose(rows)
        matched: set[int] = set()
        if roster is not None:
            index = _RosterIndex(roster)
            for row in rows:
                if row.get("used"):
                    hits = index.matches(row)
                    matched.update(hits)
                    if not hits:
                        row["reason"] = _join(
                            row.get("reason"), "单位名册中没有此单位（预算编码、名称均未对上）"
                        )
        for table in (self.items, self.findings, self.facts):
            table.seal()
        order = sorted(range(len(rows)), key=lambda i: _order(rows[i]))
        returns = _frame([rows[i] for i in order], RETURN_COLUMNS)
        used_idx = [i for i in order if rows[i].get("used")]
        units = returns[returns["used"]].reset_index(drop=True)

        once = _first_of_each_content(rows, order)
        texts = ("sha256", "code", "unit", "item", "name", "reading")
        scores = self.items.frame(once, _per_file(rows, once, SCORE_COLUMNS[:4]), SCORE_COLUMNS, texts)
        self.items = LongTable(ITEM_FIELDS)  # the frame holds every value now
        for c in ("used", "consistent"):
            scores[c] = scores[c].astype(bool)

        head = ["sha256", "code", "unit", "year", "in_totals", "totals_note"]
        finance = _typed(self.finance.frame(used_idx, {k: [rows[i].get(k) for i in used_idx] for k in head}))
        self.finance = WideTable()

        rank = {i: n for n, i in enumerate(order)}
        usable = [rows[i] for i in used_idx if rows[i]["status"] != "unusable"]
        rules = _rules(usable, self._rule_rows(order))
        findings = self.findings.frame(
            order,
            _per_file(rows, order, FINDING_COLUMNS[:7]),
            FINDING_COLUMNS[:-1],
            FINDING_TEXT,
        )
        self.findings = LongTable(FINDING_FIELDS)
        findings["change"] = None  # 新增 since the previous round: known with a store
        findings["year"] = findings["year"].astype("Int64")
        for c in ("used", "explained"):
            findings[c] = findings[c].astype(bool)

        facts = self.facts.frame(
            once,
            {"sha256": [rows[i].get("sha256") or "" for i in once]},
            FACT_COLUMNS,
            ("sha256", "field", "value"),
        )
        self.facts = LongTable(FACT_FIELDS)
        facts["numeric"] = facts["numeric"].astype(bool)
        facts.attrs["kept"] = self.keep_facts  # a store refuses a consolidation that dropped them
        missing = pd.DataFrame(
            [(u.code or None, u.name, u.year) for n, u in enumerate(roster or []) if n not in matched],
            columns=MISSING_COLUMNS,
        )
        missing["year"] = missing["year"].astype("Int64")
        missing.attrs["roster"] = roster is not None  # an empty list means "everyone reported"
        duplicates = _duplicates(rows, groups, rank)
        return Consolidation(
            returns, units, scores, finance, findings, rules, missing, duplicates, facts, elapsed=0.0
        )

    def _rule_rows(self, order: list[int]) -> Iterator[tuple[int, str, str, str]]:
        """(file, rule, severity, message) of every finding, files in ``order``."""
        value = self.findings.value
        for i in order:
            for n in self.findings.rows_of(i):
                yield i, value("rule", n), value("severity", n), value("message", n)

    def _one(self, value: Any) -> Any:
        return self._names.setdefault(value, value)


# The columns of the long tables as a worker sends their rows (see ``Row``).
ITEM_FIELDS = SCORE_COLUMNS[4:]
FINDING_FIELDS = FINDING_COLUMNS[7:-1]
FACT_FIELDS = FACT_COLUMNS[1:]
# the findings' text columns, kept as category: a few distinct values each (messages: one in ten)
FINDING_TEXT = (
    "sha256",
    "file",
    "name",
    "code",
    "unit",
    "rule",
    "severity",
    "sheet",
    "cell",
    "item",
    "message",
)


def _per_file(rows: list[dict[str, Any]], files: list[int], names: Sequence[str]) -> dict[str, list[Any]]:
    """The file's own columns of a long frame, one value per file of ``files``."""
    out = {n: [rows[i].get(n) for i in files] for n in names}
    if "used" in out:
        out["used"] = [bool(v) for v in out["used"]]
    return out


def _first_of_each_content(rows: list[dict[str, Any]], order: list[int]) -> list[int]:
    """``order`` without later files of identical content (same sha256): their scores and facts
    are the same, and a frame joined on sha256 must not double them."""
    seen: set[str] = set()
    out = []
    for i in order:
        sha = rows[i].get("sha256")
        if sha and sha in seen:
            continue
        if sha:
            seen.add(sha)
        out.append(i)
    return out


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return _typed(pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Counts and years as nullable integers, flags as bool (True only where True)."""
    for c in ("year", "size", "errors", "warnings", "infos"):
        if c in df:
            df[c] = df[c].astype("Int64")
    for flag in ("used", "in_totals"):
        if flag in df:
            df[flag] = pd.Series([v is True for v in df[flag]], index=df.index, dtype=bool)
    return df


def _order(row: dict[str, Any]) -> tuple[Any, ...]:
    kind = 0 if row.get("used") else (2 if row["status"] == "unusable" else 1)
    return kind, row.get("code") or "\uffff", row.get("unit") or "", row.get("year") or 0, row["name"]


def _join(a: str | None, b: str) -> str:
    return f"{a}；{b}" if a else b


def _unit_key(row: dict[str, Any]) -> tuple[str, str, int | None] | None:
    """Same unit, same year: same code, or (without code) same name."""
    if row["status"] == "unusable":
        return None
    if row.get("code"):
        return "code", str(row["code"]).strip(), row.get("year")
    if row.get("unit"):
        return "name", squash_spaces(row["unit"]), row.get("year")
    return None  # neither code nor name: cannot be a duplicate of anything


def _choose(rows: list[dict[str, Any]]) -> list[list[int]]:
    """Mark the used return of each unit; the groups (indices, used one first) of units with several."""
    by_key: dict[tuple[str, str, int | None], list[int]] = {}
    for i, row in enumerate(rows):
        row["used"] = False
        key = _unit_key(row)
        if row["status"] != "unusable":
            if key is None:
                row["used"] = True
            else:
                by_key.setdefault(key, []).append(i)
    groups = []
    for members in by_key.values():
        best = sorted(members, key=lambda i: _recency(rows[i]))  # the store's order: see current.py
        top = best[0]
        rows[top]["used"] = True
        if len(members) > 1:
            groups.append(best)
            rows[top]["reason"] = _join(
                rows[top].get("reason"), f"重复报送 {len(members)} 份，采用此份：{_why(rows, top, best[1:])}"
            )
            for i in best[1:]:
                rows[i]["reason"] = _join(
                    rows[i].get("reason"), f"重复报送，未采用，不计入汇总（已采用 {rows[top]['name']}）"
                )
    return groups


def _recency(row: dict[str, Any]) -> Recency:
    return recency_key(row.get("generated_at"), row.get("mtime"), row["file"], row.get("sha256"))


def _why(rows: list[dict[str, Any]], top: int, others: list[int]) -> str:
    t, keys = rows[top], [_recency(rows[i]) for i in others]
    first = _recency(t)
    if all(first.generated < k.generated for k in keys):
        return f"模板生成时间最新（{_show_time(t.get('generated_at'))}）"
    if all(first.modified < k.modified for k in keys if k.generated == first.generated):
        return f"模板生成时间相同，文件修改时间最新（{_show_time(t.get('mtime'))}）"
    if all(rows[i].get("sha256") == t.get("sha256") for i in others):
        return "各份内容完全相同，取文件名排在最前的一份"
    return "模板生成时间与文件修改时间均相同，取文件名排在最前的一份"


def _show_time(text: str | None) -> str:
    return local_time(text) or "未知"


def _duplicates(rows: list[dict[str, Any]], groups: list[list[int]], rank: dict[int, int]) -> pd.DataFrame:
    out = []
    for g, members in enumerate(sorted(groups, key=lambda m: rank[m[0]]), start=1):
        for i in members:
            r = rows[i]
            key = _unit_key(r)
            out.append(
                {
                    "group": g,
                    "key": key[1] if key else None,
                    "code": r.get("code"),
                    "unit": r.get("unit"),
                    "year": r.get("year"),
                    "file": r["file"],
                    "name": r["name"],
                    "sha256": r.get("sha256"),
                    "generated_at": r.get("generated_at"),
                    "mtime": r.get("mtime"),
                    "used": bool(r.get("used")),
                    "reason": r.get("reason"),
                }
            )
    df = _frame(out, DUPLICATE_COLUMNS)
    df["group"] = df["group"].astype("Int64")
    return df


class _RosterIndex:
    """Which roster units a return answers: same code when both have one, else same name; and the
    same year when both have one. Indexed, so a roster of thousands is matched in linear time."""

    def __init__(self, roster: list[Unit]) -> None:
        self.roster = roster
        self.by_code: dict[str, list[int]] = {}
        self.by_name: dict[str, list[int]] = {}
        for n, u in enumerate(roster):
            if u.code.strip():
                self.by_code.setdefault(u.code.strip(), []).append(n)
            if squash_spaces(u.name):
                self.by_name.setdefault(squash_spaces(u.name), []).append(n)

    def matches(self, row: dict[str, Any]) -> list[int]:
        code, name, year = str(row.get("code") or "").strip(), squash_spaces(row.get("unit")), row.get("year")
        named = self.by_name.get(name, []) if name else []
        if code:  # a coded roster unit must match by code; an uncoded one by name
            found = self.by_code.get(code, []) + [n for n in named if not self.roster[n].code.strip()]
        else:
            found = named
        return [n for n in found if year is None or self.roster[n].year in (None, year)]


def _roster(roster: str | os.PathLike[str] | Sequence[Unit]) -> list[Unit]:
    if not isinstance(roster, (str, os.PathLike)):
        return list(roster)
    from perfxl.engine.layout import build_plan
    from perfxl.form.prefill import PrefillError, load_roster

    ids: set[str] = set()
    for name in available_editions():  # a roster may carry prefill columns of any edition
        ids |= {c.id for c in build_plan(load_edition(name)).inputs()}
    try:
        return [r.unit for r in load_roster(Path(roster), ids)]
    except PrefillError as e:
        raise ConsolidateError(str(e)) from None


# ------------------------------------------------------------------ rule statistics


def rule_title(rule: str, edition: Edition | None) -> str:
    """A short Chinese name for a rule id (the 规则统计 sheet and the chart of failing rules): the
    catalogue's title, naming the item, finance column or identity as the edition does."""
    e = entry(rule)
    seg = e.segments(rule) or {}
    items = {i.id: i.name for i in edition.rubric.items} if edition else {}
    cols = {k: f"{t}·{h}" for k, t, h in finance_columns(edition)} if edition else {}
    idents = {i.id: i.label for i in edition.rubric.identities} if edition else {}
    item = seg.get("ID", "")
    return e.title.format(
        ID=items.get(item, item),
        列=cols.get(f"{seg.get('表')}.total.{seg.get('列')}", rule),
        勾稽关系=idents.get(rule.removeprefix("identity."), rule),
    )


def _rules(usable: list[dict[str, Any]], findings: Iterable[tuple[int, str, str, str]]) -> pd.DataFrame:
    """Per rule over the usable used returns; ``findings``: (file, rule, severity, message), in order."""
    used = {r["_index"] for r in usable}
    n = len(used)
    edition = None
    if usable and usable[0].get("edition"):
        try:
            edition = load_edition(usable[0]["edition"])
        except SpecError:
            edition = None
    stats: dict[str, dict[str, Any]] = {}
    for file, rule, severity, message in findings:
        if file not in used:
            continue
        s = stats.setdefault(rule, {"units": set(), "findings": 0, "severity": severity, "example": message})
        s["units"].add(file)
        s["findings"] += 1
        if SEVERITIES.index(severity) < SEVERITIES.index(s["severity"]):
            s["severity"] = severity
    out = []
    for rule, s in stats.items():
        units = len(s["units"])
        share = units / n if n else None
        flagged = bool(
            share is not None
            and share > FLAG_SHARE
            and units >= FLAG_MIN
            and s["severity"] in (ERROR, WARNING)
        )
        note = (
            f"{units}/{n} 个单位（{share:.0%}）未通过此规则，多数单位同时出错，可能是规则或模板本身有误，"
            "请先核对评分规则与模板"
            if flagged and share is not None
            else None
        )
        out.append(
            (
                rule,
                rule_title(rule, edition),
                s["severity"],
                units,
                share,
                s["findings"],
                flagged,
                note,
                s["example"],
            )
        )
    out.sort(key=lambda r: (-r[3], SEVERITIES.index(r[2]), r[0]))
    df = pd.DataFrame(out, columns=RULE_COLUMNS)
    df["flagged"] = df["flagged"].astype(bool)
    df["units"] = df["units"].astype("Int64")
    df["findings"] = df["findings"].astype("Int64")
    df["share"] = df["share"].astype(float)
    return df


# ------------------------------------------------------------------ JSON


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict("records"):
        out.append({str(k): _json(v) for k, v in rec.items() if not str(k).startswith("_")})
    return out


def _json(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return plain(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
