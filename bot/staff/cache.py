"""Small in-process caches of the console: each worker keeps them, nothing depends on them.

- **Figures of a view** (``Statistics``) for ``STAFF_DASHBOARD_CACHE_SECONDS``: the dashboard of
  a busy period costs a second or more to compute on a large city, and several people look at
  the same month; the page says when its figures were computed. The export of a view uses the
  same figures, so the workbook always matches the page it was asked from.
- **Charts** by their data: drawing an SVG with matplotlib costs about 100 ms, and a chart is a
  pure function of a few numbers and labels.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import Generic, TypeVar

from storage.models import utcnow

T = TypeVar("T")


class TtlCache(Generic[T]):
    """At most ``size`` values, each for ``ttl`` seconds (0: nothing is kept)."""

    def __init__(self, ttl: float, size: int = 64) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[Hashable, tuple[float, datetime, T]] = OrderedDict()

    async def get(self, key: Hashable, make: Callable[[], Awaitable[T]]) -> tuple[T, datetime]:
        """The cached value and when it was made, or a new one from ``make``."""
        now = time.monotonic()
        found = self._items.get(key)
        if found is not None and now - found[0] < self.ttl:
            self._items.move_to_end(key)
            return found[2], found[1]
        value = await make()
        made = utcnow()
        if self.ttl > 0:
            self._items[key] = (now, made, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value, made

    def clear(self) -> None:
        self._items.clear()


class Memo(Generic[T]):
    """A pure function's results by argument, at most ``size`` of them (least recent out)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()  # charts are drawn in worker threads

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
