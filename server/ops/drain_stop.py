"""The drain's last step: at the shutdown deadline, every request still running is stopped and told why.

A generation request registers a callback for as long as it runs (`during`). When the drain's
`shutdown_timeout` has passed with requests still in flight, `fire()` calls each callback once: a
stream ends with a 503 `service_unavailable` error event and `[DONE]` (in its API's own event format),
a request that is not streamed gets a 503 JSON error with `Retry-After`, and their engine requests are
aborted. Without it the server would stop under them and clients would see the connection drop with
no reason given, which most clients report as a network error and some retry on the same replica.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

SHUTTING_DOWN = "The server is shutting down; retry on another replica."


class DrainStop:
    def __init__(self) -> None:
        self._stops: set[Callable[[], None]] = set()
        self.fired = False

    @contextlib.contextmanager
    def during(self, stop: Callable[[], None]) -> Iterator[None]:
        """Call `stop` if the drain's deadline passes while the block runs."""
        self._stops.add(stop)
        try:
            yield
        finally:
            self._stops.discard(stop)

    def fire(self) -> int:
        """Stop everything registered; returns how many were."""
        self.fired = True
        stops = list(self._stops)
        for stop in stops:
            stop()
        return len(stops)
