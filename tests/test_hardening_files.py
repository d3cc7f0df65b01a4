"""Hardening of spreadsheet imports (issue 14, L7): the same unpacked-size limit on the command
line as in the chat, and an admin's file validated outside the write transaction."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from bot.app import App
from bot.messages import Channel, ChatRef, Incoming, IncomingFile
from knowledge import kbfile
from knowledge.entry import Entry
from knowledge.filelimits import MAX_UNPACKED_XLSX
from storage import migrate
from storage.repositories import roles
from tests import cli_runner
from tests.conftest import make_settings


def zip_bomb(path: Path) -> Path:
    """A small .xlsx-named archive that declares more than the limit once unpacked."""
    zero = b"\0" * (1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member,
    ):
        for _ in range(MAX_UNPACKED_XLSX // len(zero) + 1):
            member.write(zero)
    assert path.stat().st_size < 2 * 1024 * 1024
    return path


def run_cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "SECRET_KEY": "files-test-key-0123456789abcdef012345",
    }
    return cli_runner.run(*args, cwd=tmp_path, env=env)  # in this process: tests/cli_runner.py


def test_the_command_line_refuses_a_zip_bomb_like_the_chat(tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "bomb.xlsx")
    with pytest.raises(kbfile.KbFileError, match="unpacks to more than 100 MB"):
        kbfile.parse(bomb.read_bytes(), "xlsx")
    done = run_cli("kb", "validate", str(bomb), tmp_path=tmp_path)
    assert done.returncode != 0 and "unpacks to more than 100 MB" in done.stdout + done.stderr
    done = run_cli("dossiers", "import", str(bomb), "--dry-run", tmp_path=tmp_path)
    assert done.returncode != 0 and "unpacks to more than 100 MB" in done.stdout + done.stderr


async def test_an_admins_large_workbook_is_validated_without_stalling_other_chats(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'l7.db'}"
    await migrate.upgrade_async(url)
    app = App.build(make_settings(url, tmp_path))
    await app.start(migrate_db=False, watch=False)
    try:
        admin = ChatRef(Channel.TELEGRAM, "9001", "9001")
        async with app.sessions() as s, s.begin():
            await roles.grant(
                s,
                user_hash=app.dispatcher.user_hash_of(Channel.TELEGRAM, "9001"),
                channel="telegram",
                user_id="9001",
                role=roles.ADMIN,
                agency=None,
                alerts=False,
            )
        entries = [
            Entry(
                id=f"thu-nghiem/muc-{i}",
                category="Thử nghiệm",
                question=f"Câu hỏi thử nghiệm số {i} về thủ tục?",
                answer="Trả lời dài về thủ tục hành chính. " * 30,
            )
            for i in range(8000)
        ]
        workbook = kbfile.dump(entries, "xlsx")
        upload = Incoming(admin, "u1", file=IncomingFile("moi.xlsx", workbook))
        citizen = Incoming(ChatRef(Channel.WEB, "c1", "c1"), "c1", text="lệ phí đăng ký tạm trú")
        finished: dict[str, float] = {}

        async def run(name: str, incoming: Incoming, delay: float) -> None:
            await asyncio.sleep(delay)
            await app.dispatcher.handle(incoming)
            finished[name] = time.monotonic()

        await asyncio.gather(run("admin", upload, 0), run("citizen", citizen, 0.15))
        # The citizen's answer did not wait for the workbook to be read.
        assert finished["citizen"] < finished["admin"]
    finally:
        await app.close()
