from django.db import models


class Heartbeat(models.Model):
    """The last time a periodic piece of work completed (or a process was alive): `sweep` (the
    reminder sweep), `delivery` (the periodic delivery of the outbox), `beat` (Celery beat's
    scheduler loop). Read by the health commands, the metrics and the admin alerts."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
