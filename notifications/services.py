"""Writing notifications to the outbox and delivering them (SPEC §4).

Guarantee: a notification is recorded exactly once (its cause's transaction writes it, with a
unique dedupe key) and delivered at least once: a failed e-mail or webhook is retried with
backoff, and a delivery whose worker died is taken up again after CLAIM_TIMEOUT.

What is written for a group does not grow with the group (SPEC §4): a message naming its group
(`Message.group_id`) has ONE in-app row for the whole group, and per person only the e-mail
and chat messages of those who chose to hear of it at once. Every reader of in-app notices
reads them through `notices_of`, `inbox_of` and `unread_for`, which show each person their own
and their groups' notices, read or not for them."""

import functools
import json
import logging
import urllib.request
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Case, Exists, ExpressionWrapper, F, OuterRef, Q, When
from django.template.loader import get_template
from django.utils import timezone

from core import formats
from core.memberships import groups_of
from core.tasks import enqueue_chunks
from core.validation import one_line

from . import hooks
from .models import (
    KINDS,
    Channel,
    Delivery,
    Kind,
    NoticeState,
    Notification,
    NotificationPreference,
    Status,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# A delivery claimed longer ago than this is taken to have died with its worker.
CLAIM_TIMEOUT = timedelta(seconds=settings.TANDEM_DELIVERY_CLAIM_TIMEOUT)


def absolute_url(path: str) -> str:
    return f"{settings.TANDEM_SITE_URL.rstrip('/')}{path}"


def notify(
    recipients,
    *,
    subject: str,
    lines: list[str],
    action: str,
    url: str,
    dedupe_key: str,
    kind: str,
    topic: str = "",
    chat: bool = False,
    amount: str = "",
):
    """Writes e-mail and in-app notifications for each recipient (and one webhook message when
    configured) in the caller's transaction, and enqueues their delivery after it commits.
    `dedupe_key` names the cause: the same cause never notifies the same person twice. Every
    message links to `url`, the page where the reader acts; `lines` say who did what and why
    (the inbox shows them too). `topic` names what the reader is asked to act on: `mark_done`
    settles every notification of a topic when somebody has acted on it. `chat`: also a direct
    message in the company chat (Slack), when a Slack app is configured. `amount`: the money the
    notice is about, as "<amount> <currency>" ("12500.00 EUR", `money_text`): the e-mail shows
    it formatted at its top, with the link. `kind` (a `Kind`) says what the notice is about:
    each recipient's choice for it (`deliveries_for`) decides whether the e-mail and chat
    message go at once, wait for their daily digest, or are not sent; the in-app notice is
    always written."""
    return notify_many(
        [
            Message(
                recipients, subject=subject, lines=lines, action=action, url=url,
                dedupe_key=dedupe_key, kind=kind, topic=topic, chat=chat, amount=amount,
            )
        ]
    )  # fmt: skip


@dataclass
class Message:
    """One cause's notice, as `notify` takes it: for `notify_many`.

    `group_id`: the group the recipients are told as (a step opening for a group that nobody
    holds yet): its one in-app row is the group's, seen by its members (`notices_of`), and
    `recipients` get only the e-mails and chat messages they chose at once. `left_out`: the
    group's members who must not see it (the step's requester, its holder told as such)."""

    recipients: list
    subject: str
    lines: list[str]
    action: str
    url: str
    dedupe_key: str
    kind: str
    topic: str = ""
    chat: bool = False
    amount: str = ""
    group_id: int | None = None
    left_out: Collection[int] = ()


def notify_many(messages: list[Message]) -> int:
    """`notify` for many causes at once: the rows of every message in one statement, their
    delivery enqueued after the caller's transaction commits. Same guarantees as `notify`: a
    dedupe key already written is skipped, never written twice. Returns how many rows it
    wrote."""
    return _write(messages, render_at_delivery=False)


def notify_in_app(recipients, *, subject: str, lines: list[str], url: str, dedupe_key: str) -> int:
    """Only the bell's notice for each active recipient, written in the caller's transaction
    with `notify`'s dedupe keys: for a notice whose e-mail goes another way (operations.alerts
    mails the admins straight from beat, so that an alert needs no worker). Nothing to
    deliver, nothing enqueued. Returns how many rows it wrote."""
    message = Message(
        recipients, subject=subject, lines=lines, action="", url=url,
        dedupe_key=dedupe_key, kind=Kind.SERVICE,
    )  # fmt: skip
    rows = _values(message, {}, render_at_delivery=False)
    return _insert_values([row for row in rows if row["channel"] == Channel.IN_APP])[0]


def _templates():
    """The e-mail's text and HTML templates: looked up once per process, except in DEBUG
    (where an edited template must show at once)."""
    return _lookup_templates() if settings.DEBUG else _cached_templates()


def _lookup_templates():
    return (
        get_template("notifications/email/message.txt"),
        get_template("notifications/email/message.html"),
    )


_cached_templates = functools.cache(_lookup_templates)


def render_email(
    subject: str, lines: list[str], action: str, url: str, amount: str = ""
) -> tuple[str, str]:
    """An e-mail's text and HTML bodies: the amount and the link where the reader acts at the
    top, then what happened, then the signature."""
    context = {
        "subject": subject,
        "lines": lines,
        "action": action,
        "url": absolute_url(url),
        "amount": _formatted(amount),
    }
    text, html = _templates()
    return text.render(context), html.render(context)


def money_text(amount, currency: str) -> str:
    """An amount as a notice keeps it ("12500.00 EUR"); formatted only when its e-mail is
    rendered, so that the reminder sweep's transaction formats no money (`notify_batch`)."""
    return "" if amount is None else f"{amount} {currency}"


def _formatted(amount: str) -> str:
    value, _, currency = amount.partition(" ")
    return formats.money(value, currency) if value else ""


def email_bodies(notification: Notification) -> tuple[str, str]:
    """The row's text and HTML bodies: as stored, or, for a row written without them
    (`notify_batch`), rendered now from what it stores: the same e-mail."""
    if notification.body:
        return notification.body, notification.body_html
    lines = notification.summary.split("\n")
    return render_email(
        notification.subject, lines, notification.action, notification.url, notification.amount
    )


# Rows per INSERT statement: SQLite takes at most 32,766 parameters in one.
INSERT_CHUNK = 1000


def notify_batch(messages: list[Message]) -> int:
    """`notify_many` for the reminder sweep's batch, at a fraction of its cost: an e-mail is
    rendered when it is delivered (`email_bodies`) from the subject, lines (the summary),
    action and link its row keeps, so the sweep's transaction does not render thousands of
    e-mails. A message whose lines the summary cannot give back (one holding a line break), or
    whose subject the row would cut, is rendered now, as by `notify`."""
    return _write(messages, render_at_delivery=True)


def deliveries_for(user_ids) -> dict[tuple[int, str], str]:
    """The choices these people made, {(user id, kind): delivery}, in one query: a kind they
    did not choose for is absent (its default applies, `delivery_of`)."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    rows = NotificationPreference.objects.filter(user_id__in=user_ids)
    return {(u, k): d for u, k, d in rows.values_list("user_id", "kind", "delivery")}


def delivery_of(choices: dict, user_id: int, kind: str) -> str:
    """How `user_id` hears of `kind` by e-mail and chat: their choice, else the kind's default;
    at once for a kind nobody chooses for (service messages)."""
    setting = KINDS.get(kind)
    if setting is None:
        return Delivery.AT_ONCE
    return choices.get((user_id, kind), setting.default)


def preferences_of(user) -> dict[str, str]:
    """{kind: delivery} for every kind a person chooses for, their defaults filled in."""
    choices = deliveries_for([user.pk])
    return {kind.value: delivery_of(choices, user.pk, kind) for kind in KINDS}


class PreferenceError(ValueError):
    """A choice that is not one: an unknown kind or way to deliver, named in `errors`."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def set_preferences(user, choices: dict) -> dict[str, str]:
    """Records a person's choices ({kind: delivery}, some or all kinds; the others keep theirs)
    and returns them all. Anything but a known kind and a known delivery is refused, naming it,
    and nothing is changed."""
    kinds = {k.value: k for k in KINDS}
    errors = {}
    for kind, delivery in choices.items():
        if kind not in kinds:
            errors[str(kind)] = f"Unknown kind {str(kind)[:50]!r}: use {', '.join(kinds)}."
        elif delivery not in Delivery.values:
            errors[kind] = (
                f"Unknown choice {str(delivery)[:50]!r} for {kinds[kind].label}: use "
                f"{', '.join(Delivery.values)}."
            )
    if errors:
        raise PreferenceError(errors)
    # One upsert: two saves at once (two tabs, a script) never collide on the unique key.
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user=user, kind=k, delivery=d) for k, d in choices.items()],
        update_conflicts=True,
        unique_fields=["user", "kind"],
        update_fields=["delivery"],
    )
    return preferences_of(user)


def _write(messages: list[Message], *, render_at_delivery: bool) -> int:
    # Everybody's choices for the whole batch in one query, never one per notice.
    choices = deliveries_for(
        {u.pk for m in messages if m.kind in KINDS for u in m.recipients if u.is_active}
    )
    rows = []
    left_out: dict[str, set[int]] = {}
    for message in messages:
        rows.extend(_values(message, choices, render_at_delivery=render_at_delivery))
        if message.group_id and message.left_out:
            key = _key(message.dedupe_key, Channel.IN_APP, group_id=message.group_id)
            left_out.setdefault(key, set()).update(message.left_out)
    written, to_deliver = _insert_values(rows)
    if left_out:
        _hide(left_out)
    if to_deliver:
        transaction.on_commit(lambda: enqueue_delivery(to_deliver))
    return written


def _key(cause: str, channel: str, *, recipient_id=None, group_id=None) -> str:
    """A row's dedupe key: one per cause, channel and person (or group)."""
    who = recipient_id or (f"g{group_id}" if group_id else "-")
    return f"{cause}:{channel}:{who}"[:200]


def _hide(left_out: dict[str, set[int]]) -> None:
    """Hides each group notice (by its key) from the members left out of it: one row per person
    left out, never per member; written again for the same cause, nothing changes."""
    ids = dict(
        Notification.objects.filter(dedupe_key__in=list(left_out)).values_list("dedupe_key", "pk")
    )
    NoticeState.objects.bulk_create(
        [
            NoticeState(notification_id=ids[key], user_id=user_id, hidden=True)
            for key, people in left_out.items()
            if key in ids
            for user_id in sorted(people)
        ],
        ignore_conflicts=True,
    )


def _values(message: Message, choices: dict, *, render_at_delivery: bool) -> list[dict]:
    """The message's rows as {attname: value} dicts with only what differs from the model's
    defaults: an in-app notification per active recipient (for a message to a group, one for
    the whole group instead) and, as each chose for the message's kind (`choices`), at once an
    e-mail and a Slack message when asked for and configured, or their in-app row marked for
    their daily digest (a group's is in its members' digests by when it was written,
    `digests`), or nothing more; one webhook message when configured; one dedupe key per cause,
    channel and person (or group)."""
    # A subject is a header: whatever text it quotes (a title, a name, a comment), one line.
    subject = one_line(message.subject)
    url, lines, action = message.url, message.lines, message.action
    later = render_at_delivery and (
        lines and not any("\n" in line for line in lines) and len(subject) <= 200
        and len(action) <= 200
    )  # fmt: skip
    amount = message.amount[:60]
    body, body_html = ("", "") if later else render_email(subject, lines, action, url, amount)
    common = {
        "subject": subject[:200], "body": body, "url": url, "summary": "\n".join(lines),
        "topic": message.topic[:100], "action": action if later else "", "amount": amount,
        "kind": message.kind,
    }  # fmt: skip
    now = timezone.now()
    slack = message.chat and settings.TANDEM_SLACK_BOT_TOKEN and Channel.SLACK in hooks.senders
    rows = []
    group_id = message.group_id
    for user in {u.pk: u for u in message.recipients if u.is_active}.values():
        delivery = delivery_of(choices, user.pk, message.kind)
        if user.email and delivery == Delivery.AT_ONCE:
            rows.append({"recipient_id": user.pk, "channel": Channel.EMAIL, "body_html": body_html})
            if slack:
                rows.append({"recipient_id": user.pk, "channel": Channel.SLACK})
        if not group_id:
            rows.append(
                {"recipient_id": user.pk, "channel": Channel.IN_APP, "status": Status.SENT,
                 "sent_at": now, "awaits_digest": bool(user.email) and delivery == Delivery.DIGEST}
            )  # fmt: skip
    if group_id:
        rows.append(
            {"recipient_id": None, "group_id": group_id, "channel": Channel.IN_APP,
             "status": Status.SENT, "sent_at": now}
        )  # fmt: skip
    if settings.TANDEM_WEBHOOK_URL:
        rows.append({"recipient_id": None, "channel": Channel.WEBHOOK})
    for row in rows:
        row.update(common)
        row["dedupe_key"] = _key(
            message.dedupe_key, row["channel"], recipient_id=row["recipient_id"],
            group_id=row.get("group_id"),
        )  # fmt: skip
    return rows


@functools.cache
def _defaults() -> dict:
    """Every column but the id, with the model's default: what a row of `notify_batch` does
    not say."""
    return {
        f.attname: f.get_default() for f in Notification._meta.concrete_fields if not f.primary_key
    }


def _insert_values(rows: list[dict]) -> tuple[int, list[int]]:
    """Writes the rows whose dedupe key is new, with INSERT … ON CONFLICT (dedupe_key) DO
    NOTHING RETURNING: a key already there, or written meanwhile by another transaction
    (PostgreSQL waits for it to commit), is skipped: never twice, never lost. Returns how many
    rows it wrote and the ids of those to deliver (not the in-app ones, delivered by being
    written). On PostgreSQL the values go as
    one array per column (`unnest`): a statement of twenty parameters, not twenty per row,
    which PostgreSQL parses and plans in a fraction of the time."""
    if not rows:
        return 0, []
    now = timezone.now()
    if connection.vendor == "sqlite" and connection.Database.sqlite_version_info < (3, 35):
        created = _insert_one_by_one([Notification(**row, created_at=now) for row in rows])
        return len(created), [row.pk for row in created if row.status == Status.PENDING]
    by_key = {}
    for row in rows:
        by_key.setdefault(row["dedupe_key"], row)  # the first of a key repeated in one call
    defaults = {**_defaults(), "created_at": now}
    names = list(defaults)
    fields = {f.attname: f for f in Notification._meta.concrete_fields}
    adapt = connection.ops.adapt_datetimefield_value
    dates = {n for n in names if fields[n].get_internal_type() == "DateTimeField"}
    rows = [
        [adapt(value) if n in dates else value for n, value in {**defaults, **row}.items()]
        for row in by_key.values()
    ]
    columns = ", ".join(connection.ops.quote_name(fields[n].column) for n in names)
    table = connection.ops.quote_name(Notification._meta.db_table)
    returning = "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, status"
    chunks = []
    if connection.vendor == "postgresql":
        # Character columns as text[]: a cast to varchar(n) would cut a value too long, which
        # the insert must refuse instead.
        types = {n: fields[n].cast_db_type(connection) for n in names}
        types = {n: "text" if t.startswith("varchar") else t for n, t in types.items()}
        arrays = ", ".join(f"%s::{types[n]}[]" for n in names)
        sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) {returning}"  # noqa: S608
        chunks.append((sql, [list(column) for column in zip(*rows, strict=True)]))
    else:
        placeholders = "(" + ", ".join(["%s"] * len(names)) + ")"
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            values = ", ".join([placeholders] * len(chunk))
            sql = f"INSERT INTO {table} ({columns}) VALUES {values} {returning}"  # noqa: S608
            chunks.append((sql, [value for row in chunk for value in row]))
    written, to_deliver = 0, []
    for sql, parameters in chunks:
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)
            returned = cursor.fetchall()
        written += len(returned)
        to_deliver += [pk for pk, status in returned if status == Status.PENDING]
    return written, to_deliver


def _insert_one_by_one(rows: list[Notification]) -> list[Notification]:
    """The same, one savepoint per row: for a database without INSERT … RETURNING."""
    created = []
    for row in rows:
        row.pk = None
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            continue  # notified for this cause meanwhile
        created.append(row)
    return created


# One broker message carries up to CHUNK rows to deliver.
CHUNK = 50


def enqueue_delivery(notification_ids) -> None:
    """Hands the rows to Celery, CHUNK per message (`deliver_many` sends a chunk over one
    connection to the mail server); with the broker down the periodic `deliver_pending` sends
    them later."""
    enqueue_chunks(
        "notifications.tasks.deliver_chunk", notification_ids, size=CHUNK, what="notification"
    )


def _claimable(now) -> Q:
    return (
        Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__isnull=True)
        | Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    )


def deliver(notification_id: int) -> bool:
    """Sends one notification if it is still to be sent; True when it was sent now."""
    return deliver_many([notification_id]) == 1


def deliver_many(notification_ids) -> int:
    """Sends those of the rows still to be sent; returns how many were sent now. The rows are
    claimed first, all in one statement (rows another worker is claiming are skipped), so two
    workers never both send one; the e-mails share one connection to the mail server; each
    row's failure is recorded on its own and retried with backoff."""
    now = timezone.now()
    with transaction.atomic():
        claimed = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(_claimable(now), pk__in=list(notification_ids))
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=claimed).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    if not claimed:
        return 0
    rows = list(Notification.objects.select_related("recipient").filter(pk__in=claimed))
    mail = get_connection()
    try:
        mail.open()  # once for the chunk: the backend would otherwise connect per e-mail
    except Exception as error:  # noqa: BLE001 - the mail server is down: every row retries
        for notification in rows:
            _failed(notification, error, now)
        return 0
    sent = []
    try:
        for notification in rows:
            try:
                _send(notification, mail=mail)
            except Exception as error:  # noqa: BLE001 - every failure is recorded and retried
                _failed(notification, error, now)
            else:
                sent.append(notification)
    finally:
        mail.close()
    Notification.objects.filter(pk__in=[n.pk for n in sent]).update(
        status=Status.SENT, sent_at=timezone.now(), last_error=""
    )
    for notification in sent:
        logger.info(
            "notification %s sent (%s, attempt %s)",
            notification.pk,
            notification.channel,
            notification.attempts,
            extra={"notification_id": notification.pk, "user_id": notification.recipient_id},
        )
    return len(sent)


def _failed(notification: Notification, error: Exception, now) -> None:
    give_up = notification.attempts >= MAX_ATTEMPTS
    delay = timedelta(minutes=min(2 ** (notification.attempts - 1), 60))
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.GAVE_UP if give_up else Status.FAILED,
        last_error=f"{type(error).__name__}: {error}"[:2000],
        next_attempt_at=None if give_up else now + delay,
    )
    logger.warning(
        "notification %s failed (attempt %s): %s", notification.pk, notification.attempts, error
    )


def _send(notification: Notification, *, mail=None) -> None:
    """Sends one row; e-mails over `mail`, an open connection to the mail server, if given."""
    if notification.channel == Channel.EMAIL:
        body, body_html = email_bodies(notification)
        message = EmailMultiAlternatives(
            # Rows written before subjects were made one line are delivered too.
            subject=one_line(notification.subject),
            body=body,
            to=[notification.recipient.email],
            connection=mail,
        )
        if body_html:
            message.attach_alternative(body_html, "text/html")
        for hook in hooks.email_hooks:
            hook(notification, message)
        message.send()
    elif notification.channel == Channel.WEBHOOK:
        payload = json.dumps({"text": f"{notification.subject}\n{absolute_url(notification.url)}"})
        request = urllib.request.Request(  # noqa: S310 - the admin-configured webhook URL
            settings.TANDEM_WEBHOOK_URL,
            data=payload.encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            if response.status >= 300:
                raise RuntimeError(f"webhook answered {response.status}")
    elif notification.channel in hooks.senders:
        hooks.senders[notification.channel](notification)
    else:
        raise RuntimeError(f"no sender for the {notification.channel} channel")


def undelivered_ids(now=None, limit: int = 500) -> list[int]:
    """Notifications due for a (re)try, for the periodic delivery sweep."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            Q(status=Status.PENDING)
            | Q(status=Status.FAILED, next_attempt_at__lte=now)
            | Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
        )
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )


# Reading in-app notices: a person's own rows and their groups' notices, one rule for both.


def _group_notices(user, group_ids, *, unread: bool = False) -> Q:
    """Which group notices `user` sees (of `group_ids`, among their groups): those written
    since they joined the site, unless they were left out of one. `unread`: only those they
    have not read, and nobody has settled."""
    gone = (Q(hidden=True) | Q(read_at__isnull=False)) if unread else Q(hidden=True)
    states = NoticeState.objects.filter(gone, notification=OuterRef("pk"), user=user)
    visible = Q(recipient__isnull=True, group_id__in=group_ids, created_at__gte=user.date_joined)
    visible &= ~Q(Exists(states))
    return visible & Q(done_at__isnull=True) if unread else visible


def _own(user) -> Q:
    return Q(recipient=user, channel=Channel.IN_APP)


def _read_by(user) -> Exists:
    return Exists(
        NoticeState.objects.filter(notification=OuterRef("pk"), user=user, read_at__isnull=False)
    )


def _is_read_own():
    return ExpressionWrapper(Q(read_at__isnull=False), output_field=BooleanField())


def notices_of(user):
    """Every in-app notice `user` sees, their own and their groups', each with `is_read` (by
    them): to look one up or narrow them down. `inbox_of` pages them, newest first."""
    groups = sorted(groups_of(user))
    visible = _own(user) | _group_notices(user, groups) if groups else _own(user)
    is_read = Case(
        When(recipient__isnull=False, then=_is_read_own()),
        default=_read_by(user),
        output_field=BooleanField(),
    )
    return Notification.objects.filter(visible).annotate(is_read=is_read)


NEWEST = ("-created_at", "-id")


class Inbox:
    """`notices_of(user)` newest first, as the inbox pages them (a sequence for `Paginator`):
    their own and each of their groups' read apart, each newest first from its index and only
    as far as the page asked for reaches, then merged (UNION ALL), so that a page costs the same
    however long the history. (SQLite takes no LIMIT inside a UNION: there the parts are read
    whole, then sorted.)"""

    ordered = True

    def __init__(self, user):
        own = Notification.objects.filter(_own(user)).annotate(is_read=_is_read_own())
        groups = [
            Notification.objects.filter(_group_notices(user, [group_id])).annotate(
                is_read=_read_by(user)
            )
            for group_id in sorted(groups_of(user))
        ]
        self.parts = [own, *groups]

    def _merged(self, reach: int | None = None):
        """The notices, newest first; `reach`: how many of the newest are wanted at most."""
        if len(self.parts) == 1:
            return self.parts[0].order_by(*NEWEST)
        if reach is not None and connection.features.supports_slicing_ordering_in_compound:
            parts = [part.order_by(*NEWEST)[:reach] for part in self.parts]
        else:
            parts = [part.order_by() for part in self.parts]
        return parts[0].union(*parts[1:], all=True).order_by(*NEWEST)

    def count(self) -> int:
        return self._merged().count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        reach = index.stop if isinstance(index, slice) else index + 1
        if reach == 0:
            return Notification.objects.none()  # an empty inbox's page: a LIMIT 0 is no part
        return self._merged(reach)[index]

    def __iter__(self):
        return iter(self._merged())


def inbox_of(user) -> Inbox:
    """`notices_of(user)` newest first, each with `is_read` (by them): the inbox's pages."""
    return Inbox(user)


def unread_for(user):
    """The user's in-app notifications still to look at: not read by them, and not settled by
    anyone; their own and their groups'."""
    groups = sorted(groups_of(user))
    unread = _own(user) & Q(read_at__isnull=True, done_at__isnull=True)
    if groups:
        unread |= _group_notices(user, groups, unread=True)
    return Notification.objects.filter(unread)


def notice_of(user, notification_id: int) -> Notification | None:
    """The notice `notification_id` if `user` sees it, else None."""
    return notices_of(user).filter(pk=notification_id).first()


def group_notices_written(user, *, since, until):
    """The group notices `user` sees that were written in (`since`, `until`], oldest first:
    for their daily digest."""
    groups = sorted(groups_of(user))
    if not groups:
        return Notification.objects.none()
    return Notification.objects.filter(
        _group_notices(user, groups), created_at__gt=since, created_at__lte=until
    ).order_by("created_at", "id")


def mark_read_for_page(user, path: str) -> int:
    """Opening a page reads the user's notifications that point to it (`path`, or an anchor or
    query of it), whether the reader came from the bell, an e-mail or anywhere else."""
    if not (user and user.is_authenticated):
        return 0
    page = Q(url=path) | Q(url__startswith=f"{path}#") | Q(url__startswith=f"{path}?")
    # Looked for first: a page view with nothing to mark writes nothing (an UPDATE of no rows
    # would still move the data versions on, and with them the queue kept for its reader).
    found = list(unread_for(user).filter(page).values_list("pk", "recipient_id"))
    if not found:
        return 0
    now = timezone.now()
    own = [pk for pk, recipient in found if recipient is not None]
    if own:
        Notification.objects.filter(pk__in=own).update(read_at=now)
    _read(user, [pk for pk, recipient in found if recipient is None], now)
    return len(found)


def _read(user, group_notice_ids, now) -> None:
    """Records that `user` read these group notices: a row of theirs, not the group's."""
    NoticeState.objects.bulk_create(
        [NoticeState(notification_id=pk, user=user, read_at=now) for pk in group_notice_ids],
        update_conflicts=True,
        unique_fields=["notification", "user"],
        update_fields=["read_at"],
    )


def mark_done(topics, *, note: str = "") -> int:
    """Settles the notifications of these topics for every recipient, on every channel:
    somebody acted on what they asked for (e.g. a colleague decided the step, the requester
    withdrew the request), so they no longer wait on anyone. In-app notices are marked done
    here; the `settled` hooks update the messages an upper layer posted (Slack), after the
    caller's transaction commits. Returns how many in-app notices it settled."""
    topics = [t for t in topics if t]
    if not topics:
        return 0
    settled = Notification.objects.filter(
        topic__in=topics, channel=Channel.IN_APP, done_at__isnull=True
    ).update(done_at=timezone.now(), done_note=note[:200])
    for hook in hooks.settled_hooks:
        hook(topics, note)
    return settled


def mark_read(user, notification_ids=None) -> int:
    """Marks these notifications (ids) or all the user's as read, for them: their own rows in
    place, their groups' still open by a row of their own each."""
    now = timezone.now()
    chosen = Q() if notification_ids is None else Q(pk__in=list(notification_ids))
    marked = Notification.objects.filter(
        chosen, recipient=user, channel=Channel.IN_APP, read_at__isnull=True
    ).update(read_at=now)
    groups = sorted(groups_of(user))
    if groups:
        theirs = Notification.objects.filter(chosen, _group_notices(user, groups, unread=True))
        theirs = list(theirs.values_list("pk", flat=True))
        _read(user, theirs, now)
        marked += len(theirs)
    return marked
