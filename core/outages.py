"""Outages of a dependency (issue 30), as one process sees them: each change of state is logged
once (failing, then answering again), however many calls, requests, health checks or scrapes
meet the outage in between. The log of an outage is two lines per process, not one per call.

- `Watch`: a dependency's state, told by whoever meets it: the health checks, the metrics,
  the requests that answered 503, beat's scheduler (`DATABASE` below; operations.health's and
  operations.scheduler's).
- `Pause`: also leaves the dependency alone for a while after one call to it failed (refused,
  or timed out on a frozen Redis): the process does not ask it again for `seconds`; what it
  would have done is left to the fallback (the outbox, a cache miss). An outage then costs one
  request per process a second, instead of every request that second (core.tasks' `BROKER`,
  core.cache's `CACHE`)."""

import logging
import threading
import time

from django.db import InterfaceError, OperationalError

logger = logging.getLogger("tandem.outages")

_watches: list["Watch"] = []


class Watch:
    def __init__(self, name: str, *, failing: str, answering: str | None = None):
        self.name = name
        self.failing_message = failing
        self.answering_message = answering or f"{name} answers again"
        self._lock = threading.Lock()
        self._failing = False
        _watches.append(self)

    def failed(self, error: BaseException | None = None) -> None:
        """A call failed. The first failure of an outage is logged, with the error's traceback
        when there is one (the reason, once)."""
        with self._lock:
            announce, self._failing = not self._failing, True
        if announce:
            logger.warning(self.failing_message, exc_info=error)

    def answered(self) -> None:
        if not self._failing:
            return
        with self._lock:
            announce, self._failing = self._failing, False
        if announce:
            logger.warning(self.answering_message)

    def reset(self) -> None:
        """Forget any failure (tests)."""
        with self._lock:
            self._failing = False


class Pause(Watch):
    def __init__(self, name: str, *, seconds: float, fallback: str):
        super().__init__(
            name, failing=f"{name} unavailable: {fallback}; asked again every {seconds:g}s"
        )
        self.seconds = seconds
        self._until = 0.0

    def active(self) -> bool:
        return time.monotonic() < self._until

    def failed(self, error: BaseException | None = None) -> None:
        with self._lock:
            self._until = time.monotonic() + self.seconds
        super().failed(error)

    def answered(self) -> None:
        # A health check that reached the dependency ends the pause too.
        self._until = 0.0
        super().answered()

    def reset(self) -> None:
        with self._lock:
            self._until = 0.0
        super().reset()


# A request whose 503 comes from an outage logged here carries this attribute: Django's own line
# for the 503 (django.request, at ERROR, each time) is dropped (core.logging.OutageLoggedOnce).
LOGGED = "outage_logged"


def logged(request) -> None:
    """The 503 answering `request` is an outage's, logged here: no line of Django's for it."""
    setattr(request, LOGGED, True)


def reset_all() -> None:
    """Every watch and pause forgets its failures (tests)."""
    for watch in _watches:
        watch.reset()


# The database does not answer (stopped, restarting, unreachable): Django raises these.
DATABASE_DOWN = (OperationalError, InterfaceError)


def database_down(error: BaseException | None) -> bool:
    """The error, or one it was raised from or while handling, is the database not answering."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, DATABASE_DOWN):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


# The database, as this process sees it: told by /readyz and the health checks, the metrics,
# the pages and API requests that answered 503 because of it (core.http, core.logging) and beat's
# scheduler; a new connection (CoreConfig.ready) tells that it answers again.
DATABASE = Watch(
    "the database",
    failing=(
        "the database does not answer: pages and the API answer 503 briefly unavailable, "
        "/readyz answers 503, beat sends no scheduled task"
    ),
)
