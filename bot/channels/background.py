"""Background work a channel hands off (replies after a webhook was acknowledged)."""

from __future__ import annotations

import asyncio
import logging


async def drain(tasks: set[asyncio.Task[None]], seconds: float | None, dropped: str) -> None:
    """Wait until every task of the set has finished; past ``seconds``, cancel the rest and
    log ``dropped``. The set shrinks as tasks finish (their done-callbacks discard them)."""
    loop = asyncio.get_running_loop()
    deadline = None if seconds is None else loop.time() + seconds
    while tasks:
        remaining = None if deadline is None else deadline - loop.time()
        if remaining is not None and remaining <= 0:
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            logging.getLogger(__name__).warning(dropped)
            return
        await asyncio.wait(set(tasks), timeout=remaining)
