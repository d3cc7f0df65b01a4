"""Scratch PostgreSQL databases for the test suite and the bench scripts.

One place for what both need: a statement outside any transaction (``CREATE DATABASE`` cannot
run in one), a fresh database with a unique name (optionally cloned from a migrated template),
and its removal even while connections are still open.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import create_engine


async def admin_execute(url: str, sql: str) -> None:
    """Run one statement on the server of ``url`` in autocommit mode."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def new_database_name(prefix: str) -> str:
    """A name no other run uses: ``prefix`` and 12 random hex digits."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def database_url(base_url: str, name: str) -> str:
    """``base_url`` pointing at database ``name`` (password kept, for connecting)."""
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


async def create_database(base_url: str, name: str, *, template: str | None = None) -> str:
    """Create database ``name`` (a copy of ``template`` when given); returns its URL."""
    clone = f' TEMPLATE "{template}"' if template else ""
    await admin_execute(base_url, f'CREATE DATABASE "{name}"{clone}')
    return database_url(base_url, name)


async def drop_database(base_url: str, name: str) -> None:
    """Drop database ``name`` if it exists, closing its connections first."""
    await admin_execute(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
