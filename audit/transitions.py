"""Running a django-fsm transition the way every service does: check it is allowed from the
current state (409 with a reason otherwise), run it, save, and record the audit event in the
caller's transaction."""

from django_fsm import can_proceed

from core.errors import TransitionNotAllowed

from .services import record_event

PAST_TENSE = {
    "submit": "submitted",
    "resubmit": "resubmitted",
    "withdraw": "withdrawn",
    "mark_ordered": "marked as ordered",
    "close": "closed",
    "approve": "approved",
    "approve_with_conditions": "approved with conditions",
    "reject": "rejected",
    "request_changes": "sent back for changes",
    "start_review": "put under review",
    "suspend": "suspended",
    "reinstate": "reinstated",
    "offboard": "offboarded",
}


def _state_field(obj, transition: str) -> str:
    return getattr(obj, transition)._django_fsm.field.name


def ensure_can(obj, transition: str) -> None:
    if not can_proceed(getattr(obj, transition)):
        field = _state_field(obj, transition)
        state = getattr(obj, f"get_{field}_display")().lower()
        name = getattr(obj, "number", None) or str(obj)
        raise TransitionNotAllowed(
            f"{name} is {state}, so it cannot be {PAST_TENSE.get(transition, transition)}."
        )


def apply_transition(obj, transition: str, *, by, kwargs=None, payload=None, on_behalf_of=None):
    """Runs `transition` on `obj`, saves it and writes its audit event. The caller holds the
    transaction (and the row lock)."""
    ensure_can(obj, transition)
    field = _state_field(obj, transition)
    from_state = getattr(obj, field)
    getattr(obj, transition)(**(kwargs or {}))
    obj.save()
    record_event(
        obj,
        actor=by,
        on_behalf_of=on_behalf_of,
        kind=transition,
        from_state=from_state,
        to_state=getattr(obj, field),
        payload=payload or {},
    )
