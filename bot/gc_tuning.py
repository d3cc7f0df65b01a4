"""Keep the garbage collector's full passes off the message path.

A serving process holds a large, long-lived object graph (the knowledge index: hundreds of
thousands of small tuples, dicts and strings). CPython's full (generation 2) collection walks
every tracked object, and under load one happened every few seconds and took about 150 ms on
2 cores, during which no request is served: at 50 concurrent web sessions it was the largest
source of the p99 latency (docs/cost.md). ``gc.freeze()`` moves every object alive at that
moment out of the collector's reach (they are still freed by reference counting when they die),
so the full passes only walk what was allocated since.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def freeze_long_lived() -> None:
    """Collect once, then exempt everything still alive (the index, modules, settings) from
    later collections. Called once the index is built, before serving."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    log.info(
        "gc: %d long-lived objects frozen in %.0f ms",
        gc.get_freeze_count(),
        (time.perf_counter() - started) * 1000,
    )
