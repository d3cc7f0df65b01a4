"""Per-message Core statements run straight on the inline SQLite connection.

Measured on the inline connection (storage/sqlite_inline.py), one small prepared Core statement
cost about 0.14 ms through ``AsyncConnection.execute`` (greenlet hand-offs, the execution
context, the cursor wrappers, the result object) against 5 µs for the same SQL run on the
``sqlite3`` connection; a web message runs about ten of them (docs/cost.md). This module
compiles each statement once with SQLAlchemy (the SQL, the order of its parameters, the type
conversions of its parameters and of its result columns, Python-side column defaults) and then
runs it on the ``sqlite3`` connection underneath, inside the transaction SQLAlchemy opened.

Only what it can do exactly as SQLAlchemy would is done here: a statement with a feature this
module does not reproduce (parameters expanded at execution, defaults that need an execution
context) is run by SQLAlchemy, as before. PostgreSQL and the threaded aiosqlite connection
always go through SQLAlchemy. SQLAlchemy's statement logging (``echo``) does not see these
statements.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.sql import ClauseElement

from storage.sqlite_inline import InlineConnection

Processor = Callable[[Any], Any]


class Prepared:
    """One statement compiled for SQLite: what running it on ``sqlite3`` needs."""

    __slots__ = ("binds", "compiled", "defaults", "names", "results", "returns", "row", "sql")

    def __init__(self, stmt: ClauseElement, dialect: Dialect, keys: Sequence[str]) -> None:
        compiled: Any = stmt.compile(dialect=dialect, column_keys=list(keys))
        expanded = compiled.post_compile_params or compiled.literal_execute_params
        if not compiled.positional or expanded:
            raise Unsupported("parameters expanded at execution")
        self.compiled = compiled
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.binds: dict[str, Processor] = dict(compiled._bind_processors)
        # Python-side column defaults of columns not given (``default=utcnow``), computed as
        # SQLAlchemy's execution context does; a callable that wants the context itself is
        # not reproduced.
        self.defaults: list[tuple[str, bool, Any]] = []
        if compiled.insert_prefetch:
            prefetch = [(c, c._default_description_tuple) for c in compiled.insert_prefetch]
        else:
            prefetch = [(c, c._onupdate_description_tuple) for c in compiled.update_prefetch]
        for column, (arg, is_scalar, is_callable, is_sentinel) in prefetch:
            if is_sentinel or not (is_scalar or (is_callable and hasattr(arg, "__wrapped__"))):
                raise Unsupported("a default that needs an execution context")
            key = compiled._within_exec_param_key_getter(column)
            self.defaults.append((key, is_scalar, arg))
        columns = compiled._result_columns or []
        self.returns = bool(columns)
        self.results: list[Processor | None] = [
            col[3]._cached_result_processor(dialect, None) for col in columns
        ]
        self.row = namedtuple("Row", [col[0] for col in columns], rename=True)  # type: ignore[misc]

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        values = self.compiled.construct_params(params, _check=False)
        for name, is_scalar, arg in self.defaults:
            values[name] = arg if is_scalar else arg(None)  # wrapped: ignores the context
        binds = self.binds
        out = []
        for name in self.names:
            value = values[name]
            processor = binds.get(name)
            out.append(value if processor is None else processor(value))  # None too, as SQLAlchemy
        return tuple(out)

    def rows(self, raw: list[tuple[Any, ...]]) -> list[Any]:
        results = self.results
        make = self.row._make  # type: ignore[attr-defined]
        return [
            make(v if p is None else p(v) for v, p in zip(row, results, strict=True)) for row in raw
        ]


class Unsupported(Exception):
    """A statement this module leaves to SQLAlchemy."""


class FastResult:
    """The part of SQLAlchemy's ``Result`` the per-message statements use."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def all(self) -> list[Any]:
        return list(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def one(self) -> Any:
        if not self._rows:
            raise NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._rows[0]

    def scalar_one(self) -> Any:
        return self.one()[0]


_prepared: dict[tuple[int, tuple[str, ...]], tuple[ClauseElement, Prepared | None]] = {}


def prepared(stmt: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> Prepared | None:
    """The statement compiled for ``keys``, or None when it must run through SQLAlchemy.

    Keyed by the statement object (the per-message statements are built once, at import);
    the statement is kept alongside so its id is not reused while it is cached."""
    key = (id(stmt), keys)
    found = _prepared.get(key)
    if found is not None and found[0] is stmt:
        return found[1]
    try:
        result: Prepared | None = Prepared(stmt, dialect, keys)
    except Unsupported:
        result = None
    if len(_prepared) > 1000:  # statements built per call would grow it without end
        _prepared.clear()
    _prepared[key] = (stmt, result)
    return result


def raw_sqlite(driver: object) -> tuple[InlineConnection, sqlite3.Connection] | None:
    """The inline connection and its ``sqlite3`` connection, or None for any other driver."""
    if isinstance(driver, InlineConnection) and driver._connection is not None:
        return driver, driver._connection
    return None


async def execute(
    inline: InlineConnection,
    raw: sqlite3.Connection,
    prep: Prepared,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> FastResult:
    """Run ``prep`` with ``params`` (one mapping, or several for an executemany)."""
    if isinstance(params, Mapping):
        args = prep.parameters(params)

        def run() -> tuple[list[Any], int]:
            cursor = raw.execute(prep.sql, args)
            try:
                fetched = cursor.fetchall() if prep.returns else []
                return fetched, cursor.rowcount
            finally:
                cursor.close()

    else:
        many = [prep.parameters(p) for p in params]

        def run() -> tuple[list[Any], int]:
            cursor = raw.executemany(prep.sql, many)
            try:
                return [], cursor.rowcount
            finally:
                cursor.close()

    fetched, rowcount = await inline._execute(run)  # SQLITE_BUSY retried, yielding
    return FastResult(prep.rows(fetched) if fetched else [], rowcount)
