from django.apps import AppConfig


class ReachConfig(AppConfig):
    """Deciding from where the reviewer is: personal links and replies in e-mail, Slack."""

    name = "reach"
    verbose_name = "Decide from e-mail and Slack"

    def ready(self):
        # Notifications sit below approvals and this app (layers): they call back through the
        # hooks this app registers, instead of importing it.
        from notifications import hooks
        from notifications.models import Channel

        from . import delivery, tasks  # noqa: F401 - tasks: registers the Celery tasks

        hooks.register(
            email=delivery.add_ways_to_decide,
            channel_senders={Channel.SLACK: delivery.send_slack},
            settled=delivery.on_settled,
        )
