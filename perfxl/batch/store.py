"""The queryable store: every checked return, its scores, findings and facts, across units and years.

Any SQLAlchemy database works; the default is one SQLite file (``perfxl.sqlite``). Only portable
SQL is issued (SQLAlchemy Core, no dialect-specific statements), so the same code runs against
PostgreSQL (``postgresql+psycopg://…``). The public API takes plain Python rows, so it does not
depend on how consolidation lays out its tables; ``save_consolidation`` and ``save_result`` are
the thin adapters from a ``Consolidation`` and from a ``CheckResult``.

Schema (created on first open; ``perfxl_schema`` holds its version):

- ``units``    id, code, name, name_key, unit_key UNIQUE. A unit is identified by its 预算编码 when
  it has one, else by its name; ``unit_key`` is ``"c:" + code`` or ``"n:" + name`` after NFKC and
  whitespace normalisation (so ``（`` and ``(`` and stray spaces do not split a unit). A return
  with a code adopts an existing name-only unit of the same name; a return without a code
  joins the one coded unit of that name, if exactly one exists.
- ``returns``  id, unit_id, year, file, sha256 UNIQUE, edition, status, generated_at, modified_at
  (the file's mtime, optional), checked_at, loaded_at, reported_total, recomputed_total,
  reported_grade, recomputed_grade, superseded_by (NULL or returns.id), is_current.
  Indexes: (unit_id, year), (year, is_current).
- ``facts``    (return_id, field) PRIMARY KEY, value TEXT, numeric BOOLEAN, number (exact, NULL for
  text). Facts are the inputs read from the workbook *and* the recomputed formula values (汇总
  rows, totals, scores), so a later year can be prefilled from a computed cell such as
  ``sangong.total.total``, and amounts can be added up in SQL.
- ``scores``   (return_id, item) PRIMARY KEY, max, self, recomputed (exact).
- ``findings`` id, return_id, rule, item, severity, sheet, cell, reported, expected, message,
  explanation (the unit's 单位说明, or NULL), explained (a 警告 or 提示 it explains: 已说明).
  Indexes: (return_id), (rule).
- ``explanations`` id, unit_id, year, rule, sheet, cell, reported, text, listed, round, return_id,
  voided: every explanation a unit gave, keyed by unit, year, rule id and cell; the latest row of a
  key is the one in force, unless voided (the value it explained has changed since).
  Index: (unit_id, year).

Decisions:

- **Exact numbers.** Amounts and scores (``returns.reported_total``/``recomputed_total``,
  ``scores.*``, ``facts.number``) are exact decimals, never binary floating point: on PostgreSQL
  (and any database with a decimal type) ``NUMERIC(38, 18)`` (``EXACT``: 20 digits before the
  point, 18 after), read back as ``Decimal``; SQLite has no exact decimal type (its NUMERIC is a
  float), so there the same columns hold the canonical text of the value, which is exact too. A
  value with more than 18 decimals does not fit: a score is refused (StoreError), a fact keeps its
  exact text in ``value`` and no ``number``. ``facts.value`` is always the canonical text: plain
  notation, no exponent, no trailing zeros (``Decimal("256.70")`` → ``"256.7"``, ``0.1 + 0.2`` →
  ``"0.3"``, ``Decimal("1E+2")`` → ``"100"``), so equal values have equal text.
- **Schema versions.** This is version 3. Version 1 kept totals and scores as text everywhere and
  had no rounds nor explanations. Two versions were called 2: one made amounts exact (totals and
  scores NUMERIC on PostgreSQL, ``facts.number``), the other added ``returns.round`` (unique per
  unit, year and round), the two ``findings`` columns and ``explanations``. Opening an older store
  upgrades it in place, in one transaction: the steps it lacks are read from its columns, so 1 → 3
  takes both and either 2 → 3 the other (rounds numbered in load order).
- **Same file twice** (same sha256): nothing is written, the outcome is ``"unchanged"``, even if
  the checker has changed since; the stored findings are those of the first load.
- **Versions.** All returns of one unit and year are versions of each other. Exactly one is
  current: the first in the order of ``perfxl.batch.current`` (newest ``generated_at``, then
  newest ``modified_at`` to the second, then file name, then sha256), the order consolidation
  uses to pick the used return of a unit. Loading order therefore does not matter: an *older*
  file loaded after a newer one is stored, marked not current, and pointed at the current one
  (outcome ``"outdated"``). Every non-current version's ``superseded_by`` names the current
  version directly (one hop), and all versions keep their facts, scores and findings. Times are
  ISO 8601 text (datetimes are converted); naive times are taken as local time, unparseable
  ones count as missing (oldest).
- Returns with no year, or with neither code nor name, cannot be matched to other versions: each
  is stored as its own current return.
- **Rounds.** Each return of a unit and year is a round: the n-th one stored is round n (the same
  file twice is one round). Saving a round carries the unit's explanations over to it (same
  rule id and cell, or the rule id alone when the cell moved; see ``check.explanations``) and
  records the explanations it brings, in the same transaction; ``save_round`` also says which of
  the previous round's findings are gone (已修正) and which are new.
- **Outcomes** of ``save_return``: ``"inserted"`` (first version of its unit and year),
  ``"superseded"`` (new and current; older versions now point to it), ``"outdated"`` (stored, but a
  newer version stays current), ``"unchanged"`` (already stored).
- One transaction per ``save_return`` and one for a whole consolidation (``save_consolidation``:
  stored entirely or not at all, one commit instead of one per return); facts, scores and
  findings go in with one executemany per table per ``BATCH`` returns. A fact given twice keeps
  its last value; a score item given twice is an error.
- Speed (1,000 generated returns, ≈ 250 facts, 25 scores, 32 findings each, into a SQLite file,
  one commit): about 2 s of CPU on the 2-core development machine, half of it SQLite's own
  inserts (benchmarks/bench_consolidate.py prints it beside the raw-read floor). What makes it
  so: the batch's files, units, last rounds and explanations are read with one query each
  (``_Batch``), number text that is plain already is made canonical without parsing it (``_fits``,
  tested against the parsing path), rows are plain tuples handed to the driver's executemany,
  and the garbage collector waits until the batch is stored. ``wal=True`` (SQLite write-ahead
  log, still durable) helps the web app's many small commits, but must not be used for a
  database on a network drive, so it is off by default.
- SQLite connections enforce foreign keys. ``Store`` owns its engine: close it (or use it as a
  context manager) so the connections are released.
- **Where the database is** is shown with its password masked (``shown``); a URL whose driver is
  not installed, a database type SQLAlchemy does not know and a database that cannot be reached
  are StoreErrors with a Chinese message (naming the ``perfxl[postgres]`` extra for PostgreSQL).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from perfxl.batch.current import Recency, mtime_text, recency_key
from perfxl.check.explanations import MAX_TEXT, Explanation, Key, explain, key, pair
from perfxl.check.result import COUNT_KEYS, EXPLAINED_KEY, CheckResult
from perfxl.engine.findings import ERROR, Finding
from perfxl.engine.text import squash_spaces
from perfxl.form.meta import Unit
from perfxl.spec import Edition

SCHEMA_VERSION = 3
OUTCOMES = ("inserted", "superseded", "outdated", "unchanged")
DEFAULT_PATH = "perfxl.sqlite"

PRECISION, SCALE = 38, 18  # NUMERIC(38, 18): 20 digits before the point, 18 after


class StoreError(ValueError):
    """A row cannot be stored (e.g. no sha256) or the database is not a perfxl store."""


class Exact(sa.types.TypeDecorator[Decimal]):
    """An exact decimal column: NUMERIC(38, 18) where the database has one, the canonical text on SQLite
    (whose NUMERIC is a binary float). Values come back as ``Decimal`` either way."""

    impl = sa.Numeric(PRECISION, SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(PRECISION + 3))
        return dialect.type_descriptor(sa.Numeric(PRECISION, SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if type(value) is Fitted:  # checked and made canonical already
            return str(value) if dialect.name == "sqlite" else Decimal(value)
        number = exact(value)
        if number is None:
            raise StoreError(
                f"数值 {value} 的小数超过 {SCALE} 位或整数超过 {PRECISION - SCALE} 位，无法精确存入数据库"
            )
        return canonical(number) if dialect.name == "sqlite" else number

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        return None if value is None else Decimal(canonical(Decimal(value)))


metadata = sa.MetaData()

schema_table = sa.Table(
    "perfxl_schema",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
)

units_t = sa.Table(
    "units",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(64)),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("name_key", sa.String(255), nullable=False, index=True),
    sa.Column("unit_key", sa.String(300), nullable=False, unique=True),
)

returns_t = sa.Table(
    "returns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id")),
    sa.Column("year", sa.Integer),
    sa.Column("file", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("edition", sa.String(64)),
    sa.Column("status", sa.String(16)),
    sa.Column("generated_at", sa.String(40)),
    sa.Column("modified_at", sa.String(40)),
    sa.Column("checked_at", sa.String(40)),
    sa.Column("loaded_at", sa.String(40), nullable=False),
    sa.Column("reported_total", Exact),
    sa.Column("recomputed_total", Exact),
    sa.Column("reported_grade", sa.String(16)),
    sa.Column("recomputed_grade", sa.String(16)),
    sa.Column("superseded_by", sa.Integer, sa.ForeignKey("returns.id")),
    sa.Column("is_current", sa.Boolean, nullable=False),
    sa.Column("round", sa.Integer),
    sa.Index("ix_returns_unit_year", "unit_id", "year"),
    sa.Index("ix_returns_year_current", "year", "is_current"),
    sa.Index("uq_returns_round", "unit_id", "year", "round", unique=True),
)
_INSERT_RETURN = sa.insert(returns_t)  # built once: SQLAlchemy compiles it once per database

facts_t = sa.Table(
    "facts",
    metadata,
    sa.Column("return_id", sa.Integer, sa.ForeignKey("returns.id"), primary_key=True),
    sa.Column("field", sa.String(120), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("numeric", sa.Boolean, nullable=False),
    sa.Column("number", Exact),
)

scores_t = sa.Table(
    "scores",
    metadata,
    sa.Column("return_id", sa.Integer, sa.ForeignKey("returns.id"), primary_key=True),
    sa.Column("item", sa.String(32), primary_key=True),
    sa.Column("max", Exact),
    sa.Column("self", Exact),
    sa.Column("recomputed", Exact),
)

findings_t = sa.Table(
    "findings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("return_id", sa.Integer, sa.ForeignKey("returns.id"), nullable=False, index=True),
    sa.Column("rule", sa.String(120), nullable=False, index=True),
    sa.Column("item", sa.String(32)),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("sheet", sa.String(64)),
    sa.Column("cell", sa.String(32)),
    sa.Column("reported", sa.Text),
    sa.Column("expected", sa.Text),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("explanation", sa.Text),
    sa.Column("explained", sa.Boolean, nullable=False, server_default=sa.false()),
)

explanations_t = sa.Table(
    "explanations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("rule", sa.String(120), nullable=False),
    sa.Column("sheet", sa.String(64)),
    sa.Column("cell", sa.String(32)),
    sa.Column("reported", sa.Text),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("listed", sa.Integer, nullable=False),  # findings of this rule in the round it was given
    sa.Column("round", sa.Integer),
    sa.Column("return_id", sa.Integer, sa.ForeignKey("returns.id"), nullable=False),
    sa.Column("voided", sa.Boolean, nullable=False),
    sa.Index("ix_explanations_unit_year", "unit_id", "year"),
)


# ------------------------------------------------------------------ values


def canonical(value: Decimal) -> str:
    """The one text of a Decimal's value: plain notation, no exponent, no trailing zeros."""
    if not value.is_finite():
        raise StoreError(f"无法保存非有限数值 {value}")
    if value.is_zero():
        return "0"
    text = format(value, "f")  # every digit as stored: no rounding to the context's 28 digits
    return text.rstrip("0").rstrip(".") if "." in text else text


def exact(value: Any) -> Decimal | None:
    """``value`` as a Decimal that fits NUMERIC(38, 18) exactly, or None if it does not."""
    text = _fits(value)
    return None if text is None else Decimal(text)


class Fitted(str):
    """The canonical text of a number that fits NUMERIC(38, 18) (``_fits``): an ``Exact`` column
    takes it as it is, without parsing and checking it again."""


# Plain number text (no exponent, sign, spaces or underscores other than a leading "-") with at
# most 20 digits before the point: most numbers a consolidation hands over are such text.
_PLAIN_TEXT = re.compile(r"(-?)(0|[1-9][0-9]{0,19})(?:\.([0-9]*))?")
_INT_LIMIT = 10 ** (PRECISION - SCALE)


def _fits(value: Any) -> Fitted | None:
    """The canonical text of ``value`` if it is a number that fits NUMERIC(38, 18), else None."""
    kind = type(value)
    if kind is int:
        return Fitted(str(value)) if -_INT_LIMIT < value < _INT_LIMIT else None
    if kind is Decimal and value.is_finite():
        value = format(value, "f")  # every digit, plain notation: what ``canonical`` starts from
        kind = str
    if kind is str:  # fast path: plain text is made canonical without parsing it as a Decimal
        plain = _PLAIN_TEXT.fullmatch(value)
        if plain:
            sign, whole, places = plain.group(1), plain.group(2), (plain.group(3) or "").rstrip("0")
            if len(places) <= SCALE:
                if whole == "0" and not places:
                    return Fitted("0")
                return Fitted(f"{sign}{whole}.{places}" if places else f"{sign}{whole}")
    return _fits_slowly(value)


# A batch repeats many numbers (facts 0, 100.00…, scores 5, 4.5…): each is made canonical once.
# Equal numbers have one canonical text, so numbers equal in value may share an entry; ``typed``
# keeps True apart from 1 (a bool is no number here).
_fits_memo = functools.lru_cache(maxsize=1 << 13, typed=True)(_fits)  # the frequent ones; a few MB


def _fits_cached(value: Any) -> Fitted | None:
    try:
        return _fits_memo(value)
    except TypeError:  # unhashable (a signalling NaN): no cache
        return _fits(value)


def _fits_slowly(value: Any) -> Fitted | None:
    """``_fits`` for any value, by parsing it as a Decimal (the reference the fast path is tested against)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except ArithmeticError:
        return None
    if not number.is_finite():
        return None
    text = canonical(number)
    whole, _, places = text.lstrip("-").partition(".")
    if len(places) > SCALE or len(whole.lstrip("0")) > PRECISION - SCALE:
        return None
    return Fitted(text)


def to_text(value: Any) -> str | None:
    """A value as stored in a TEXT column: Decimals (and ints, floats) canonical, the rest str()."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return canonical(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return canonical(Decimal(repr(value)))
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, Decimal | int | float) and not isinstance(value, bool)


def _number(value: Any, what: str = "数值") -> Fitted | None:
    """A value for an exact column: None for missing (None, NaN), else its canonical text (``Exact``
    binds it as is); a value that does not fit NUMERIC(38, 18) is refused before anything is written."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    number = _fits_cached(value)
    if number is None:
        raise StoreError(
            f"{what} {value} 的小数超过 {SCALE} 位或整数超过 {PRECISION - SCALE} 位，无法精确存入数据库"
        )
    return number


def _when(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _recency(row: Mapping[Any, Any]) -> Recency:
    """Where a version sorts among its unit's versions of the year, the current one first."""
    return recency_key(
        _when(row.get("generated_at")),
        _when(row.get("modified_at")),
        str(row.get("file") or ""),
        row.get("sha256"),
    )


def _year(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
        if number == number.to_integral_value():
            return int(number)
    except ArithmeticError:
        pass
    raise StoreError(f"年度应为整数，实际为 {value!r}")


# ------------------------------------------------------------------ the store


def engine_for(url_or_path: str | Path, *, wal: bool = False) -> Engine:
    """An engine for a SQLAlchemy URL, or for a SQLite file given as a plain path.

    SQLite connections enforce foreign keys; ``wal`` switches a SQLite file to write-ahead
    logging (one fsync per commit instead of several: loads several times faster on a busy
    disk; every commit stays durable). Do not use it for a database on a network drive.
    A URL that cannot be used (malformed, unknown database type, driver not installed) is a
    StoreError saying so in Chinese, with the password masked.
    """
    text = str(url_or_path)
    try:
        if "://" in text:
            url = sa.engine.make_url(text)
        else:
            path = Path(text).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            url = sa.URL.create("sqlite", database=str(path))
        engine = sa.create_engine(url)
    except sa.exc.NoSuchModuleError:
        kind = text.split("://", 1)[0]
        raise StoreError(
            f"数据库 {shown(text)}：不认识的数据库类型“{kind}”（可用如 sqlite:///文件 或 postgresql+psycopg://…）"
        ) from None
    except (sa.exc.ArgumentError, ValueError):  # ValueError: e.g. a port that is no number
        raise StoreError(
            f"数据库地址 {shown(text)} 的格式不对（应如 postgresql+psycopg://用户@主机/库名）"
        ) from None
    except ImportError as e:  # the URL's driver is not installed
        raise StoreError(f"数据库 {shown(text)}：{_missing_driver(text, e)}") from None
    if engine.dialect.name == "sqlite":
        pragmas = ["foreign_keys=ON", *(["journal_mode=WAL"] if wal else [])]
        sa.event.listen(engine, "connect", lambda dbapi_conn, _record: _sqlite_pragmas(dbapi_conn, pragmas))
    return engine


def shown(url_or_path: str | Path) -> str:
    """A database as it may be printed: a URL with its password masked (***), a path as is."""
    text = str(url_or_path)
    scheme, sep, rest = text.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return text
    return f"{scheme}://{userinfo.partition(':')[0]}:***@{host}"


def _missing_driver(url: str, error: ImportError) -> str:
    module = (error.name or "").split(".")[0] or "数据库驱动"
    if url.startswith(("postgresql", "postgres")):
        return (
            f"没有安装 PostgreSQL 驱动 {module}；请安装 perfxl 的 postgres 扩展："
            'pip install "perfxl[postgres]"（并使用 postgresql+psycopg:// 开头的地址）'
        )
    return f"没有安装数据库驱动 {module}；请先用 pip 安装它"


def describe(error: Exception) -> str:
    """Why the database refused, in one line: Chinese, with the driver's own first line for detail."""
    if isinstance(error, StoreError):
        return str(error)
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()
    first = detail[0] if detail else ""
    if isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError):
        return f"无法连接或操作数据库（{first}）"
    return f"数据库出错（{first}）"


def _sqlite_pragmas(dbapi_connection: Any, pragmas: list[str]) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in pragmas:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def open_store(url_or_path: str | Path = DEFAULT_PATH, *, wal: bool = False) -> Store:
    """Open (creating the tables if needed) the store at a path (SQLite) or SQLAlchemy URL.

    ``wal``: SQLite only, see ``engine_for``.
    """
    return Store(engine_for(url_or_path, wal=wal))


class Store:
    """Returns, scores, findings and facts in one database. Close it, or use ``with``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        try:
            metadata.create_all(engine)
            with engine.begin() as conn:
                found = conn.execute(sa.select(schema_table.c.version)).scalars().all()
                if not found:
                    conn.execute(sa.insert(schema_table).values(version=SCHEMA_VERSION))
                elif max(found) > SCHEMA_VERSION:
                    raise StoreError(
                        f"数据库结构版本 {max(found)} 新于本程序支持的 {SCHEMA_VERSION}，请升级 perfxl"
                    )
                elif max(found) < SCHEMA_VERSION:
                    _upgrade(conn)
        except BaseException:
            engine.dispose()
            raise

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- writing

    def save_return(
        self,
        ret: Mapping[str, Any],
        scores: Iterable[Mapping[str, Any]] = (),
        findings: Iterable[Mapping[str, Any]] = (),
        facts: Iterable[Mapping[str, Any]] | Mapping[str, Any] = (),
    ) -> str:
        """Store one checked return in one transaction; returns the outcome (see module docstring).

        ``ret`` keys: file, sha256, edition, code, unit (the unit's name), year, status,
        generated_at, modified_at (optional: the file's mtime), checked_at, reported_total,
        recomputed_total, reported_grade, recomputed_grade. ``scores`` rows: item, max, self,
        recomputed. ``findings`` rows: rule, item, severity, sheet, cell, reported, expected,
        message, and optionally explanation and explained. ``facts``: rows with field and value,
        or a mapping {field: value}. Decimal values are stored exactly.
        """
        return self.save_round(ret, scores, findings, facts).outcome

    def save_round(
        self,
        ret: Mapping[str, Any],
        scores: Iterable[Mapping[str, Any]] = (),
        findings: Iterable[Mapping[str, Any]] = (),
        facts: Iterable[Mapping[str, Any]] | Mapping[str, Any] = (),
    ) -> Saved:
        """``save_return``, saying also which round the return is, its findings with the unit's
        explanations carried over, and what it fixed and added since the previous round."""
        return self.save_all([ret], lambda: [_prepare(ret, scores, findings, _fact_rows(facts))])[0]

    def save_all(
        self,
        rets: Sequence[Mapping[str, Any]],
        rounds: Callable[[], Iterable[Prepared]],
        brief: bool = False,
    ) -> list[Saved]:
        """Store returns in order, in ONE transaction: all or none (a StoreError raised while
        ``rounds()`` prepares them rolls everything back). Each is its unit's next round exactly
        as if saved alone; their facts, scores and findings go in with one executemany per table
        per ``BATCH`` returns. ``rets``: their ``returns`` rows, whose files, units, rounds and
        explanations are looked up in one go; ``rounds`` is called again if a concurrent writer
        wins a UNIQUE race. ``brief``: each ``Saved`` keeps its findings and new ones as ``Brief``
        (a batch of 10,000 returns holds them all until it is done)."""
        for attempt in range(2):  # a concurrent writer may win a UNIQUE race once; then re-read
            try:
                with self.engine.begin() as conn, _no_gc_pauses():
                    batch = _Batch(conn, rets)
                    out = []
                    for n, p in enumerate(rounds(), start=1):
                        done = self._save(conn, p, batch)
                        out.append(_brief(done) if brief else done)
                        if n % BATCH == 0:
                            batch.flush()
                            _young_garbage()
                    batch.flush()
                    return out
            except sa.exc.IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _save(self, conn: Connection, p: Prepared, batch: _Batch) -> Saved:
        known = batch.known.get(p.sha)
        if known is not None:
            return _saved(conn, "unchanged", known, batch)
        ret, finding_rows = p.ret, p.findings
        code, name = squash_spaces(ret.get("code"), nfkc=True), str(ret.get("unit") or "").strip()
        year = _year(ret.get("year"))
        unit_id = batch.units.for_save(code, name)
        round_no, carried = None, _Carried({}, [])
        if unit_id is not None and year is not None:
            round_no = batch.rounds.get((unit_id, year), 0) + 1
            batch.rounds[(unit_id, year)] = round_no
            finding_rows, carried = _carry_over(batch.explanations(unit_id, year), finding_rows)
        new_id = _insert(
            conn,
            _INSERT_RETURN,
            dict(
                unit_id=unit_id,
                year=year,
                file=str(ret.get("file") or ""),
                sha256=p.sha,
                edition=ret.get("edition"),
                status=ret.get("status"),
                generated_at=_when(ret.get("generated_at")),
                modified_at=_when(ret.get("modified_at")),
                checked_at=_when(ret.get("checked_at")) or _now(),
                loaded_at=_now(),
                reported_total=p.totals[0],
                recomputed_total=p.totals[1],
                reported_grade=ret.get("reported_grade"),
                recomputed_grade=ret.get("recomputed_grade"),
                superseded_by=None,
                is_current=True,
                round=round_no,
            ),
        )
        batch.known[p.sha] = new_id
        batch.add(new_id, p.facts, p.scores, finding_rows)
        if unit_id is None or year is None:
            return _saved(conn, "inserted", new_id, batch, (None, None, None))
        if _record_explanations(conn, unit_id, year, round_no, new_id, finding_rows, carried):
            batch.changed_explanations.add((unit_id, year))
        # a first round is the only version of its unit's year (every such return has a round)
        outcome = "inserted" if round_no == 1 else _make_current(conn, unit_id, year, new_id, name)
        return _saved(conn, outcome, new_id, batch, (unit_id, year, round_no))

    def explain(
        self, sha256: str, rule: str, sheet: str | None, cell: str | None, text: str
    ) -> dict[str, Any]:
        """Record the unit's explanation of one finding of a stored return, as a returned review
        copy would have given it (the web app's unit page types it in): kept for the unit, year,
        rule and cell, carried over to later rounds while the value stays the same. A 警告 or 提示
        becomes 已说明; an 错误 keeps the explanation beside it and still counts. An empty text
        withdraws the explanation. Returns the finding row as stored now."""
        text = text.strip()[:MAX_TEXT]
        with self.engine.begin() as conn:
            ret = conn.execute(
                sa.select(returns_t.c.id, returns_t.c.unit_id, returns_t.c.year, returns_t.c.round).where(
                    returns_t.c.sha256 == sha256.lower()
                )
            ).first()
            if ret is None or ret.unit_id is None or ret.year is None:
                raise StoreError("数据库中没有这份报表（或报表未填单位、年度），无法记录说明")
            where = [findings_t.c.return_id == ret.id, findings_t.c.rule == rule]
            where += [findings_t.c.sheet.is_(None) if sheet is None else findings_t.c.sheet == sheet]
            where += [findings_t.c.cell.is_(None) if cell is None else findings_t.c.cell == cell]
            found = conn.execute(sa.select(findings_t).where(*where).order_by(findings_t.c.id)).first()
            if found is None:
                raise StoreError(f"这份报表没有这条问题（{rule} {sheet or ''}!{cell or ''}）")
            explained = bool(text) and found.severity != ERROR
            conn.execute(
                sa.update(findings_t)
                .where(findings_t.c.id == found.id)
                .values(explanation=text or None, explained=explained)
            )
            same_key = [
                explanations_t.c.unit_id == ret.unit_id,
                explanations_t.c.year == ret.year,
                explanations_t.c.rule == rule,
                explanations_t.c.sheet.is_(None) if sheet is None else explanations_t.c.sheet == sheet,
                explanations_t.c.cell.is_(None) if cell is None else explanations_t.c.cell == cell,
            ]
            conn.execute(sa.update(explanations_t).where(*same_key).values(voided=True))
            if text:
                listed = conn.execute(
                    sa.select(sa.func.count()).where(
                        findings_t.c.return_id == ret.id, findings_t.c.rule == rule
                    )
                ).scalar()
                conn.execute(
                    sa.insert(explanations_t).values(
                        unit_id=ret.unit_id,
                        year=ret.year,
                        rule=rule,
                        sheet=sheet,
                        cell=cell,
                        reported=found.reported,
                        text=text,
                        listed=int(listed or 1),
                        round=ret.round,
                        return_id=ret.id,
                        voided=False,
                    )
                )
            return {**found._mapping, "explanation": text or None, "explained": explained}

    # -------------------------------------------------------------- reading

    def returns(
        self,
        year: int | None = None,
        *,
        current_only: bool = False,
        code: str | None = None,
        name: str | None = None,
    ) -> list[dict[str, Any]]:
        """Returns as dicts (unit code and name, Decimal totals, finding counts), optionally of
        one year, one unit, only the current versions. Ordered by unit, year, load order."""
        query = sa.select(returns_t, units_t.c.code, units_t.c.name.label("unit")).select_from(
            returns_t.outerjoin(units_t, returns_t.c.unit_id == units_t.c.id)
        )
        if year is not None:
            query = query.where(returns_t.c.year == year)
        if current_only:
            query = query.where(returns_t.c.is_current == sa.true())
        with self.engine.connect() as conn:
            if code is not None or name is not None:
                unit_id = _find_unit(conn, squash_spaces(code, nfkc=True), str(name or ""))
                if unit_id is None:
                    return []
                query = query.where(returns_t.c.unit_id == unit_id)
            order = (units_t.c.code, units_t.c.name, returns_t.c.year, returns_t.c.id)
            rows = conn.execute(query.order_by(*order)).all()
            counts: dict[int, dict[str, int]] = {}
            if rows:
                ids = [r.id for r in rows]
                for chunk in _chunks(ids, 500):
                    f = findings_t.c
                    for rid, severity, explained, n in conn.execute(
                        sa.select(f.return_id, f.severity, f.explained, sa.func.count())
                        .where(f.return_id.in_(chunk))
                        .group_by(f.return_id, f.severity, f.explained)
                    ):
                        key = (
                            EXPLAINED_KEY if explained else COUNT_KEYS.get(severity)
                        )  # open ones per severity
                        if key:
                            counts.setdefault(rid, {})[key] = counts.get(rid, {}).get(key, 0) + n
        out = []
        for r in rows:
            d = dict(r._mapping)
            del d["unit_id"]
            d["is_current"] = bool(d["is_current"])
            d.update({k: counts.get(r.id, {}).get(k, 0) for k in (*COUNT_KEYS.values(), EXPLAINED_KEY)})
            out.append(d)
        return out

    def history(
        self, code: str | None = None, name: str | None = None, year: int | None = None
    ) -> list[dict[str, Any]]:
        """Every round of one unit (of one year, or of all), oldest first: its ``returns`` row with
        ``fixed`` and ``new``, the findings it fixed and added since the round before."""
        rows = [r for r in self.returns(year, code=code, name=name) if r["round"] is not None]
        rows.sort(key=lambda r: (r["year"], r["round"]))
        with self.engine.connect() as conn:
            for r in rows:
                saved = _saved(conn, "", r["id"])
                r["fixed"], r["new"] = list(saved.fixed), list(saved.new)
        return rows

    def current_returns(self, year: int | None = None) -> list[dict[str, Any]]:
        """The current version of every unit's return (of one year, or of every year)."""
        return self.returns(year, current_only=True)

    def facts(self, sha256: str, typed: bool = False) -> dict[str, Any]:
        """{field: value} of one return: text, or Decimal for numbers when ``typed``."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(facts_t.c.field, facts_t.c.value, facts_t.c.numeric)
                .join(returns_t, facts_t.c.return_id == returns_t.c.id)
                .where(returns_t.c.sha256 == sha256.lower())
            ).all()
        return {f: (Decimal(v) if typed and n else v) for f, v, n in rows}

    def scores(self, sha256: str) -> list[dict[str, Any]]:
        """Score rows of one return: item, max, self, recomputed (Decimals)."""
        with self.engine.connect() as conn:
            cols = (scores_t.c.item, scores_t.c.max, scores_t.c.self, scores_t.c.recomputed)
            rows = conn.execute(
                sa.select(*cols)
                .join(returns_t, scores_t.c.return_id == returns_t.c.id)
                .where(returns_t.c.sha256 == sha256.lower())
                .order_by(scores_t.c.item)
            ).all()
        return [{"item": r.item, "max": r.max, "self": r.self, "recomputed": r.recomputed} for r in rows]

    def findings(self, sha256: str) -> list[dict[str, Any]]:
        """Finding rows of one return in the order they were given (reported/expected as text)."""
        cols = [c for c in findings_t.c if c.name not in ("id", "return_id")]
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(*cols)
                .join(returns_t, findings_t.c.return_id == returns_t.c.id)
                .where(returns_t.c.sha256 == sha256.lower())
                .order_by(findings_t.c.id)
            ).all()
        return [dict(r._mapping) for r in rows]

    def prior_values(
        self, code: str | None, name: str | None, year: int, fields: Sequence[str]
    ) -> dict[str, str]:
        """Values (as stored text) of ``fields`` in the current return of that unit for ``year``;
        fields the return does not have are left out, and an unknown unit or year gives {}."""
        return {f: v for f, (v, _) in self._prior(code, name, year, fields).items()}

    def _prior(
        self, code: str | None, name: str | None, year: int, fields: Sequence[str]
    ) -> dict[str, tuple[str, bool]]:
        if not fields:
            return {}
        with self.engine.connect() as conn:
            unit_id = _find_unit(conn, squash_spaces(code, nfkc=True), str(name or ""))
            if unit_id is None:
                return {}
            rows = conn.execute(
                sa.select(facts_t.c.field, facts_t.c.value, facts_t.c.numeric)
                .join(returns_t, facts_t.c.return_id == returns_t.c.id)
                .where(
                    returns_t.c.unit_id == unit_id,
                    returns_t.c.year == year,
                    returns_t.c.is_current == sa.true(),
                    facts_t.c.field.in_(list(fields)),
                )
            ).all()
        return {f: (v, bool(n)) for f, v, n in rows}


@dataclass(frozen=True)
class Prepared:
    """One return's rows, checked and converted before any is written (``_prepare``)."""

    sha: str
    ret: Mapping[str, Any]
    totals: tuple[Fitted | None, Fitted | None]
    scores: list[tuple[Any, ...]]  # in SCORE_KEYS order
    findings: list[dict[str, Any]]
    facts: list[tuple[Any, ...]]  # in FACT_KEYS order


def _prepare(
    ret: Mapping[str, Any],
    scores: Iterable[Mapping[str, Any]],
    findings: Iterable[Mapping[str, Any]],
    facts: list[tuple[Any, ...]],
) -> Prepared:
    """A return's rows as stored (``facts`` are rows of the facts table already, ``_fact_rows``),
    or the StoreError that refuses it."""
    sha = str(ret.get("sha256") or "").strip().lower()
    if not sha:
        raise StoreError(f"{ret.get('file')}：缺少 sha256，无法入库")
    score_rows = [_score_row(r) for r in scores]
    items = [r[0] for r in score_rows]
    if len(set(items)) != len(items):
        dup = sorted({i for i in items if items.count(i) > 1})
        raise StoreError(f"{ret.get('file')}：评分项重复：{', '.join(dup)}")
    totals = (
        _number(ret.get("reported_total"), "自评总分"),
        _number(ret.get("recomputed_total"), "复核总分"),
    )
    return Prepared(sha, ret, totals, score_rows, [_finding_row(r) for r in findings], facts)


class _Batch:
    """The returns stored in one transaction. Looked up once for all of them: which files are
    stored already, their units (locked, on databases that lock rows, so no other writer numbers
    their rounds meanwhile), the units' last rounds and explanations; kept up to date here as
    returns are saved. The facts, scores and findings of the new ones are inserted together (one
    executemany per table per ``BATCH`` returns); until then a new return's findings are read
    from here."""

    def __init__(self, conn: Connection, rets: Sequence[Mapping[str, Any]]) -> None:
        self.conn = conn
        self.known: dict[str, int] = {}
        shas = {str(r.get("sha256") or "").strip().lower() for r in rets}
        for chunk in _chunks(sorted(shas), 500):
            rows = conn.execute(
                sa.select(returns_t.c.sha256, returns_t.c.id).where(returns_t.c.sha256.in_(chunk))
            )
            self.known.update({sha: rid for sha, rid in rows})
        self.units = _Units(conn, rets)
        ids = sorted(self.units.loaded)
        if ids and conn.dialect.name != "sqlite":  # SQLite's write transaction locks the whole file already
            for chunk in _chunks(ids, 500):
                conn.execute(sa.select(units_t.c.id).where(units_t.c.id.in_(chunk)).with_for_update()).all()
        self.rounds: dict[tuple[int, int], int] = {}  # (unit_id, year): its last round
        self.stored: dict[tuple[int, int], list[Any]] = {}  # (unit_id, year): its explanations rows
        r, e = returns_t.c, explanations_t.c
        for chunk in _chunks(ids, 500):
            rounds = sa.select(r.unit_id, r.year, sa.func.max(r.round)).where(
                r.unit_id.in_(chunk), r.year.is_not(None)
            )
            for unit_id, year, last in conn.execute(rounds.group_by(r.unit_id, r.year)):
                self.rounds[(unit_id, year)] = last or 0
            for row in conn.execute(sa.select(explanations_t).where(e.unit_id.in_(chunk)).order_by(e.id)):
                self.stored.setdefault((row.unit_id, row.year), []).append(row)
        self.changed_explanations: set[tuple[int, int]] = set()  # written since: read them again
        self.rows: dict[Any, list[tuple[Any, ...]]] = {facts_t: [], scores_t: [], findings_t: []}
        self.findings: dict[int, list[dict[str, Any]]] = {}

    def add(
        self,
        return_id: int,
        facts: list[tuple[Any, ...]],
        scores: list[tuple[Any, ...]],
        findings: list[dict[str, Any]],
    ) -> None:
        self.rows[facts_t].extend((return_id, *r) for r in facts)
        self.rows[scores_t].extend((return_id, *r) for r in scores)
        self.rows[findings_t].extend((return_id, *(r[k] for k in FINDING_COLUMNS)) for r in findings)
        self.findings[return_id] = [{k: r[k] for k in FINDING_COLUMNS} for r in findings]

    def explanations(self, unit_id: int, year: int) -> Sequence[Any]:
        """The unit's explanations rows of the year, oldest first."""
        if (unit_id, year) in self.changed_explanations:
            self.changed_explanations.discard((unit_id, year))
            e = explanations_t.c
            self.stored[(unit_id, year)] = list(
                self.conn.execute(
                    sa.select(explanations_t).where(e.unit_id == unit_id, e.year == year).order_by(e.id)
                )
            )
        return self.stored.get((unit_id, year), [])

    def flush(self) -> None:
        for table, keys in ((facts_t, FACT_KEYS), (scores_t, SCORE_KEYS), (findings_t, FINDING_COLUMNS)):
            rows = self.rows[table]
            if rows:
                _insert_many(self.conn, table, ("return_id", *keys), rows)
            rows.clear()
        self.findings.clear()  # in the database now


def _insert_many(conn: Connection, table: sa.Table, keys: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """``INSERT`` many rows (tuples in ``keys`` order): the Core statement compiled once for this
    database, the rows handed to the driver's executemany. SQLAlchemy's per-row parameter
    processing would cost more than the database itself at 200,000 facts; what it would do is
    done here instead: an exact number goes as ``Exact`` binds it (canonical text on SQLite, a
    Decimal elsewhere)."""
    compiled = sa.insert(table).compile(dialect=conn.dialect, column_keys=list(keys))
    bind = Exact().process_bind_param
    for at in [n for n, k in enumerate(keys) if isinstance(table.c[k].type, Exact)]:
        for i, r in enumerate(rows):
            v = r[at]
            # SQLite stores a Fitted (a str) as it is: its canonical text is what Exact binds there
            if v is not None and not (type(v) is Fitted and conn.dialect.name == "sqlite"):
                rows[i] = (*r[:at], bind(v, conn.dialect), *r[at + 1 :])
    if not compiled.positional:
        params: Any = [dict(zip(keys, r, strict=True)) for r in rows]
    elif list(compiled.positiontup or []) == list(keys):
        params = rows
    else:
        where = [list(keys).index(n) for n in compiled.positiontup or []]
        params = [tuple(r[n] for n in where) for r in rows]
    conn.exec_driver_sql(str(compiled), params)


def _upgrade(conn: Connection) -> None:
    """Bring a store of any older schema version up to this one in place, keeping every row.

    Two lines of development each called their schema "2": one made amounts exact (NUMERIC columns,
    ``facts.number``), the other added rounds and explanations (``returns.round``, the findings'
    ``explanation``/``explained``). What a store lacks is therefore read from its columns, not from
    its version number, and each change is made only where it is missing: 1 → 3 makes them all,
    either 2 → 3 the other line's. The tables a version lacks (``explanations``) ``create_all`` has
    already made."""
    inspector = sa.inspect(conn)
    columns = {
        table: {c["name"]: c["type"] for c in inspector.get_columns(table)}
        for table in ("returns", "facts", "scores", "findings")
    }
    _upgrade_exact_numbers(conn, columns)
    _upgrade_rounds(conn, columns)
    if "uq_returns_round" not in {i["name"] for i in inspector.get_indexes("returns")}:
        next(i for i in returns_t.indexes if i.name == "uq_returns_round").create(conn)
    conn.execute(sa.delete(schema_table))  # one row, whichever versions an older store recorded
    conn.execute(sa.insert(schema_table).values(version=SCHEMA_VERSION))


EXACT_COLUMNS = (
    ("returns", "reported_total"),
    ("returns", "recomputed_total"),
    ("scores", "max"),
    ("scores", "self"),
    ("scores", "recomputed"),
)


def _upgrade_exact_numbers(conn: Connection, columns: dict[str, dict[str, Any]]) -> None:
    """Totals and scores become NUMERIC where the database has it (SQLite keeps their canonical text,
    which is what this version stores there too); facts get their exact ``number``."""
    sqlite = conn.dialect.name == "sqlite"
    numeric = f"NUMERIC({PRECISION}, {SCALE})"
    for table, column in EXACT_COLUMNS:
        if not sqlite and not isinstance(columns[table][column], sa.Numeric):
            cast = f'CAST("{column}" AS {numeric})'
            conn.exec_driver_sql(f'ALTER TABLE {table} ALTER COLUMN "{column}" TYPE {numeric} USING {cast}')
    if "number" in columns["facts"]:
        return
    if sqlite:
        conn.exec_driver_sql(f"ALTER TABLE facts ADD COLUMN number VARCHAR({PRECISION + 3})")
        conn.exec_driver_sql("UPDATE facts SET number = value WHERE numeric")
        return
    conn.exec_driver_sql(f"ALTER TABLE facts ADD COLUMN number {numeric}")
    # a value with more decimals than fit keeps only its exact text, as this version stores it
    conn.exec_driver_sql(
        f"UPDATE facts SET number = CAST(value AS {numeric}) "
        f"WHERE numeric AND scale(CAST(value AS NUMERIC)) <= {SCALE}"
    )


def _upgrade_rounds(conn: Connection, columns: dict[str, dict[str, Any]]) -> None:
    """Rounds and explanations: ``returns.round`` (the n-th return loaded of a unit and year is round
    n, as it would be now) and the findings' ``explanation`` and ``explained``."""
    quote = conn.dialect.identifier_preparer.quote
    if "explanation" not in columns["findings"]:
        conn.execute(sa.text("ALTER TABLE findings ADD COLUMN explanation TEXT"))
    if "explained" not in columns["findings"]:
        false = sa.false().compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE findings ADD COLUMN explained BOOLEAN NOT NULL DEFAULT {false}"))
    if "round" in columns["returns"]:
        return
    conn.execute(sa.text(f"ALTER TABLE returns ADD COLUMN {quote('round')} INTEGER"))
    groups: dict[tuple[int, int], int] = {}
    rows = conn.execute(
        sa.select(returns_t.c.id, returns_t.c.unit_id, returns_t.c.year)
        .where(returns_t.c.unit_id.is_not(None), returns_t.c.year.is_not(None))
        .order_by(returns_t.c.id)
    ).all()
    for rid, unit_id, year in rows:
        groups[(unit_id, year)] = n = groups.get((unit_id, year), 0) + 1
        conn.execute(sa.update(returns_t).where(returns_t.c.id == rid).values(round=n))


@contextlib.contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Hold the cyclic garbage collector while a batch is stored: the hundreds of thousands of
    (acyclic) row tuples it makes would trigger full collections over everything the caller
    holds (a consolidation's frames), a sixth of the store's time; it runs again after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _young_garbage() -> None:
    """While the collector is held (``_no_gc_pauses``): the cycles the last ``BATCH`` returns left
    (statements, results), found among the young objects only, so 10,000 returns do not pile them
    up (tens of MB) and no collection runs over what the caller holds."""
    gc.collect(1)


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _file_mtime(path: str) -> str | None:
    try:
        return mtime_text(os.stat(path).st_mtime)
    except OSError:  # moved or deleted since it was checked: the order takes it as oldest
        return None


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _find_unit(conn: Connection, code: str, name: str) -> int | None:
    """The unit a (code, name) pair denotes, or None. See the module docstring for the matching."""
    return _Units(conn, [{"code": code, "unit": name}]).find(code, squash_spaces(name, nfkc=True))


class _Units:
    """The units of a batch of returns, read in one go and kept up to date as returns are saved:
    ``find`` is the one matching (see the module docstring); ``for_save`` also creates units and
    adopts codes."""

    def __init__(self, conn: Connection, rets: Sequence[Mapping[str, Any]]) -> None:
        self.conn = conn
        self.by_key: dict[str, int] = {}  # unit_key: id
        self.by_name: dict[str, set[int]] = {}  # name_key: ids of every unit of that name
        keys, names = set(), set()
        for ret in rets:
            code = squash_spaces(ret.get("code"), nfkc=True)
            name_key = squash_spaces(str(ret.get("unit") or "").strip(), nfkc=True)
            keys.update([f"c:{code}"] if code else [])
            names.update([name_key] if name_key else [])
        u = units_t.c
        for where in [*(u.unit_key.in_(c) for c in _chunks(sorted(keys), 500))] + [
            u.name_key.in_(c) for c in _chunks(sorted(names), 500)
        ]:
            for uid, unit_key, name_key in conn.execute(sa.select(u.id, u.unit_key, u.name_key).where(where)):
                self.by_key[unit_key] = uid
                self.by_name.setdefault(name_key, set()).add(uid)
        self.loaded = set(self.by_key.values())  # the units that existed before this batch

    def find(self, code: str, name_key: str) -> int | None:
        """The unit a code and a normalised name denote: by code, else by name (a unit known by
        name only, else the one coded unit of that name)."""
        if code:
            found = self.by_key.get(f"c:{code}")
            return found if found is not None or not name_key else self.by_key.get(f"n:{name_key}")
        if not name_key:
            return None
        found = self.by_key.get(f"n:{name_key}")
        same_name = self.by_name.get(name_key, set())
        if found is None and len(same_name) == 1:  # the one coded unit of that name
            found = next(iter(same_name))
        return found

    def for_save(self, code: str, name: str) -> int | None:
        name_key = squash_spaces(name, nfkc=True)
        if not code and not name_key:
            return None
        found = self.find(code, name_key)
        if code and found is not None and f"c:{code}" not in self.by_key:
            del self.by_key[f"n:{name_key}"]  # adopt the code for a unit known by name only
            self.conn.execute(
                sa.update(units_t)
                .where(units_t.c.id == found, units_t.c.code.is_(None))
                .values(code=code, unit_key=f"c:{code}")
            )
            self.by_key[f"c:{code}"] = found
        if found is not None:
            return found
        key = f"c:{code}" if code else f"n:{name_key}"
        new = _insert(
            self.conn,
            sa.insert(units_t).values(code=code or None, name=name, name_key=name_key, unit_key=key),
        )
        self.by_key[key] = new
        self.by_name.setdefault(name_key, set()).add(new)
        return new


def _insert(conn: Connection, statement: Any, params: dict[str, Any] | None = None) -> int:
    """Execute a single-row INSERT and return the new primary key (RETURNING where available)."""
    key = conn.execute(statement, params).inserted_primary_key
    if key is None or key[0] is None:  # pragma: no cover - every supported driver reports it
        raise StoreError("数据库未返回新记录的编号")
    return int(key[0])


@dataclass(frozen=True)
class Saved:
    """What storing one return did: its outcome and, with a unit and year, its round."""

    outcome: str
    round: int | None = None
    findings: tuple[Mapping[str, Any], ...] = ()  # as stored: with the unit's explanations carried over
    fixed: tuple[dict[str, Any], ...] = ()  # the previous round's findings this round no longer has
    new: tuple[Mapping[str, Any], ...] = ()  # this round's findings the previous round did not have


class Brief(Mapping[str, Any]):
    """A stored finding as kept for every return of a batch: what pairs it with the return's own
    findings (rule, sheet, cell) and its explanation. Five slots, where a dict of every column per
    finding would cost about 100 MB at 10,000 returns."""

    __slots__ = ("rule", "sheet", "cell", "explanation", "explained")

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.rule, self.sheet, self.cell = row["rule"], row.get("sheet"), row.get("cell")
        self.explanation, self.explained = row.get("explanation"), row.get("explained")

    def __getitem__(self, key: str) -> Any:
        if key not in Brief.__slots__:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(Brief.__slots__)

    def __len__(self) -> int:
        return len(Brief.__slots__)

    def __reduce__(self) -> tuple[Any, ...]:  # to a review worker
        return Brief, (dict(self),)


def _brief(saved: Saved) -> Saved:
    return replace(saved, findings=tuple(map(Brief, saved.findings)), new=tuple(map(Brief, saved.new)))


FINDING_COLUMNS = (
    "rule",
    "item",
    "severity",
    "sheet",
    "cell",
    "reported",
    "expected",
    "message",
    "explanation",
    "explained",
)


def _findings_of(conn: Connection, return_id: int, batch: _Batch | None = None) -> list[dict[str, Any]]:
    if batch is not None and return_id in batch.findings:  # stored in this transaction, not yet inserted
        return [dict(r) for r in batch.findings[return_id]]
    cols = [findings_t.c[k] for k in FINDING_COLUMNS]
    rows = conn.execute(
        sa.select(*cols).where(findings_t.c.return_id == return_id).order_by(findings_t.c.id)
    ).all()
    return [{**r._mapping, "explained": bool(r.explained)} for r in rows]


def _saved(
    conn: Connection,
    outcome: str,
    return_id: int,
    batch: _Batch | None = None,
    where: tuple[int | None, int | None, int | None] | None = None,
) -> Saved:
    """The round of a stored return, its findings, and what changed since the round before;
    ``where``: its (unit_id, year, round) when known."""
    if where is None:
        where = conn.execute(
            sa.select(returns_t.c.unit_id, returns_t.c.year, returns_t.c.round).where(
                returns_t.c.id == return_id
            )
        ).one()
    unit_id, year, round_no = where
    findings = _findings_of(conn, return_id, batch)
    if round_no is None:
        return Saved(outcome, None, tuple(findings))
    before = None
    if round_no > 1:
        before = conn.execute(
            sa.select(returns_t.c.id).where(
                returns_t.c.unit_id == unit_id,
                returns_t.c.year == year,
                returns_t.c.round == round_no - 1,
            )
        ).scalar()
    fixed, new = changes(_findings_of(conn, before, batch) if before is not None else None, findings)
    return Saved(outcome, round_no, tuple(findings), tuple(fixed), tuple(new))


def changes(
    before: Sequence[dict[str, Any]] | None, now: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(fixed, new): findings of the round ``before`` that ``now`` no longer has, and the reverse;
    a finding whose cell moved (one of its rule on each side) is the same finding. No round
    before: nothing fixed, nothing new."""
    if before is None:
        return [], []
    matched = pair([_key(f) for f in before], [_key(f) for f in now])
    kept = set(matched.values())
    return [f for i, f in enumerate(before) if i not in kept], [
        f for n, f in enumerate(now) if n not in matched
    ]


def _key(row: Mapping[str, Any]) -> Key:
    return str(row["rule"]), row.get("sheet") or None, row.get("cell") or None


@dataclass(frozen=True)
class _Carried:
    latest: dict[Key, Any]  # the explanation row in force for each key
    voided: list[int]  # explanation rows whose value has changed


def _carry_over(stored: Sequence[Any], rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], _Carried]:
    """The finding rows with the unit's stored explanations (``stored``: its explanations rows of the
    year, oldest first) attached (a finding already explained, by the review copy it came in,
    keeps its own)."""
    if not stored:  # nothing to carry over: the rows as they are (what ``explain`` would give)
        return rows, _Carried({}, [])
    latest = {(e.rule, e.sheet, e.cell): e for e in stored}
    live = [e for e in latest.values() if not e.voided]
    given = [Explanation(e.rule, e.sheet, e.cell, e.reported, e.text, e.listed) for e in live]
    findings = [_as_finding(r) for r in rows]
    explained, void = explain(findings, given)
    ids = {id(g): e.id for g, e in zip(given, live, strict=True)}
    out = [
        {**r, "explanation": f.explanation, "explained": f.explained}
        for r, f in zip(rows, explained, strict=True)
    ]
    return out, _Carried(latest, [ids[id(v)] for v in void])


def _record_explanations(
    conn: Connection,
    unit_id: int,
    year: int,
    round_no: int | None,
    return_id: int,
    rows: list[dict[str, Any]],
    carried: _Carried,
) -> bool:
    """Keep every explanation this round carries (new or moved ones as new rows); void the old ones
    whose value changed. True if anything was written."""
    if carried.voided:
        conn.execute(
            sa.update(explanations_t).where(explanations_t.c.id.in_(carried.voided)).values(voided=True)
        )
    listed = Counter(r["rule"] for r in rows)
    fresh = []
    for r in rows:
        if not r.get("explanation"):
            continue
        was = carried.latest.get(_key(r))
        if (
            was is not None
            and not was.voided
            and (was.text, was.reported) == (r["explanation"], r["reported"])
        ):
            continue
        fresh.append(
            {
                "unit_id": unit_id,
                "year": year,
                "rule": r["rule"],
                "sheet": r["sheet"],
                "cell": r["cell"],
                "reported": r["reported"],
                "text": r["explanation"],
                "listed": listed[r["rule"]],
                "round": round_no,
                "return_id": return_id,
                "voided": False,
            }
        )
    if fresh:
        conn.execute(sa.insert(explanations_t), fresh)
    return bool(fresh or carried.voided)


def _as_finding(row: Mapping[str, Any]) -> Finding:
    """A stored finding row as a Finding (a value stored as a plain number is a number again)."""
    return Finding(
        row["rule"],
        row["severity"],
        row["message"],
        row.get("sheet"),
        row.get("cell"),
        row.get("item"),
        _number_or_text(row.get("reported")),
        _number_or_text(row.get("expected")),
        explanation=row.get("explanation"),
        explained=bool(row.get("explained")),
    )


_PLAIN_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")  # the text ``canonical`` writes


def _number_or_text(value: Any) -> Any:
    return Decimal(value) if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value) else value


def _make_current(conn: Connection, unit_id: int, year: int, new_id: int, name: str) -> str:
    """Decide which version of the unit's year is current (``batch.current``); the outcome."""
    same = (returns_t.c.unit_id == unit_id) & (returns_t.c.year == year)
    policy = (returns_t.c.generated_at, returns_t.c.modified_at, returns_t.c.file, returns_t.c.sha256)
    versions = conn.execute(sa.select(returns_t.c.id, *policy).where(same)).mappings().all()
    if len(versions) == 1:
        return "inserted"
    current = min(versions, key=_recency)["id"]
    conn.execute(
        sa.update(returns_t)
        .where(same, returns_t.c.id != current)
        .values(is_current=False, superseded_by=current)
    )
    conn.execute(
        sa.update(returns_t).where(returns_t.c.id == current).values(is_current=True, superseded_by=None)
    )
    if current != new_id:
        return "outdated"
    if name:  # the current version names the unit
        conn.execute(
            sa.update(units_t).where(units_t.c.id == unit_id, units_t.c.name != name).values(name=name)
        )
    return "superseded"


def _score_row(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """A row of the scores table, in ``SCORE_KEYS`` order."""
    item = row.get("item", row.get("id"))
    if not item:
        raise StoreError(f"评分行缺少 item：{dict(row)}")
    return (
        str(item),
        _number(row.get("max"), f"评分项 {item} 的分值"),
        _number(row.get("self"), f"评分项 {item} 的自评得分"),
        _number(row.get("recomputed"), f"评分项 {item} 的复核得分"),
    )


def _finding_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "rule": str(row.get("rule") or ""),
        "item": row.get("item") or None,
        "severity": str(row.get("severity") or ""),
        "sheet": row.get("sheet") or None,
        "cell": row.get("cell") or None,
        "reported": to_text(row.get("reported")),
        "expected": to_text(row.get("expected")),
        "message": str(row.get("message") or ""),
        "explanation": _explanation(row.get("explanation")),
        "explained": row.get("explained") is True,
    }


def _explanation(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):  # a DataFrame's NaN: none
        return None
    return str(value).strip() or None


def _fact_rows(rows: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Rows of the facts table. A number is kept as its canonical text and, where it fits, exactly
    in ``number``; rows may say ``numeric`` for a number given as text (consolidation's facts)."""
    if isinstance(rows, Mapping):
        return _fact_triples((f, v, None) for f, v in rows.items())
    return _fact_triples((r["field"], r["value"], r.get("numeric")) for r in rows)


FACT_KEYS = ("field", "value", "numeric", "number")  # the order of a fact row's values (``_fact_triples``)


def _fact_triples(triples: Iterable[tuple[Any, Any, Any]]) -> list[tuple[Any, ...]]:
    """(field, value, numeric) → rows of the facts table as tuples in ``FACT_KEYS`` order."""
    out: dict[str, tuple[Any, ...]] = {}
    for fid, value, numeric in triples:
        if value is None or (isinstance(value, float) and value != value):  # None / NaN: nothing known
            continue
        field = str(fid)
        if isinstance(value, str):
            fits = (
                _fits_cached(value) if numeric is True else None
            )  # a number written as text by consolidation
            out[field] = (field, value, False, None) if fits is None else (field, str(fits), True, fits)
        else:
            is_number = _is_number(value)
            number = _fits_cached(value) if is_number else None
            text = str(number) if number is not None else to_text(value)
            out[field] = (field, text, is_number, number)
    return list(out.values())


# ------------------------------------------------------------------ adapters


def save_result(store: Store, result: CheckResult, checked_at: datetime | str | None = None) -> str:
    """Store one ``CheckResult`` as its unit's next round (unusable files are not stored: outcome
    ``"skipped"``); the result takes its round, the unit's explanations carried over to its
    findings, and what it fixed and added since the previous round.

    The file's mtime is recorded as consolidation records it, so the same file is as recent
    either way; facts are ``CheckResult.fact_values`` (inputs and recomputed formula values).
    """
    if result.status == "unusable" or not result.sha256:
        return "skipped"
    ret = {
        **result.return_row(),
        "modified_at": _file_mtime(result.file),
        "checked_at": _when(checked_at) or _now(),
    }
    saved = store.save_round(ret, result.item_rows(), result.finding_rows(), result.fact_values())
    take_round(result, saved)
    return saved.outcome


def take_round(result: CheckResult, saved: Saved) -> None:
    """Give ``result`` what storing it said: its round, the explanations its findings carry as
    stored, and the findings fixed and new since the previous round."""
    result.round = saved.round
    stored = list(saved.findings)
    matched = pair([_key(r) for r in stored], [key(f) for f in result.findings])
    result.findings = [
        replace(f, explanation=stored[matched[n]]["explanation"], explained=stored[matched[n]]["explained"])
        if n in matched
        else f
        for n, f in enumerate(result.findings)
    ]
    result.fixed = [_as_finding(r) for r in saved.fixed]
    new = {_key(r) for r in saved.new}
    result.new = [f for f in result.findings if key(f) in new]


class _Column:
    """A DataFrame's column read by position (``col[n]``, ``col[a:b]`` as a list), pandas' missing
    values (NaN, NaT, NA) as None, a column the frame lacks as all None. No Python list of all
    its values is made: a ``category`` column is read through its codes (the facts of 10,000
    returns are 2.5 million rows), any other through one object array."""

    def __init__(self, frame: Any, name: str) -> None:
        self.n = 0 if frame is None else len(frame)
        self.codes: Any = None
        self.values: Any = None
        if self.n and name in frame:
            col = frame[name]
            if str(col.dtype) == "category":
                self.codes = col.cat.codes.to_numpy()
                self.values = [*col.cat.categories.tolist(), None]  # code -1, missing: the last
            elif str(col.dtype) == "bool":  # no missing values: read as it is, a Python bool each
                self.values = col.to_numpy()
            else:
                self.values = col.astype(object).where(col.notna(), None).to_numpy()

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, at: Any) -> Any:
        if self.values is None:
            return None if isinstance(at, int) else [None] * len(range(*at.indices(self.n)))
        if self.codes is None:
            return self.values[at : at + 1].tolist()[0] if isinstance(at, int) else self.values[at].tolist()
        if isinstance(at, int):
            return self.values[self.codes[at]]
        values = self.values
        return [values[c] for c in self.codes[at].tolist()]


def _columns(frame: Any, names: Sequence[str]) -> dict[str, _Column]:
    return {name: _Column(frame, name) for name in names}


def _spans(frame: Any) -> dict[str, list[tuple[int, int]]]:
    """{sha256: [(start, stop), …]}: the runs of rows of each file in a long frame."""
    if frame is None or not len(frame) or "sha256" not in frame:
        return {}
    col = frame["sha256"]
    if str(col.dtype) == "category":  # its own codes: no factorizing of 2.5 million facts
        codes, uniques = col.cat.codes.to_numpy(), col.cat.categories
    else:
        codes, uniques = col.factorize()  # None and NaN: -1
    starts = [0, *((codes[1:] != codes[:-1]).nonzero()[0] + 1).tolist()]
    out: dict[str, list[tuple[int, int]]] = {}
    for start, stop in zip(starts, [*starts[1:], len(codes)], strict=True):
        code = int(codes[start])
        if code >= 0 and uniques[code]:
            out.setdefault(str(uniques[code]), []).append((start, stop))
    return out


SCORE_KEYS = ("item", "max", "self", "recomputed")
BATCH = 200  # returns prepared and inserted at a time: the rows of 10,000 returns never all at once


def save_consolidation(con: Any, url_or_path: str | Path | Store = DEFAULT_PATH) -> dict[str, int]:
    """Store every usable return of a ``Consolidation`` (its ``returns``, ``scores``, ``findings`` and
    ``facts`` DataFrames, joined on sha256); returns the count per outcome.

    Every usable file is stored, whether or not the consolidation used it: the store keeps all
    versions and decides which one is current itself. Files are saved oldest first, so the
    outcomes read naturally (a correction "superseded" its original) and rounds are numbered
    in that order. One transaction for the whole consolidation: stored entirely, or not at all.
    """
    return save_rounds(con, url_or_path)[0]


def save_rounds(
    con: Any, url_or_path: str | Path | Store = DEFAULT_PATH, brief: bool = False
) -> tuple[dict[str, int], dict[str, Saved]]:
    """``save_consolidation``, with what storing each file said (its round…), by sha256; with
    ``brief``, its findings and new ones as ``Brief``."""
    if getattr(getattr(con, "facts", None), "attrs", {}).get("kept") is False:
        raise StoreError(
            "这次汇总没有保留报表的字段值（facts），不能入库：请用 consolidate(..., facts=True) 汇总"
        )
    counts = dict.fromkeys(OUTCOMES, 0)
    counts["skipped"] = 0
    todo = []
    cols = _columns(con.returns, [c for c in RETURN_KEYS if c in con.returns])
    for n in range(len(con.returns)):
        row = {k: v[n] for k, v in cols.items()}
        if row.get("status") == "unusable" or not row.get("sha256"):
            counts["skipped"] += 1
            continue
        ret = {**row, "modified_at": row.get("mtime")}  # consolidation calls the file's mtime "mtime"
        if ret.get("year") is not None:
            ret["year"] = _year(ret["year"])  # a bad year fails before anything is written
        todo.append(ret)
    del cols
    todo.sort(key=_recency, reverse=True)
    scores = _columns(getattr(con, "scores", None), SCORE_KEYS)
    findings = _columns(getattr(con, "findings", None), ("file", *FINDING_COLUMNS))
    facts = _columns(getattr(con, "facts", None), ("field", "value", "numeric"))
    spans = {
        part: _spans(getattr(con, name, None))
        for part, name in (("s", "scores"), ("f", "findings"), ("x", "facts"))
    }

    def prepared(ret: dict[str, Any]) -> Prepared:
        sha = str(ret["sha256"])
        own = spans["f"].get(sha, [])
        # identical files (same sha256) report the same findings: the first file's only
        first = findings["file"][own[0][0]] if own else None
        return _prepare(
            ret,
            (
                dict(zip(SCORE_KEYS, (scores[k][n] for k in SCORE_KEYS), strict=True))
                for a, b in spans["s"].get(sha, [])
                for n in range(a, b)
            ),
            (
                dict(zip(FINDING_COLUMNS, (findings[k][n] for k in FINDING_COLUMNS), strict=True))
                for a, b in own
                for n in range(a, b)
                if findings["file"][n] == first
            ),
            _fact_triples(
                triple
                for a, b in spans["x"].get(sha, [])
                for triple in zip(
                    facts["field"][a:b], facts["value"][a:b], facts["numeric"][a:b], strict=True
                )
            ),
        )

    saved: dict[str, Saved] = {}
    store = url_or_path if isinstance(url_or_path, Store) else open_store(url_or_path)
    try:
        for ret, done in zip(todo, store.save_all(todo, lambda: map(prepared, todo), brief), strict=True):
            saved[str(ret["sha256"])] = done
            counts[done.outcome] += 1
    finally:
        if store is not url_or_path:
            store.close()
    return counts, saved


RETURN_KEYS = (
    "file",
    "sha256",
    "edition",
    "code",
    "unit",
    "year",
    "status",
    "generated_at",
    "mtime",
    "modified_at",
    "checked_at",
    "reported_total",
    "recomputed_total",
    "reported_grade",
    "recomputed_grade",
)


# ------------------------------------------------------------------ prior-year prefill


def prior_year_map(edition: Edition) -> dict[str, str]:
    """{target field: source field}: which inputs of a year's form come from last year's return.

    Data, not code: the ``prior_year:`` mapping of the edition's rubric (validated when loaded).
    """
    return dict(edition.rubric.prior_year)


def prefill_from_store(
    store: Store, edition: Edition, units: Iterable[Unit], year: int | None
) -> dict[Unit, dict[str, Any]]:
    """Prefill values for next year's templates from last year's current returns.

    For each unit (its own ``year`` if set, else ``year``), the ``prior_year`` fields of the
    edition are taken from the unit's current return of the year before: numbers as Decimal,
    text as str. Keyed by the Unit objects given; units with nothing stored are left out.
    """
    mapping = prior_year_map(edition)
    out: dict[Unit, dict[str, Any]] = {}
    if not mapping:
        return out
    form = edition.form
    types = {f.id: f.type for row in form.basic_rows for f in row}
    types |= {f.id: f.type for _, fs in form.basis_groups for f in fs}
    sources = sorted(set(mapping.values()))
    for unit in units:
        target_year = unit.year or year
        if target_year is None:
            continue
        found = store._prior(unit.code or None, unit.name or None, target_year - 1, sources)
        values = {t: _typed(*found[s], types.get(t)) for t, s in mapping.items() if s in found}
        if values:
            out[unit] = values
    return out


def _typed(text: str, numeric: bool, field_type: str | None) -> Decimal | str:
    """A stored value for a form field: Decimal for numbers (stored as numbers, or as text from
    a DataFrame but meant for a numeric field), else the text."""
    if numeric or field_type in ("integer", "amount", "percent", "count", "score"):
        try:
            return Decimal(text)
        except ArithmeticError:
            return text  # the template's prefill check reports it
    return text
