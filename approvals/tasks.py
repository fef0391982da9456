"""Celery entry points: thin, idempotent because the database says so."""

from celery import shared_task

from . import digest, reminders


@shared_task
def sweep_reminders() -> int:
    """Step reminders and escalations, then the reminders of unanswered second opinions."""
    return reminders.sweep_due_steps() + reminders.sweep_due_consultations()


@shared_task
def daily_digest() -> int:
    return digest.send_daily_digest()
