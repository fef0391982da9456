"""The daily digest (SPEC §4, issue #28): once a day, after DIGEST_HOUR in their own time zone,
each person who chose the digest for some kinds gets ONE e-mail listing the notices of those
kinds written since their last digest, grouped by kind, each with its link; none when nothing
is left to act on.

Exactly once: the person's (user, day) row is claimed first (a unique key; a second run of the
task, a retry or a second scheduler finds it taken and sends nothing), then, in the same
transaction, the notices it covers are marked and its e-mail is written to the outbox, which
delivers it at least once (retried with backoff like any e-mail).

Their groups' notices (one row for a whole group, `services.Message.group_id`) are not marked:
a digest covers those written in (`since`, `until`], from where the person's previous digest
ended, so each is in exactly one of their digests. `until` lags the run by SETTLE: a notice is
stamped when its transaction writes it, and listed once that transaction has surely ended."""

import zoneinfo
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from core import formats
from core.validation import one_line

from . import services
from .models import Channel, Delivery, Digest, Kind, Notification, Status

User = get_user_model()

# The hour of the person's day from which their digest goes (the task runs every hour).
DIGEST_HOUR = getattr(settings, "TANDEM_DIGEST_HOUR", 7)
# Notices listed per kind; the rest are counted, with the link to the inbox.
LISTED = 50
ORDER = [Kind.ASSIGNED, Kind.GROUP, Kind.REMINDERS, Kind.OUTCOMES, Kind.SERVICE]
# How long after it is stamped a group notice is surely committed, or never will be: longer
# than any transaction that writes one (a task is killed after CELERY_TASK_TIME_LIMIT, a
# request after gunicorn's timeout).
SETTLE = timedelta(minutes=10)
# How far back a person's first digest reaches (no further than their joining the site).
FIRST_REACH = timedelta(days=3)


def zone_of(user):
    try:
        return zoneinfo.ZoneInfo(user.time_zone) if user.time_zone else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def send_digests(now=None) -> int:
    """Writes today's digest of everyone whose notices wait for one and whose day has reached
    DIGEST_HOUR; returns how many digest e-mails it wrote."""
    now = now or timezone.now()
    waiting = set(
        Notification.objects.filter(awaits_digest=True, created_at__lte=now)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    people = User.objects.filter(pk__in=waiting | _group_news_for(now - SETTLE), is_active=True)
    sent = 0
    for user in people.order_by("pk"):
        local = timezone.localtime(now, zone_of(user) or timezone.get_default_timezone())
        if local.hour >= DIGEST_HOUR:
            sent += send_digest(user, day=local.date(), now=now)
    return sent


def _group_news_for(until) -> set[int]:
    """Who has group notices their digest has not covered yet: the members (with an e-mail
    address, who chose the digest for their groups' items) of a group with a notice written
    after their last digest's `until` (before their first, after `first_since`)."""
    newest = Notification.objects.filter(
        recipient__isnull=True, group_id=OuterRef("pk"), created_at__lte=until
    ).order_by("-created_at", "-id")
    groups = dict(
        Group.objects.annotate(newest=Subquery(newest.values("created_at")[:1]))
        .filter(newest__isnull=False)
        .values_list("pk", "newest")
    )
    members = (
        User.groups.through.objects.filter(group_id__in=list(groups), user__is_active=True)
        .exclude(user__email="")
        .values_list("user_id", "group_id", "user__date_joined")
    )
    news: dict[int, tuple] = {}
    for user_id, group_id, joined in members:
        latest = max(groups[group_id], news[user_id][0]) if user_id in news else groups[group_id]
        news[user_id] = (latest, joined)
    if not news:
        return set()
    covered = dict(
        Digest.objects.filter(user_id__in=list(news))
        .values("user_id")
        .annotate(until=Max("until"))
        .values_list("user_id", "until")
    )
    choices = services.deliveries_for(list(news))
    return {
        user_id
        for user_id, (latest, joined) in news.items()
        if services.delivery_of(choices, user_id, Kind.GROUP) == Delivery.DIGEST
        and latest > covered.get(user_id, first_since(joined, until))
    }


def first_since(joined, until):
    """Where a person's first digest starts: their joining the site, at most FIRST_REACH
    before it ends."""
    return max(joined, until - FIRST_REACH)


def send_digest(user, *, day, now) -> int:
    """`user`'s digest of `day`: 1 when its e-mail was written now, 0 when it was already
    claimed or nothing is left to act on (the notices are then covered all the same). Settled
    notices are not listed, only counted; those of a kind the person has switched off since are
    left out."""
    until = now - SETTLE
    with transaction.atomic():
        previous = Digest.objects.filter(user=user).order_by("-until").first()
        since = previous.until if previous else first_since(user.date_joined, until)
        try:
            with transaction.atomic():
                digest = Digest.objects.create(
                    user=user, day=day, since=since, until=max(since, until)
                )
        except IntegrityError:
            return 0  # claimed by another run: it sends this day's digest
        covered = list(
            Notification.objects.select_for_update()
            .filter(recipient=user, awaits_digest=True, created_at__lte=now)
            .order_by("created_at", "id")
        )
        Notification.objects.filter(pk__in=[n.pk for n in covered]).update(
            awaits_digest=False, digest=digest
        )
        # A kind switched off since its notices were written is left out (and covered); their
        # groups' notices are theirs to hear of in the digest while they choose it.
        choices = services.deliveries_for([user.pk])
        covered += [
            n
            for n in services.group_notices_written(user, since=digest.since, until=digest.until)
            if services.delivery_of(choices, user.pk, n.kind) == Delivery.DIGEST
        ]
        covered.sort(key=lambda n: (n.created_at, n.pk))
        to_act_on = [
            n
            for n in covered
            if n.done_at is None and services.delivery_of(choices, user.pk, n.kind) != Delivery.OFF
        ]
        if not to_act_on or not user.email:
            return 0
        Digest.objects.filter(pk=digest.pk).update(items=len(to_act_on))
        settled = len(covered) - len(to_act_on)
        with timezone.override(zone_of(user) or timezone.get_default_timezone()):
            subject, body, body_html = _render(day, to_act_on, settled)
        _, to_deliver = services._insert_values(
            [
                {
                    "recipient_id": user.pk,
                    "channel": Channel.EMAIL,
                    "kind": Kind.DIGEST,
                    "subject": subject,
                    "body": body,
                    "body_html": body_html,
                    "summary": f"{len(to_act_on)} notices since your last digest.",
                    "url": "/notifications/",
                    "dedupe_key": f"digest:{user.pk}:{day.isoformat()}",
                    "status": Status.PENDING,
                }
            ]
        )
        if to_deliver:
            transaction.on_commit(lambda: services.enqueue_delivery(to_deliver))
    return 1


def _render(day, notices, settled: int) -> tuple[str, str, str]:
    by_kind = defaultdict(list)
    for notice in notices:
        by_kind[notice.kind].append(notice)
    groups = [
        {
            "label": Kind(kind).label if kind in Kind.values else "Other",
            "count": len(by_kind[kind]),
            "items": [
                {
                    "subject": one_line(n.subject),
                    "summary": n.summary.split("\n")[0],
                    "url": services.absolute_url(n.url),
                    "at": formats.when(n.created_at),
                }
                for n in by_kind[kind][:LISTED]
            ],
            "more": max(len(by_kind[kind]) - LISTED, 0),
        }
        for kind in [*ORDER, *sorted(set(by_kind) - set(ORDER))]
        if by_kind[kind]
    ]
    count = len(notices)
    subject = f"Tandem digest for {formats.day(day)}: {count} new item{'s' if count != 1 else ''}"
    context = {
        "subject": subject,
        "groups": groups,
        "settled": settled,
        "inbox": services.absolute_url("/notifications/"),
        "settings_url": services.absolute_url("/notifications/settings/"),
    }
    return (
        subject,
        render_to_string("notifications/email/digest.txt", context),
        render_to_string("notifications/email/digest.html", context),
    )
