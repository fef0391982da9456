"""Heartbeats: when did a periodic piece of work last complete (see `core.models.Heartbeat`)."""

from datetime import datetime

from django.utils import timezone

from .models import Heartbeat

SWEEP = "sweep"
DELIVERY = "delivery"
BEAT = "beat"


def record(name: str, at: datetime | None = None) -> None:
    """One statement (INSERT … ON CONFLICT DO UPDATE): safe when two processes beat at once."""
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, at=at or timezone.now())],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["at"],
    )


def last(name: str) -> datetime | None:
    return Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()


def all_last() -> dict[str, datetime]:
    return dict(Heartbeat.objects.values_list("name", "at"))
