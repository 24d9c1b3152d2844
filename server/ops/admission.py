"""Admission control: a cap on generation requests in flight, answered 429 at once beyond it.

A permit is taken before any work starts and released when the answer is complete; a streaming
response keeps its permit until its last byte (`Permit.keep`). No queue forms inside the gateway: the
client is told to retry (`Retry-After`), which keeps latency and memory bounded under overload.
"""

from __future__ import annotations

from types import TracebackType

from server.errors import Overloaded
from server.ops import metrics


class Admission:
    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.in_flight = 0

    def admit(self) -> Permit:
        if self.limit is not None and self.in_flight >= self.limit:
            metrics.REJECTED.labels("overloaded").inc()
            raise Overloaded(f"The server is at its limit of {self.limit} requests in flight; retry shortly.")
        self.in_flight += 1
        metrics.IN_FLIGHT.inc()
        return Permit(self)

    def _release(self) -> None:
        self.in_flight -= 1
        metrics.IN_FLIGHT.dec()


class Permit:
    __slots__ = ("_admission", "_held")

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._held = True

    async def __aenter__(self) -> Permit:
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.release()

    def release(self) -> None:
        if self._held:
            self._held = False
            self._admission._release()

    def keep(self) -> None:
        """The response body now owns the permit and releases it when it ends."""
        self._held = False

    def release_kept(self) -> None:
        self._held = True
        self.release()
