"""Bounded memories of the bot: conversations per thread, answers for their buttons, events already seen."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

MAX_THREADS = 2000  # threads remembered
MAX_ANSWERS = 2000  # answers remembered for their buttons
MAX_SEEN = 10000  # event ids remembered against double delivery
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

class LRU(Generic[K, V]):
    """A thread-safe mapping that forgets its least recently used entries beyond `size`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def pop(self, key: K) -> V | None:
        with self._lock:
            return self._data.pop(key, None)

    def update(self, key: K, default: Callable[[], V], change: Callable[[V], V]) -> V:
        """Atomically replace the value at `key` (or `default()`) by `change(value)`; returns the new value."""
        with self._lock:
            value = change(self._data[key] if key in self._data else default())
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
            return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


class Seen(LRU[Hashable, bool]):
    """The most recent keys seen (event ids, clicks), to act on each only once."""

    def add_new(self, *keys: Hashable) -> bool:
        """Remember `keys`; True only when none of them was seen before."""
        with self._lock:
            fresh = not any(k in self._data for k in keys)
            for k in keys:
                self._data[k] = True
                self._data.move_to_end(k)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
            return fresh

