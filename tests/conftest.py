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
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import make_url

from bot.app import App
from bot.config import Settings
from storage import migrate
from storage.testing import admin_execute as _admin_execute
from tests import rollback, speedups
from tests.transcript import Conversation

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT.parent / "shared" / "eval"
BUNDLED_KB = ROOT / "knowledge" / "data"
PG_URL = os.environ.get("MOTCUA_TEST_POSTGRES_URL", "")
T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    speedups.install()  # one index per knowledge base per run (tests/speedups.py)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("MOTCUA_REQUIRE_POSTGRES") == "1" and not PG_URL:
        raise pytest.UsageError("MOTCUA_REQUIRE_POSTGRES=1 but MOTCUA_TEST_POSTGRES_URL is not set")


def _in_thread(func: Callable[..., T], *args: Any) -> T:
    """Run blocking setup that calls ``asyncio.run`` (Alembic does) in its own thread: the
    session fixtures below are first requested from inside a running event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func, *args).result()


_dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-test-db")
_drops: list[Future[None]] = []


def _drop_later(drop: Coroutine[Any, Any, None]) -> None:
    _drops.append(_dropper.submit(asyncio.run, drop))


def _wait_for_drops() -> None:
    """Every background drop done (raising the first failure) before the templates go."""
    while _drops:
        _drops.pop().result()


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
        _wait_for_drops()
        drop = _admin_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _in_thread(asyncio.run, drop)


async def _started_once(url: str, tmp_path: Path) -> None:
    """What the ``app`` fixture's first start writes (the seeded base, the register, the review
    list), written once into a template."""
    application = App.build(make_settings(url, tmp_path))
    await application.start(migrate_db=False, watch=False)
    await application.close()


@pytest.fixture(scope="session")
def sqlite_app_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated template after one start of the ``app`` fixture's application."""
    directory = tmp_path_factory.mktemp("app-template")
    path = directory / "template.db"
    shutil.copyfile(sqlite_template, path)
    _in_thread(asyncio.run, _started_once(f"sqlite+aiosqlite:///{path}", directory))
    return path


@pytest.fixture(scope="session")
def postgres_app_template(
    postgres_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The PostgreSQL template after one start of the ``app`` fixture's application."""
    name = f"motcua_app_template_{uuid.uuid4().hex[:12]}"
    _in_thread(
        asyncio.run,
        _admin_execute(PG_URL, f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'),
    )
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        _in_thread(asyncio.run, _started_once(url, tmp_path_factory.mktemp("app-template")))
        yield name
    finally:
        drop = _admin_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _in_thread(asyncio.run, drop)


def _uses_shared_app(request: pytest.FixtureRequest) -> bool:
    """Whether the test starts this file's ``app`` fixture (not a module's own ``app``)."""
    if "app" not in request.fixturenames:
        return False
    info = getattr(request.node, "_fixtureinfo", None)
    defs = info.name2fixturedefs.get("app", ()) if info is not None else ()
    return bool(defs) and getattr(defs[-1].func, "__module__", None) == __name__


@pytest.fixture(scope="session")
def sqlite_rollback_url(sqlite_app_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database the rolled-back ``app`` tests share (one per pytest worker)."""
    path = tmp_path_factory.mktemp("rollback") / "shared.db"
    shutil.copyfile(sqlite_app_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def postgresql_rollback_url(postgres_app_template: str) -> Iterator[str]:
    """The database the rolled-back ``app`` tests share (one per pytest worker)."""
    name = f"motcua_rollback_{uuid.uuid4().hex[:12]}"
    create = f'CREATE DATABASE "{name}" TEMPLATE "{postgres_app_template}"'
    _in_thread(asyncio.run, _admin_execute(PG_URL, create))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        drop = _admin_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _in_thread(asyncio.run, drop)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The kind of database: every database test runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of each kind (a copy of the run's migrated template).

    When the test also starts the ``app`` fixture, the copy is of a template on which that
    application already started once (seeded base, register, review list): its own start then
    finds everything in place, as on any restart, instead of writing it again in every test.
    """
    started = _uses_shared_app(request)
    if backend == "sqlite":
        path = tmp_path / "test.db"
        template_path = request.getfixturevalue(
            "sqlite_app_template" if started else "sqlite_template"
        )
        shutil.copyfile(template_path, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_app_template" if started else "postgres_template")
    name = f"motcua_test_{uuid.uuid4().hex[:12]}"
    create = _admin_execute(PG_URL, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    _in_thread(asyncio.run, create)  # synchronous: the async ``app`` fixture may ask for it
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        # Dropped in the background (up to a second each): the next test need not wait.
        _drop_later(_admin_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
async def app(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[App]:
    """A started application on each database, with the bundled knowledge base.

    By default everything it commits is rolled back at the end (tests/rollback.py), on a
    database shared by the tests: nothing is created per test. A test marked ``commits``, or
    one that also uses ``database_url`` (a second engine, app or process on the same database),
    gets a database of its own with real commits.
    """
    if request.node.get_closest_marker("commits") or "database_url" in request.fixturenames:
        url = request.getfixturevalue("database_url")
        application = App.build(make_settings(url, tmp_path))
        await application.start(migrate_db=False, watch=False)
        yield application
        await application.close()
        return
    shared = request.getfixturevalue(f"{backend}_rollback_url")
    async with rollback.started_app(make_settings(shared, tmp_path)) as application:
        yield application


@pytest.fixture
def conversation(app: App) -> Conversation:
    return Conversation(app.dispatcher)


@pytest.fixture(scope="session")
def eval_dir() -> Iterator[Path]:
    if not (EVAL_DIR / "kb.yaml").exists():
        pytest.skip("../shared/eval is not beside the project")
    return EVAL_DIR
