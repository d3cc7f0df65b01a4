"""The suite's own speed-ups keep tests apart: what they share cannot leak between tests."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from knowledge import calibrate, kbfile
from storage.db import create_engine, session_factory
from storage.models import ChatStateRow
from tests import cli_runner, rollback
from tests.conftest import BUNDLED_KB, make_settings
from tests.transcript import Conversation


async def _chat_rows(url: str) -> int:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(ChatStateRow)) or 0)
    finally:
        await engine.dispose()


async def test_a_rolled_back_app_sees_its_commits_and_leaves_nothing_behind(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    shared = request.getfixturevalue(f"{backend}_rollback_url")
    before = await _chat_rows(shared)
    async with rollback.started_app(make_settings(shared, tmp_path)) as app:
        citizen = Conversation(app.dispatcher, chat_id="isolation-1")
        await citizen.say("/start")
        await citizen.say("lệ phí đăng ký tạm trú")
        async with app.sessions() as session:  # committed, as far as the test can tell
            rows = await session.scalar(select(func.count()).select_from(ChatStateRow))
        assert rows == before + 1
    assert await _chat_rows(shared) == before  # rolled back: the next test starts clean


def test_the_index_of_a_knowledge_base_is_built_once_and_shared() -> None:
    entries = kbfile.load_dir(BUNDLED_KB)
    assert kbfile.load_dir(BUNDLED_KB) == entries
    first = calibrate.build(entries)
    assert calibrate.build(list(entries)) is first  # the same base: the same index
    assert calibrate.build(entries[:-1]) is not first  # another base: its own index
    assert len(calibrate.build(entries[:-1])) == len(first) - 1


def test_an_in_process_command_puts_the_process_back(tmp_path: Path) -> None:
    root = logging.getLogger()
    handlers, level, cwd, env = root.handlers[:], root.level, os.getcwd(), dict(os.environ)
    done = cli_runner.run(
        "kb", "validate", str(tmp_path / "missing.yaml"), cwd=tmp_path, env={"LOG_LEVEL": "DEBUG"}
    )
    assert done.returncode == 1
    assert "cannot read the file" in done.stderr
    assert (root.handlers, root.level, os.getcwd(), dict(os.environ)) == (
        handlers,
        level,
        cwd,
        env,
    )
    assert cli_runner.run("--no-such-option", cwd=tmp_path).returncode == 2  # argparse's exit
