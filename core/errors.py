"""Domain errors shared by the apps. The API maps them to status codes in one place
(`core.api.exception_handler`) and pages show the same message."""


class DomainError(Exception):
    """A rule of the product refused the action; `str(error)` says why, for the user."""


class TransitionNotAllowed(DomainError):
    """The object's current state does not allow the action (HTTP 409)."""


class ConcurrentDecision(TransitionNotAllowed):
    """Somebody else changed the object at the same moment and won (HTTP 409)."""
