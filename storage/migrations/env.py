"""Alembic environment: runs migrations on the async engine given by the caller or the URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import storage.models.admin  # registers its tables on Base.metadata
import storage.models.channels  # registers its table on Base.metadata
import storage.models.register  # registers its tables on Base.metadata
import storage.models.staff  # registers its tables on Base.metadata
import storage.models.web  # registers its table on Base.metadata
import storage.models.zalo  # noqa: F401
from storage.db import create_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(_run_async(config.get_main_option("sqlalchemy.url") or ""))
