"""Hardening of settings and secrets (issue 14): L5 (key strength, key file), L3 (settings)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import SecretKeyError, Settings


def settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"secret_key_file": tmp_path / "secret.key", **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_a_short_secret_key_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        settings(tmp_path, secret_key="a")
    assert "at least 32 bytes" in str(refused.value)
    assert settings(tmp_path, secret_key="k" * 32).resolved_secret() == b"k" * 32


@pytest.mark.parametrize("content", [b"", b"   \n", b"short-key\n"])
def test_an_empty_or_short_key_file_is_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "secret.key").write_bytes(content)
    with pytest.raises(SecretKeyError, match="at least 32"):
        settings(tmp_path).resolved_secret()


def test_the_key_file_is_created_with_mode_600_once(tmp_path: Path) -> None:
    os.umask(0o022)
    keys: list[bytes] = []
    barrier = threading.Barrier(8)

    def resolve() -> None:
        barrier.wait()
        keys.append(settings(tmp_path).resolved_secret())

    threads = [threading.Thread(target=resolve) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(set(keys)) == 1 and len(keys[0]) == 64  # every process kept the same key
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]  # no temporary file left


def test_the_command_line_names_a_short_key_file(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("\n")
    env = {
        **os.environ,
        "SECRET_KEY": "",
        "SECRET_KEY_FILE": str(tmp_path / "secret.key"),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/m.db",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "lệ phí"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "at least 32" in done.stderr and "Traceback" not in done.stderr
