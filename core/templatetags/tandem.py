"""Template filters every page uses to show money, dates, times, people and roles the same way.
Registered as a builtin (settings TEMPLATES), so templates need no {% load %}."""

from django import template

from accounts import roles
from core import formats
from core.policies import is_admin as _is_admin

register = template.Library()


@register.filter
def money(amount, currency=""):
    """{{ pr.total_cost|money:pr.currency }} -> "30,000.00 EUR"."""
    return formats.money(amount, currency)


@register.filter(expects_localtime=False)
def when(value):
    """{{ step.due_at|when }} -> "1 Dec 2026, 09:05 CET" in the user's time zone."""
    return formats.when(value)


@register.filter(expects_localtime=False)
def due(value):
    """{{ step.due_at|due }} -> "Monday 16:00 CET": in plain words, in the viewer's zone."""
    return formats.due(value)


@register.filter(expects_localtime=False)
def day(value, style=""):
    """{{ pr.needed_by|day }} -> "1 Dec 2026"; {{ stage.expected_at|day:"weekday" }} ->
    "Tuesday 1 Dec 2026"."""
    return formats.day(value, weekday=style == "weekday")


@register.filter
def role_label(value):
    """A role group's display name ("it_reviewers" -> "IT review"); anything else unchanged.
    For names stored in older audit events, before events carried display names."""
    return roles.label_of(value)


@register.filter
def humanize_code(value):
    """An internal code shown as words: "questionnaire_answered" -> "Questionnaire answered"."""
    text = str(value or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@register.filter
def duration(value):
    """{{ sweep.interval|duration }} -> "5 minutes", never "0:05:00"."""
    return formats.duration(value)


@register.filter
def is_admin(user) -> bool:
    """`{% if user|is_admin %}`: what "admin" means everywhere (core.policies.is_admin)."""
    return _is_admin(user)
