"""Stored responses: a bounded, in-process store for `store: true` (OpenAI's default).

It keeps, per response, the response object, its input items (for `GET .../input_items`) and the
conversation up to and including its output as chat messages (what `previous_response_id` continues),
and indexes its output items by id (what an `item_reference` input item names).
Bounded three ways: at most `max_items` responses, at most `max_bytes` of them in all (their JSON
size), each for `ttl` seconds; the oldest go first. It lives in this process only: a restart forgets
everything, and several replicas need sticky routing (or clients that resend their history).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from server.ops import metrics


@dataclass(slots=True)
class StoredResponse:
    response: dict[str, Any]
    input_items: list[dict[str, Any]]
    history: list[dict[str, Any]]  # chat messages: the conversation through this response's output
    size: int
    expires: float


class ResponseStore:
    def __init__(self, max_items: int, max_bytes: int, ttl: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._clock = clock
        self._items: OrderedDict[str, StoredResponse] = OrderedDict()
        self._outputs: dict[str, tuple[str, dict[str, Any]]] = {}  # output item id -> (response id, item)
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        return self._bytes

    def fits(self, size: int) -> bool:
        """Whether an entry of `size` bytes can be stored at all (alone, in an empty store)."""
        return size <= self.max_bytes

    def put(self, response: dict[str, Any], input_items: list[dict[str, Any]],
            history: list[dict[str, Any]]) -> bool:
        """Store a response, evicting the oldest as needed; False if it is larger than the whole store."""
        size = len(orjson.dumps(response)) + len(orjson.dumps(input_items)) + len(orjson.dumps(history))
        if not self.fits(size):
            return False
        self._expire()
        key = response["id"]
        self._drop(key)
        while self._items and (len(self._items) >= self.max_items or self._bytes + size > self.max_bytes):
            self._drop(next(iter(self._items)))
        self._items[key] = StoredResponse(response, input_items, history, size, self._clock() + self.ttl)
        for item in response.get("output", ()):
            if isinstance(item, dict) and "id" in item:
                self._outputs[item["id"]] = (key, item)
        self._bytes += size
        self._publish()
        return True

    def get(self, key: str) -> StoredResponse | None:
        entry = self._items.get(key)
        if entry is None:
            return None
        if entry.expires <= self._clock():
            self._drop(key)
            self._publish()
            return None
        return entry

    def output_item(self, item_id: str) -> dict[str, Any] | None:
        """A stored response's output item by its id, while that response is kept."""
        found = self._outputs.get(item_id)
        if found is None or self.get(found[0]) is None:
            return None
        return found[1]

    def delete(self, key: str) -> bool:
        found = self.get(key) is not None
        self._drop(key)
        self._publish()
        return found

    def _expire(self) -> None:
        now = self._clock()
        while self._items:  # insertion order is expiry order: every entry gets the same ttl
            key, entry = next(iter(self._items.items()))
            if entry.expires > now:
                break
            self._drop(key)

    def _drop(self, key: str) -> None:
        entry = self._items.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size
            for item in entry.response.get("output", ()):
                if isinstance(item, dict) and self._outputs.get(item.get("id", ""), ("",))[0] == key:
                    del self._outputs[item["id"]]

    def _publish(self) -> None:
        metrics.RESPONSES_STORED.set(len(self._items))
        metrics.RESPONSES_STORED_BYTES.set(self._bytes)
