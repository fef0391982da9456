"""Celery entry points: thin, idempotent because the database says so."""

from celery import shared_task

from core import heartbeats

from . import digest, reminders


@shared_task
def sweep_reminders() -> int:
    """Step reminders and escalations, then the reminders of unanswered second opinions; once
    it completes, its heartbeat (an admin is alerted when it stops)."""
    recorded = reminders.sweep_due_steps() + reminders.sweep_due_consultations()
    heartbeats.record(heartbeats.SWEEP)
    return recorded


@shared_task
def daily_digest() -> int:
    return digest.send_daily_digest()


@shared_task
def run_backtest(draft_id: int, started_at: str) -> bool:
    """The backtest of a rule change (rule_drafts.run_backtest claims the run: a redelivered
    or superseded task does nothing)."""
    from . import rule_drafts

    return rule_drafts.run_backtest(draft_id, started_at)
