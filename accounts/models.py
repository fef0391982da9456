import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.db import models

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class Department(models.Model):
    """A cost centre; requests are charged to one."""

    name = models.CharField(max_length=120, unique=True)
    cost_centre = models.CharField(max_length=20, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.cost_centre})"


class User(AbstractUser):
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")

    def __str__(self):
        return self.get_full_name() or self.username
