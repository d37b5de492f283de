"""The long tables of a consolidation, kept compactly while the workers' rows come in.

Each column is a run of 32-bit codes into the column's distinct values, so a rule id, a cell, a
message or an amount that thousands of files repeat is one Python object, and a cell costs four
bytes rather than a pointer and an object of its own; each file's rows are one span. At 10,000
returns (320,000 findings, 250,000 scores, 2.5 million facts) that is what keeps the parent small.
``LongTable.frame`` turns the codes into pandas columns: text as ``category`` (the same values,
missing ones as NaN like pandas' ``str`` columns), everything else (``Decimal`` amounts, flags) as
the very objects the workers sent.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

MISSING = -1  # the code of None


def _typed(value: Any) -> Any:
    """A value's identity as a code: equal values of other types or forms stay apart (3.0 and 3,
    True and 1), so the frame holds exactly what was sent. Text, the common case, is its own key
    (no other key is a str)."""
    if type(value) is str:
        return value
    return (type(value), str(value)) if isinstance(value, Decimal) else (type(value), value)


class Column:
    """One column's values as codes into its distinct values (None is ``MISSING``)."""

    def __init__(self) -> None:
        self.codes = array("i")
        self.values: list[Any] = []
        self._codes: dict[Any, int] = {}

    def code(self, value: Any) -> int:
        if value is None:
            return MISSING
        key = _typed(value)
        try:
            found = self._codes.get(key)
        except TypeError:  # unhashable (never sent by a worker): kept as it is, not shared
            self.values.append(value)
            return len(self.values) - 1
        if found is None:
            found = self._codes[key] = len(self.values)
            self.values.append(value)
        return found

    def extend(self, values: Iterable[Any]) -> None:
        known, code = self._codes.get, self.code  # text seen before, the usual case: no call for it
        self.codes.extend([c if type(v) is str and (c := known(v)) is not None else code(v) for v in values])

    def seal(self) -> None:
        """No more values: the lookup of codes goes (at 10,000 returns it is tens of MB)."""
        self._codes = {}

    def array(self, rows: np.ndarray, categorical: bool = False) -> Any:
        """The values of ``rows`` (positions): a Categorical if asked and every value is text, else
        an object array of the values themselves (None where missing)."""
        codes = np.frombuffer(self.codes, dtype=np.int32)[rows] if len(self.codes) else np.zeros(0, np.int32)
        if categorical and all(type(v) is str for v in self.values):
            return pd.Categorical.from_codes(codes, categories=pd.Index(self.values))
        table = np.empty(len(self.values) + 1, dtype=object)
        table[: len(self.values)] = self.values
        table[-1] = None  # code -1
        return table[codes]


class Flag:
    """A yes/no column: a byte per row (``bool(value)``, as ``astype(bool)`` would make it)."""

    def __init__(self) -> None:
        self.codes = array("b")

    def extend(self, values: Iterable[Any]) -> None:
        self.codes.extend(map(bool, values))

    def array(self, rows: np.ndarray, categorical: bool = False) -> Any:
        return (
            np.frombuffer(self.codes, dtype=np.int8)[rows].astype(bool)
            if len(self.codes)
            else np.zeros(0, bool)
        )

    def seal(self) -> None:
        pass


class LongTable:
    """Rows of one long frame, file by file: ``add(file, rows)`` with rows as tuples in ``names``
    order; ``frame`` then gives them, once, in any order of files, with per-file columns joined on
    (each column is let go as soon as it is in the frame)."""

    def __init__(self, names: Sequence[str], flags: Iterable[str] = ()) -> None:
        yes_no = set(flags)
        self.columns: dict[str, Column | Flag] = {n: Flag() if n in yes_no else Column() for n in names}
        self.spans: dict[int, tuple[int, int]] = {}
        self.size = 0

    def add(self, file: int, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        for n, column in enumerate(self.columns.values()):
            column.extend(r[n] for r in rows)
        self.spans[file] = (self.size, self.size + len(rows))
        self.size += len(rows)

    def add_columns(self, file: int, columns: Sequence[Sequence[Any]]) -> None:
        """``add`` for rows given as equal-length columns (in ``names`` order)."""
        n = len(columns[0]) if columns else 0
        if not n:
            return
        for column, values in zip(self.columns.values(), columns, strict=True):
            column.extend(values)
        self.spans[file] = (self.size, self.size + n)
        self.size += n

    def rows_of(self, file: int) -> range:
        return range(*self.spans.get(file, (0, 0)))

    def value(self, name: str, row: int) -> Any:
        column = self.columns[name]
        code = column.codes[row]
        if isinstance(column, Flag):
            return bool(code)
        return None if code == MISSING else column.values[code]

    def seal(self) -> None:
        """Every row is in: the columns' lookups go."""
        for column in self.columns.values():
            column.seal()

    def take(self, files: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The row positions of ``files``' rows in that order (each file's own order kept), and for
        each row the position in ``files`` of its file."""
        spans = [self.spans.get(f, (0, 0)) for f in files]
        counts = np.array([b - a for a, b in spans], dtype=np.int32)
        owner = np.repeat(np.arange(len(files), dtype=np.int32), counts)
        parts = [np.arange(a, b, dtype=np.int32) for a, b in spans if b > a]
        rows = np.concatenate(parts) if parts else np.zeros(0, np.int32)
        return rows, owner

    def frame(
        self,
        files: Sequence[int],
        per_file: Mapping[str, Sequence[Any]],
        columns: Sequence[str],
        categorical: Iterable[str] = (),
    ) -> pd.DataFrame:
        """The rows of ``files`` as a DataFrame of ``columns``: a column named in ``per_file`` (one
        value per file of ``files``) repeats its file's value on each of the file's rows; the rest
        are this table's own. Columns named in ``categorical`` are ``category`` when all text."""
        rows, owner = self.take(files)
        cats = set(categorical)
        out: dict[str, Any] = {name: _repeat(per_file[name], owner, name in cats) for name in per_file}
        del owner
        for name in columns:
            if name not in per_file:  # taken out: its codes go before the next column is made
                out[name] = self.columns.pop(name).array(rows, name in cats)
        return pd.DataFrame({name: out.pop(name) for name in columns}, columns=list(columns), copy=False)


def _repeat(values: Sequence[Any], owner: np.ndarray, categorical: bool) -> Any:
    """One value per file, repeated on each row (``owner``: the row's file)."""
    table = np.empty(len(values), dtype=object)
    table[:] = list(values)
    if categorical and all(v is None or type(v) is str for v in values):
        codes, uniques = pd.factorize(table)  # None: code -1, missing
        return pd.Categorical.from_codes(codes.astype(np.int32)[owner], categories=pd.Index(list(uniques)))
    return table[owner]


class WideTable:
    """One row per file, of named columns that may differ from file to file (the finance tables'
    汇总 rows), each column's values as codes; the names in the order the files give them."""

    def __init__(self) -> None:
        self.columns: dict[str, Column] = {}
        self.rows: dict[int, int] = {}
        self.names: dict[int, tuple[str, ...]] = {}
        self._names: dict[tuple[str, ...], tuple[str, ...]] = {}

    def add(self, file: int, values: Mapping[str, Any]) -> None:
        if not values:
            return
        row = self.rows[file] = len(self.rows)
        names = tuple(values)
        self.names[file] = self._names.setdefault(names, names)
        for name, value in values.items():
            column = self.columns.get(name)
            if column is None:
                column = self.columns[name] = Column()
            column.codes.extend([MISSING] * (row - len(column.codes)))  # earlier files lacked it
            column.codes.append(column.code(value))

    def frame(self, files: Sequence[int], head: dict[str, Any]) -> pd.DataFrame:
        """The rows of ``files`` (None where a file lacks a column): the ``head`` columns given,
        then every name any of them has, in the order they first come."""
        names = list(dict.fromkeys(n for f in files for n in self.names.get(f, ())))
        size = len(self.rows)
        rows = np.array([self.rows.get(f, size) for f in files], dtype=np.int32)  # none: all missing
        out = dict(head)
        for name in names:
            column = self.columns[name]
            column.seal()
            column.codes.extend([MISSING] * (size + 1 - len(column.codes)))
            out[name] = column.array(rows)
        return pd.DataFrame(out, columns=[*head, *names])
