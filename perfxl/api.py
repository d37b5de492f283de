"""perfxl as a library: every job of the command line is one function here.

The command line (``perfxl.cli``) and any other front end only parse their input, call one of
these, and present what comes back. A problem the user must fix (a wrong option, a missing
file, an edition with a mistake) raises :class:`PerfxlError` with a Chinese message; a problem
*in a return* is never an exception, it is a finding in the result.

Example::

    from perfxl import api

    api.write_template("信访局.xlsx", unit=api.Unit("岳阳市君山区信访局", "430611", 2020))
    for done in api.check_files(["信访局.xlsx"], review=False):
        print(done.result.recomputed_total, [f.rule for f in done.result.findings])
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfxl.check import CheckResult, check_file
from perfxl.engine.layout import build_plan
from perfxl.form.meta import Unit
from perfxl.spec import DEFAULT_EDITION, Edition, SpecError, available_editions, load_edition

if TYPE_CHECKING:  # pandas is imported only by the jobs that need it
    from perfxl.batch.consolidate import Consolidation

Source = str | os.PathLike[str]

__all__ = [
    "Checked",
    "Consolidated",
    "EditionInfo",
    "PerfxlError",
    "Round",
    "ReportWritten",
    "TemplateWritten",
    "Unit",
    "check_files",
    "consolidate",
    "editions",
    "fields",
    "history",
    "write_reports",
    "write_template",
    "write_templates",
]


class PerfxlError(Exception):
    """Something the user must fix before the job can run; the message is Chinese and says what."""


@dataclass(frozen=True)
class EditionInfo:
    name: str
    region: str
    title: str
    form_version: int
    rubric_version: int
    problem: str | None = None  # why the edition's data files cannot be used (then the rest is empty)


@dataclass(frozen=True)
class TemplateWritten:
    path: Path
    unit: Unit
    prefilled_from_db: bool  # some values came from last year's return in the store
    notes: tuple[str, ...] = ()  # what the user should know about the values written (元 converted)


@dataclass(frozen=True)
class Checked:
    """One file checked: the result, and where its review copy went (or why it did not)."""

    result: CheckResult
    review: Path | None = None
    review_problem: str | None = None  # the copy was asked for but not written: why
    stored: str | None = None  # with a store: inserted | superseded | outdated | unchanged | skipped

    @property
    def exit_code(self) -> int:
        return max(self.result.exit_code, 2 if self.review_problem else 0)


@dataclass(frozen=True)
class Round:
    """One return of a unit and year, as the store remembers it (``perfxl history``)."""

    round: int
    year: int
    file: str
    sha256: str
    checked_at: str | None
    status: str
    reported_total: Decimal | None
    recomputed_total: Decimal | None
    reported_grade: str | None
    recomputed_grade: str | None
    counts: dict[str, int]  # open findings per severity
    explained: int  # 已说明
    fixed: int  # the previous round's findings this round no longer has (已修正)
    new: int  # this round's findings the previous round did not have (新增)
    is_current: bool
    unit: str | None
    code: str | None


@dataclass(frozen=True)
class ReportWritten:
    """One return's Word report: where it went, or why it was not written (or left out)."""

    result: CheckResult
    path: Path | None = None
    drafted: tuple[str, ...] = ()  # sections the unit left blank, written from the draft
    problem: str | None = None  # the report could not be written: why (exit code 2)
    skipped: str | None = None  # not written on purpose: another return of the unit is newer

    @property
    def exit_code(self) -> int:
        return max(self.result.exit_code, 2 if self.problem else 0)


@dataclass(frozen=True)
class Consolidated:
    consolidation: Consolidation
    output: Path
    stored: dict[str, int] | None  # outcome -> number of returns, when a store was given

    @property
    def exit_code(self) -> int:
        failed = self.consolidation.returns["review_error"].notna().any()
        return 2 if failed else self.consolidation.exit_code


# ------------------------------------------------------------------ editions and fields


def _edition(name: str = DEFAULT_EDITION) -> Edition:
    """The named edition, loaded and validated."""
    try:
        return load_edition(name)
    except SpecError as e:
        raise PerfxlError(str(e)) from None


def editions() -> list[EditionInfo]:
    """Every edition shipped (or placed in the data folders), with its versions; one whose data
    files have a mistake is listed with the mistake (file and key) as its ``problem``."""
    out = []
    for name in available_editions():
        try:
            ed = _edition(name)
        except PerfxlError as e:
            out.append(EditionInfo(name, "", "", 0, 0, problem=str(e)))
            continue
        out.append(EditionInfo(name, ed.form.region, ed.form.title, ed.form.version, ed.rubric.version))
    return out


def fields(edition_name: str = DEFAULT_EDITION, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The field dictionary of a template layout (``perfxl fields --json``, a public contract)."""
    from perfxl.form.fields import dictionary

    try:
        return dictionary(build_plan(_edition(edition_name), options))
    except SpecError as e:
        raise PerfxlError(str(e)) from None


# ------------------------------------------------------------------ templates


def write_template(
    output: Source,
    *,
    edition_name: str = DEFAULT_EDITION,
    unit: Unit | None = None,
    values: Mapping[str, Any] | None = None,
    values_path: Source | None = None,
    options: Mapping[str, Any] | None = None,
    prior_db: str | None = None,
    force: bool = False,
) -> TemplateWritten:
    """Write one template. ``values_path`` (JSON/YAML/CSV by field id) may also give the unit and
    a fixed generation time; explicit ``unit`` parts and ``values`` win over it, and it over the
    store's last-year values (``prior_db``)."""
    from perfxl.form.prefill import PrefillError, converted, load_prefill
    from perfxl.form.template import write_template as write

    ed, path = _edition(edition_name), Path(output)
    if path.exists() and not force:
        raise PerfxlError(f"{path} 已存在；如需覆盖请加 --force")
    try:
        prefill = load_prefill(Path(values_path)) if values_path is not None else None
        base = prefill.unit if prefill and prefill.unit else Unit()
        given = unit or Unit()
        unit = Unit(given.name or base.name, given.code or base.code, given.year or base.year)
        prior = _prior_year_values(prior_db, ed, [unit], unit.year).get(unit, {})
        merged = {**prior, **(prefill.values if prefill else {}), **(values or {})}
        plan = write(path, ed, unit, merged, options, prefill.generated_at if prefill else None)
    except (SpecError, PrefillError) as e:
        raise PerfxlError(str(e)) from None
    return TemplateWritten(path, unit, bool(prior), tuple(converted(plan, merged)))


def write_templates(
    roster: Source,
    out_dir: Source,
    *,
    edition_name: str = DEFAULT_EDITION,
    year: int | None = None,
    options: Mapping[str, Any] | None = None,
    prior_db: str | None = None,
    force: bool = False,
) -> list[TemplateWritten]:
    """One template per unit of a roster, named ``<编码>_<名称>.xlsx`` in ``out_dir``; the roster's
    per-unit layout counts and field columns win over ``options``; nothing is written if any
    target exists (unless ``force``)."""
    from perfxl.form.prefill import PrefillError, converted, load_roster
    from perfxl.form.template import file_name
    from perfxl.form.template import write_template as write

    ed = _edition(edition_name)
    try:
        rows = load_roster(Path(roster), {c.id for c in build_plan(ed).inputs()})
        units = [Unit(row.unit.name, row.unit.code, row.unit.year or year) for row in rows]
        paths = [Path(out_dir) / file_name(unit) for unit in units]
        first: dict[Path, int] = {}
        for row, path in zip(rows, paths, strict=True):  # a unit listed twice would overwrite itself
            if path in first:
                twice = f"第 {row.line} 行与第 {first[path]} 行是同一个单位（{path.name}）"
                raise PerfxlError(f"{roster} {twice}，请删去重复的一行")
            first[path] = row.line
        existing = [p for p in paths if p.exists()]
        if existing and not force:
            more = f"等 {len(existing)} 个文件" if len(existing) > 1 else ""
            raise PerfxlError(f"{existing[0]}{more}已存在，未生成任何模板；如需覆盖请加 --force")
        prior = _prior_year_values(prior_db, ed, units, year)
        made = []
        for row, unit, path in zip(rows, units, paths, strict=True):
            values = {**prior.get(unit, {}), **row.values}
            plan = write(path, ed, unit, values, {**(options or {}), **row.options})
            made.append(TemplateWritten(path, unit, unit in prior, tuple(converted(plan, values))))
    except (SpecError, PrefillError) as e:
        raise PerfxlError(str(e)) from None
    return made


def _prior_year_values(db: str | None, ed: Edition, units: list[Unit], year: int | None) -> dict[Unit, Any]:
    """{Unit: {field: value}} of the edition's prior_year fields from the store (explicit values win)."""
    if db is None:
        return {}
    if "://" not in db and not Path(db).is_file():
        raise PerfxlError(f"数据库文件 {db} 不存在")
    if year is None and not all(u.year for u in units):
        raise PerfxlError("按上年报表预填（--from-db）需要年度：请给 --year，或在名册中填写年度")
    from sqlalchemy.exc import SQLAlchemyError

    from perfxl.batch.store import StoreError, describe, open_store, prefill_from_store

    try:
        with open_store(db) as store:
            return prefill_from_store(store, ed, units, year)
    except (SQLAlchemyError, StoreError) as e:
        raise PerfxlError(f"无法读取数据库 {database_name(db)}：{describe(e)}") from None


def database_name(db: str) -> str:
    """A ``--db`` as it may be shown: a URL's password masked (***), a file path as given."""
    if "://" not in db:
        return db
    from perfxl.batch.store import shown

    return shown(db)


# ------------------------------------------------------------------ checking


def check_files(
    paths: Iterable[Source],
    *,
    review: bool = True,
    output: Source | None = None,
    out_dir: Source | None = None,
    force: bool = False,
    tolerance: Decimal | None = None,
    db: str | None = None,
) -> Iterator[Checked]:
    """Check each file, yielding as each is done; with ``review``, write its annotated copy
    (``output`` for a single file, else ``<原名>_审核.xlsx`` in ``out_dir`` or beside it).
    An existing copy is kept unless ``force``; a copy that cannot be written is said in the
    ``Checked``, and the next file goes on. The input files are never modified.

    With ``db`` (a SQLite path or SQLAlchemy URL) each usable return is stored as its unit's next
    round before its copy is written: the unit's explanations from earlier rounds carry over, and
    the result (and the copy) say which round it is and what it fixed since the previous one."""
    files = [Path(p) for p in paths]
    if len({_same(p) for p in files}) > 1 and output is not None:
        raise PerfxlError("-o 只能用于单个文件；多个文件请用 --out-dir")
    store = _open_store(db) if db is not None else None
    try:
        done: dict[str, Checked] = {}  # a file given twice is checked once and reported twice
        for path in files:
            key = _same(path)
            if key not in done:
                stored = _Stored(store, db)
                done[key] = _check_one(path, review, output, out_dir, force, tolerance, stored)
            yield done[key]
    finally:
        if store is not None:
            store.close()


def _same(path: Path) -> str:
    """One key for every spelling of a path (``a.xlsx``, ``./a.xlsx``, ``/full/a.xlsx``)."""
    try:
        return os.path.normcase(os.path.realpath(path))
    except (OSError, ValueError):
        return str(path)


def _check_one(
    path: Path,
    review: bool,
    output: Source | None,
    out_dir: Source | None,
    force: bool,
    tolerance: Decimal | None,
    store: _Stored,
) -> Checked:
    from perfxl.oserror import os_reason

    result = check_file(path, tolerance)
    stored = store.save(result)  # before the copy is written: the copy says which round it is
    if not review or result.status == "unusable":
        return Checked(result, stored=stored)
    from perfxl.report.review import write_review
    from perfxl.report.words import review_path

    target = Path(output) if output is not None else review_path(path, out_dir)
    try:
        if _same(target) == _same(path):
            raise PerfxlError(f"审核副本不能覆盖原文件：{path}")
        if target.exists() and not force:
            return Checked(result, None, f"审核副本 {target} 已存在，未覆盖（加 --force 覆盖）", stored)
        write_review(path, result, target)
    except OSError as e:  # e.g. the copy is open in Excel, a read-only folder: go on with the next file
        return Checked(result, None, f"无法写出审核副本 {target}：{os_reason(e)}", stored)
    except ValueError as e:
        return Checked(result, None, f"无法写出审核副本 {target}：{e}", stored)
    return Checked(result, target, stored=stored)


def _open_store(db: str) -> Any:
    from sqlalchemy.exc import SQLAlchemyError

    from perfxl.batch.store import StoreError, describe, open_store

    try:
        return open_store(db)
    except (SQLAlchemyError, StoreError, OSError) as e:
        raise PerfxlError(f"无法打开数据库 {database_name(db)}：{describe(e)}") from None


@dataclass(frozen=True)
class _Stored:
    """Where ``check_files`` stores each result, if anywhere."""

    store: Any
    db: str | None

    def save(self, result: CheckResult) -> str | None:
        """The store's outcome for ``result`` (which takes its round), or None without a store."""
        if self.store is None:
            return None
        from sqlalchemy.exc import SQLAlchemyError

        from perfxl.batch.store import StoreError, describe, save_result

        try:
            return save_result(self.store, result)
        except (SQLAlchemyError, StoreError) as e:
            raise PerfxlError(f"无法存入数据库 {database_name(self.db or '')}：{describe(e)}") from None


def history(db: str, unit: str, *, year: int | None = None) -> list[Round]:
    """Every round (报送) of one unit — by 预算编码, else by name — in the store, oldest first: its
    counts, scores, and what it fixed and added since the round before."""
    if "://" not in db and not Path(db).is_file():
        raise PerfxlError(f"数据库文件 {db} 不存在")
    from sqlalchemy.exc import SQLAlchemyError

    store = _open_store(db)
    try:
        rows = store.history(code=unit, year=year) or store.history(name=unit, year=year)
    except SQLAlchemyError as e:
        from perfxl.batch.store import describe

        raise PerfxlError(f"无法读取数据库 {database_name(db)}：{describe(e)}") from None
    finally:
        store.close()
    return [
        Round(
            round=r["round"],
            year=r["year"],
            file=r["file"],
            sha256=r["sha256"],
            checked_at=r["checked_at"],
            status=r["status"],
            reported_total=r["reported_total"],
            recomputed_total=r["recomputed_total"],
            reported_grade=r["reported_grade"],
            recomputed_grade=r["recomputed_grade"],
            counts={"错误": r["errors"], "警告": r["warnings"], "提示": r["infos"]},
            explained=r["explained"],
            fixed=len(r["fixed"]),
            new=len(r["new"]),
            is_current=r["is_current"],
            unit=r["unit"],
            code=r["code"],
        )
        for r in rows
    ]


# ------------------------------------------------------------------ the Word report


def write_reports(
    paths: Iterable[Source],
    *,
    output: Source | None = None,
    out_dir: Source | None = None,
    force: bool = False,
) -> Iterator[ReportWritten]:
    """Check each return under ``paths`` (files or folders) and write its 绩效评价报告 as Word:
    ``output`` for a single file, else ``<原名>_绩效评价报告.docx`` in ``out_dir`` or beside it. Of
    several returns of one unit and year only the current one (as consolidation picks it) gets a
    report. An existing report is kept unless ``force``. The input files are never modified."""
    from perfxl.batch.consolidate import ConsolidateError, find_returns
    from perfxl.check.narrative import own_texts
    from perfxl.check.run import read_and_check
    from perfxl.report.word import write_report
    from perfxl.report.words import report_path
    from perfxl.spec.narrative import draft_id

    try:
        files = [path for path, _ in find_returns(paths)]
    except ConsolidateError as e:
        raise PerfxlError(str(e)) from None
    if output is not None and len(files) != 1:
        raise PerfxlError("-o 只能用于单个文件；多个文件或文件夹请用 --out-dir")
    checked = [(path, *read_and_check(path)) for path in files]
    current = _current_per_unit(checked)
    for path, ret, result in checked:
        spec = ret.plan.edition.form.narrative if ret is not None else None
        if ret is None:
            yield ReportWritten(result, problem=f"无法生成报告：{result.reason}")
        elif current.get(path) is not None:
            yield ReportWritten(
                result, skipped=f"同一单位同一年度采用较新的一份 {current[path]}，本份未生成报告"
            )
        elif spec is None:
            yield ReportWritten(result, problem=f"版本 {result.edition} 没有评价报告表样，无法生成报告")
        else:
            target = Path(output) if output is not None else report_path(path, out_dir)
            if target.exists() and not force:
                yield ReportWritten(result, problem=f"报告 {target} 已存在，未覆盖（加 --force 覆盖）")
                continue
            own = own_texts(ret.plan, ret, result.facts)
            drafted = tuple(
                p.id for p in spec.parts if not own.get(p.id) and result.computed.get(draft_id(p)) is not None
            )
            try:
                write_report(ret.plan, result, own, target)
            except OSError as e:  # e.g. the report is open in Word: go on with the next file
                yield ReportWritten(result, problem=f"无法写出报告 {target}（{e.strerror or e}）")
                continue
            yield ReportWritten(result, target, drafted)


def _current_per_unit(checked: Sequence[tuple[Path, Any, CheckResult]]) -> dict[Path, str | None]:
    """Path -> None for the current return of its unit and year (batch/current.py's order), else the
    name of the one that is; a return without code or name is its own unit."""
    from perfxl.batch.current import mtime_text, recency_key
    from perfxl.engine.text import squash_spaces

    groups: dict[tuple[str, int | None], list[tuple[Any, Path]]] = {}
    for path, ret, result in checked:
        if ret is not None and (result.code or result.unit):
            key = (result.code or squash_spaces(result.unit), result.year)
            rank = recency_key(
                result.generated_at, mtime_text(path.stat().st_mtime), str(path), result.sha256
            )
            groups.setdefault(key, []).append((rank, path))
    out: dict[Path, str | None] = {}
    for members in groups.values():
        best = min(members)[1]
        out.update({path: None if path == best else best.name for _, path in members})
    return out


# ------------------------------------------------------------------ consolidation


def consolidate(
    paths: Sequence[Source],
    output: Source,
    *,
    roster: Source | Sequence[Unit] | None = None,
    db: str | None = None,
    review_dir: Source | None = None,
    workers: int | None = None,
    tolerance: Decimal | None = None,
    progress: bool | None = False,
    names: Mapping[str, str] | None = None,
) -> Consolidated:
    """Check every return under ``paths``, write the summary workbook to ``output`` and, with
    ``db`` (a SQLite path or SQLAlchemy URL), store every usable return as its unit's next round
    first, so the summary (and the review copies) say which round each is and what it fixed.
    ``roster`` is a roster file or the Units themselves; ``names`` shows a file under another name
    ({path: name})."""
    from sqlalchemy.exc import SQLAlchemyError

    from perfxl.batch.consolidate import ConsolidateError
    from perfxl.batch.consolidate import consolidate as run
    from perfxl.batch.store import StoreError, describe

    out = Path(output)
    store = _open_store(db) if db is not None else None
    try:
        con = run(
            paths,
            out,
            roster=roster,
            review_dir=review_dir,
            workers=workers,
            tolerance=tolerance,
            progress=progress,
            names=names,
            db=store,
        )
    except ConsolidateError as e:
        raise PerfxlError(str(e)) from None
    except (SQLAlchemyError, StoreError) as e:
        where = database_name(db or "")
        raise PerfxlError(f"无法存入数据库 {where}：{describe(e)}（汇总工作簿未写出）") from None
    except OSError as e:  # the summary could not be written (open in Excel? read-only folder?)
        raise PerfxlError(
            f"无法写出汇总工作簿 {out}：{e.strerror or e}（文件是否正在 Excel/WPS 中打开？）"
        ) from None
    finally:
        if store is not None:
            store.close()
    return Consolidated(con, out, con.stored)
