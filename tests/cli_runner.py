"""The ``motcua`` command run inside the test process.

A real ``python -m bot`` costs a second and a half of imports and a fresh index build before it
does anything; a test that runs eight commands spent most of its time there. Where a test is about
what a command does (its output, exit code, files and database), ``run`` calls ``bot.cli.main``
with the same arguments, environment, working directory and standard input, and returns what a
subprocess would (``subprocess.CompletedProcess``). Tests about the process itself (``python -m
bot`` starting, signals, exit on a real pipe) keep a real subprocess.

Everything ``main`` changes for the process is put back: the environment, the working directory,
the standard streams and the root logger (``setup_logging`` replaces its handlers).
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_lock = threading.Lock()  # the process has one environment, one cwd and one stdout
_LOGGERS = ("", "httpx", "aiohttp.access", "alembic", "telegram")


def run(
    *args: str, cwd: Path, stdin: str = "", env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``motcua *args`` in ``cwd`` with ``env`` (the whole environment) and ``stdin``."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run(args, cwd, stdin, env)
    # Called from a running loop (an async test): main() runs its own loop, so in a thread.
    result: list[subprocess.CompletedProcess[str]] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(_run(args, cwd, stdin, env))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def _run(
    args: tuple[str, ...], cwd: Path, stdin: str, env: Mapping[str, str] | None
) -> subprocess.CompletedProcess[str]:
    from bot.cli import main

    out, err = _stream(), _stream()
    with _lock:
        saved_env = dict(os.environ)
        saved_cwd = os.getcwd()
        saved_streams = sys.stdin, sys.stdout, sys.stderr
        saved_loggers: list[tuple[logging.Logger, list[logging.Handler], int]] = [
            (lg, lg.handlers[:], lg.level) for lg in map(logging.getLogger, _LOGGERS)
        ]
        try:
            if env is not None:
                os.environ.clear()
                os.environ.update(env)
            os.chdir(cwd)
            sys.stdin, sys.stdout, sys.stderr = _stream(stdin), out, err
            try:
                code: Any = main(list(args))
            except SystemExit as exc:  # argparse errors and --help exit like the process would
                code = exc.code
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved_streams
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
            for lg, handlers, level in saved_loggers:
                lg.handlers[:] = handlers
                lg.setLevel(level)
    if code is None:  # SystemExit() or SystemExit(None)
        code = 0
    elif not isinstance(code, int):
        print(code, file=err)
        code = 1
    return subprocess.CompletedProcess(["motcua", *args], code, _text(out), _text(err))


def _stream(content: str = "") -> io.TextIOWrapper:
    """A text stream with a binary ``buffer``, like the real ones (UTF-8, as CI's locale)."""
    return io.TextIOWrapper(io.BytesIO(content.encode()), encoding="utf-8", newline=None)


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8", errors="replace").replace("\r\n", "\n")
