"""Shared fixtures: databases (SQLite always; PostgreSQL when MOTCUA_TEST_POSTGRES_URL is set),
a started application, and chat transcripts.

PostgreSQL tests are skipped on a developer machine without a server, but CI sets the URL and
``MOTCUA_REQUIRE_POSTGRES=1`` so that they can never be skipped silently there.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import make_url

from bot.app import App
from bot.config import Settings
from storage import migrate
from storage.testing import admin_execute as _admin_execute
from tests.transcript import Conversation

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT.parent / "shared" / "eval"
BUNDLED_KB = ROOT / "knowledge" / "data"
PG_URL = os.environ.get("MOTCUA_TEST_POSTGRES_URL", "")
T = TypeVar("T")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("MOTCUA_REQUIRE_POSTGRES") == "1" and not PG_URL:
        raise pytest.UsageError("MOTCUA_REQUIRE_POSTGRES=1 but MOTCUA_TEST_POSTGRES_URL is not set")


def _in_thread(func: Callable[..., T], *args: Any) -> T:
    """Run blocking setup that calls ``asyncio.run`` (Alembic does) in its own thread: the
    session fixtures below are first requested from inside a running event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func, *args).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per run; each test gets a copy (a copy is ~1 ms, a migration
    hundreds)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _in_thread(migrate.upgrade, f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated once per run, cloned with CREATE DATABASE ... TEMPLATE."""
    if not PG_URL:
        pytest.skip("MOTCUA_TEST_POSTGRES_URL is not set")
    name = f"motcua_template_{uuid.uuid4().hex[:12]}"
    _in_thread(asyncio.run, _admin_execute(PG_URL, f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        _in_thread(migrate.upgrade, url)
        yield name
    finally:
        drop = _admin_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _in_thread(asyncio.run, drop)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database of each kind (a copy of the run's migrated template)."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"motcua_test_{uuid.uuid4().hex[:12]}"
    await _admin_execute(PG_URL, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        await _admin_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": "test-secret-key-0123456789abcdef0123",
        "kb_dir": BUNDLED_KB,
        "web_rate_limit_per_minute": 1000,
        "web_rate_limit_per_address_per_minute": 100_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def app(database_url: str, tmp_path: Path) -> AsyncIterator[App]:
    """A started application on each database, with the bundled knowledge base."""
    application = App.build(make_settings(database_url, tmp_path))
    await application.start(migrate_db=False, watch=False)
    yield application
    await application.close()


@pytest.fixture
def conversation(app: App) -> Conversation:
    return Conversation(app.dispatcher)


@pytest.fixture(scope="session")
def eval_dir() -> Iterator[Path]:
    if not (EVAL_DIR / "kb.yaml").exists():
        pytest.skip("../shared/eval is not beside the project")
    return EVAL_DIR
