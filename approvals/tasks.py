"""Celery entry points: thin, idempotent because the database says so."""

from celery import shared_task

from . import digest, reminders


@shared_task
def sweep_reminders() -> int:
    return reminders.sweep_due_steps()


@shared_task
def daily_digest() -> int:
    return digest.send_daily_digest()
