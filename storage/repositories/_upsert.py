"""Dialect-aware INSERT ... ON CONFLICT DO NOTHING, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.dml import Insert

from storage.repositories._core import core_connection


def dialect_insert(dialect: str, model: Any) -> Insert:
    """``INSERT`` of the dialect that has ``ON CONFLICT`` (PostgreSQL's or SQLite's)."""
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return ins(model)


@cache
def _insert_ignore(dialect: str, model: type[DeclarativeBase]) -> Insert:
    stmt = dialect_insert(dialect, model)
    return stmt.on_conflict_do_nothing()  # type: ignore[attr-defined]


async def insert_ignore(session: AsyncSession, model: type[DeclarativeBase], **values: Any) -> bool:
    """Insert a row unless its key exists; True when this call inserted it.

    Run as a Core statement on the session's connection: the ORM's bulk-insert path costs
    about eight times as much Python per statement (docs/cost.md), and nothing here needs it.
    """
    conn = await core_connection(session)
    result = await conn.execute(_insert_ignore(conn.dialect.name, model), values)
    return bool(getattr(result, "rowcount", 0) == 1)
