"""Where a web message's time goes: a per-phase breakdown of ``POST /api/chat`` on SQLite.

Runs motcua's web app in this process (fresh SQLite database, one worker, as ``motcua serve``)
with a timer around each phase of a message (the server thread's CPU time, which the
neighbours of a shared machine do not change; ``--clock wall`` for elapsed time), and drives it
from a separate client process (``bench/chat_load.py``'s closed loop), first with one session,
then with many. Each phase's time is exclusive (a phase nested in another is not counted
twice). "Waiting for the connection" is the time spent queueing for the one SQLite connection
(SQLite has one writer, so this is the wait for the write lock); with group commit, "waiting
for a batch and its commit" is the time a message waits for its turn in a batch and for the
batch's commit (other messages run meanwhile: it is not work). "Other" is what no phase
covers (aiohttp, the web channel's own code, composing the JSON answer); the handlers' own
code is timed apart.

With one session, each phase's time is its cost. With many, a phase that awaits also holds the
time other requests ran on the event loop meanwhile (the process is busy, not waiting): read
that table for the shares and the wait, and the req/s line for the capacity.

    .venv/bin/python bench/profile_message.py --sessions 50 --messages 20 --single 300
    .venv/bin/python bench/profile_message.py --single 300 --cprofile /tmp/prof  # + cProfile

The figures land in docs/cost.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

totals: dict[str, float] = defaultdict(float)
clock: Callable[[], float] = time.thread_time  # --clock wall: time.perf_counter
stacks: dict[int, list[list[Any]]] = defaultdict(list)


def _task_key() -> int:
    try:
        return id(asyncio.current_task())
    except RuntimeError:
        return 0


def _enter(phase: str) -> list[Any]:
    frame = [phase, clock(), 0.0]
    stacks[_task_key()].append(frame)
    return frame


def _leave(frame: list[Any]) -> None:
    stack = stacks[_task_key()]
    stack.pop()
    elapsed = clock() - frame[1]
    totals[frame[0]] += elapsed - frame[2]
    if stack:
        stack[-1][2] += elapsed


def timed(owner: Any, name: str, phase: str) -> None:
    """Wrap ``owner.name`` (a coroutine function or a plain one) with the phase's timer."""
    original: Callable[..., Any] = getattr(owner, name)
    if asyncio.iscoroutinefunction(original):

        @functools.wraps(original)
        async def wrapper_async(*args: Any, **kwargs: Any) -> Any:
            frame = _enter(phase)
            try:
                return await original(*args, **kwargs)
            finally:
                _leave(frame)

        setattr(owner, name, wrapper_async)
    else:

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            frame = _enter(phase)
            try:
                return original(*args, **kwargs)
            finally:
                _leave(frame)

        setattr(owner, name, wrapper)


def instrument() -> None:
    from sqlalchemy.pool import impl

    import bot.channels.web as web_channel
    import bot.channels.web_history as web_history
    from knowledge.search import Index
    from storage.repositories import chats, messages, roles

    try:  # SQLite's connection, inline or aiosqlite's threaded one (older commits)
        from storage.sqlite_inline import InlineConnection as SqliteConnection
    except ImportError:
        from aiosqlite import Connection as SqliteConnection

    timed(web_channel.WebChannel, "chat", "other (aiohttp, web channel, JSON answer)")
    timed(web_channel, "read_body", "parsing the request")
    timed(web_channel, "parse_json", "parsing the request")
    timed(web_channel.WebChannel, "_admit", "rate limits and session")
    timed(web_channel.WebChannel, "_new_session", "rate limits and session")
    timed(chats, "claim_event", "claiming the event")
    timed(chats, "lock_state", "state (load and save)")
    timed(chats, "save_state", "state (load and save)")
    timed(roles, "actor_of", "role")
    timed(Index, "search", "retrieval")
    timed(messages, "log_question", "logging the question")
    timed(web_history.WebHistory, "record", "web history")
    if hasattr(web_history.WebHistory, "record_in"):
        timed(web_history.WebHistory, "record_in", "web history")
    if hasattr(web_channel.WebChannel, "_admit_in"):
        timed(web_channel.WebChannel, "_admit_in", "rate limits and session")
    timed(SqliteConnection, "commit", "commit")
    try:  # phases of later commits: the answer's review caveat, small-talk detection
        from knowledge import intents
        from storage.repositories import legal

        timed(legal, "caveat_applies", "review caveat (answers only)")
        timed(intents, "detect", "small-talk and dossier intents")
    except (ImportError, AttributeError):
        pass
    timed(impl.AsyncAdaptedQueuePool, "_do_get", "waiting for the connection (write lock)")
    try:  # later commits: the handler's own code, and group commit's wait, apart from "other"
        from bot.dispatcher import Dispatcher
        from storage.group_commit import GroupCommit

        timed(Dispatcher, "_in_transaction", "handlers' own code (in the transaction)")
        timed(GroupCommit, "run", "waiting for a batch and its commit (group commit)")
    except (ImportError, AttributeError):
        pass


CLIENT = """
import asyncio, sys
sys.path.insert(0, {bench!r})
import chat_load
r = asyncio.run(chat_load.drive({url!r}, {sessions}, {messages}, "profile"))
print(r.ok, len(r.errors), r.elapsed, r.q(50), r.q(99))
"""


async def run(url: str, sessions: int, messages: int) -> tuple[int, int, float, float, float]:
    code = CLIENT.format(bench=str(ROOT / "bench"), url=url, sessions=sessions, messages=messages)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    out, _ = await proc.communicate()
    ok, errors, elapsed, p50, p99 = out.split()
    return int(ok), int(errors), float(elapsed), float(p50), float(p99)


def show(title: str, ok: int, errors: int, elapsed: float, p50: float, p99: float) -> None:
    per = {k: v / max(ok, 1) * 1000 for k, v in totals.items()}
    busy = sum(v for k, v in per.items() if not k.startswith("waiting"))
    print(f"\n{title}: {ok / elapsed:.1f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"errors {errors}; wall time per answered message {elapsed / max(ok, 1) * 1000:.2f} ms")
    print(f"{'phase':46} {'ms/message':>10} {'share of work':>14}")
    for phase, ms in sorted(per.items(), key=lambda kv: -kv[1]):
        share = "" if phase.startswith("waiting") else f"{ms / busy:14.0%}"
        print(f"{phase:46} {ms:10.2f} {share}")
    print(f"{'work in the server, all phases but waiting':46} {busy:10.2f}")


async def main(args: argparse.Namespace) -> None:
    from bot.app import App
    from bot.config import Settings
    from bot.server import make_web_app

    app = App.build(Settings())
    await app.start(watch=False)
    try:  # as ``motcua serve`` does once the index is built (bot/gc_tuning.py)
        from bot.gc_tuning import freeze_long_lived

        freeze_long_lived()
        from storage.sqlite_checkpoint import BackgroundCheckpoint

        checkpoint = BackgroundCheckpoint(app.engine)  # as ``motcua serve`` on SQLite
        await checkpoint.start()
    except ImportError:  # older commits
        pass
    runner = web.AppRunner(make_web_app(app), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}"
    try:
        await run(url, 2, 10)  # warm up (first import paths, statement caches)
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        for sessions, messages in ((1, args.single), (args.sessions, args.messages)):
            if messages <= 0:
                continue
            totals.clear()
            profiler = cProfile.Profile() if args.cprofile else None
            if profiler is not None:
                profiler.enable()
            result = await run(url, sessions, messages)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(f"{args.cprofile}.{sessions}x{messages}")
            show(f"{sessions} session(s) x {messages} messages", *result)
    finally:
        await runner.cleanup()
        await app.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu (default): the server thread's CPU time, which the neighbours of a shared "
        "machine do not change; wall: elapsed time",
    )
    parser.add_argument(
        "--cprofile",
        metavar="PATH",
        help="also run cProfile over each run; stats land in PATH.<sessions>x<messages>",
    )
    arguments = parser.parse_args()
    if arguments.clock == "wall":
        clock = time.perf_counter
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/profile.db",
            SECRET_KEY="profile-bench-key-0123456789abcdef",  # noqa: S106 (a throwaway db)
            WEB_RATE_LIMIT_PER_MINUTE="100000",
            WEB_RATE_LIMIT_PER_ADDRESS_PER_MINUTE="100000",
            LOG_LEVEL="WARNING",
        )
        instrument()
        asyncio.run(main(arguments))
