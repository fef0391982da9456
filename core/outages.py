"""Leaving a failed dependency alone for a while (issue 30): after one call to the broker or the
shared cache fails (refused, or timed out on a frozen Redis), the process does not ask it again
for `seconds`; what it would have done is left to the fallback (the outbox, a cache miss). An
outage then costs one request per process a second, instead of every request that second.
Each change of state is logged once: failing, then answering again."""

import logging
import threading
import time

logger = logging.getLogger("tandem.outages")


class Pause:
    def __init__(self, name: str, *, seconds: float, fallback: str):
        self.name = name
        self.seconds = seconds
        self.fallback = fallback
        self._lock = threading.Lock()
        self._until = 0.0
        self._failing = False

    def active(self) -> bool:
        return time.monotonic() < self._until

    def failed(self) -> None:
        with self._lock:
            announce = not self._failing
            self._failing = True
            self._until = time.monotonic() + self.seconds
        if announce:
            logger.warning(
                "%s unavailable: %s; asked again every %gs", self.name, self.fallback, self.seconds
            )

    def answered(self) -> None:
        if not self._failing:
            return
        with self._lock:
            announce, self._failing = self._failing, False
        if announce:
            logger.warning("%s answers again", self.name)

    def reset(self) -> None:
        """Forget any failure (tests)."""
        with self._lock:
            self._until, self._failing = 0.0, False
