"""The load test's reconciliation: after the run, proves from the database (and the e-mail
count in Redis) that nothing was lost or doubled. Each check prints OK or FAIL with the rows
that break it; the exit status is 1 when any fails.

- every submitted request has its steps: one routing and one round of steps per submit and
  resubmit, and no request in review without an open or waiting step;
- every decision has exactly one event, and every decision event exactly one decided step;
- every opened step told its reviewers once: a step for a group ONE notice for the group (what
  is written does not grow with the group), by e-mail each member who chose "at once" and
  nobody left out of it; each holder of a step told once in the app, by e-mail as they chose;
- each daily digest (one per person and day) has its one e-mail, each person's digests follow
  one another without a gap or an overlap, and each group notice is in exactly one digest of
  each member who chose the digest (or awaits their next);
- every outbox row was delivered once: no e-mail left pending, failed or retried, and the
  e-mails the backend received are exactly the outbox's, each once;
- the audit trail's hash chain is intact and every event is sealed (with the write-to-seal p95).

`python -m bench.load.reconcile` with the load test's settings and environment."""

import sys
from collections import Counter

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db.models import Count, Q  # noqa: E402

from approvals.models import ApprovalStep, StepKind, StepState  # noqa: E402
from audit.chain import verify_chain  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from audit.sealer import seal_delays  # noqa: E402
from bench.load import mail  # noqa: E402
from core.validation import one_line  # noqa: E402
from intake.models import PurchaseRequest, State  # noqa: E402
from notifications.models import (  # noqa: E402
    Channel,
    Delivery,
    Digest,
    Kind,
    NoticeState,
    Notification,
    Status,
)
from notifications.services import deliveries_for, delivery_of  # noqa: E402

DECISION_KINDS = ("step_approve", "step_reject", "step_request_changes")
DECIDED = (StepState.APPROVED, StepState.REJECTED, StepState.CHANGES_REQUESTED)
SHOWN = 5


def _report(name: str, problems: list) -> bool:
    verdict = "FAIL" if problems else "OK  "
    print(f"{verdict} {name}" + (f": {len(problems)}" if problems else ""))
    for problem in problems[:SHOWN]:
        print(f"       {problem}")
    return not problems


def submitted_requests_have_steps(figures: dict) -> bool:
    request_type = ContentType.objects.get_for_model(PurchaseRequest)
    events = Counter()
    for object_id, kind in AuditEvent.objects.filter(
        content_type=request_type, kind__in=("submit", "resubmit", "routed")
    ).values_list("object_id", "kind"):
        events[object_id, "entered" if kind != "routed" else "routed"] += 1
    rounds = dict(
        ApprovalStep.objects.filter(request__isnull=False, kind=StepKind.REVIEW)
        .values("request")
        .annotate(rounds=Count("round", distinct=True))
        .values_list("request", "rounds")
    )
    submitted = {object_id for object_id, _ in events}
    problems = []
    for pk in sorted(submitted):
        entered, routed = events[pk, "entered"], events[pk, "routed"]
        if not (entered == routed == rounds.get(pk, 0)):
            problems.append(
                f"request {pk}: {entered} submits, {routed} routings, {rounds.get(pk, 0)} rounds"
            )
    stuck = PurchaseRequest.objects.filter(state=State.IN_REVIEW).exclude(
        steps__state__in=(StepState.OPEN, StepState.WAITING)
    )
    problems += [f"request {pk} in review with no live step" for pk in stuck.values_list("pk")]
    figures["submitted requests"] = len(submitted)
    figures["submits and resubmits"] = sum(v for (_, k), v in events.items() if k == "entered")
    figures["steps"] = ApprovalStep.objects.count()
    return _report("every submitted request has its steps", problems)


def one_event_per_decision(figures: dict) -> bool:
    """A decided review step has one decision event; an approval carried over from an earlier
    round has one `approval_carried_over` event instead."""
    events = Counter(
        AuditEvent.objects.filter(kind__in=DECISION_KINDS).values_list("payload__step", flat=True)
    )
    carried_events = Counter(
        AuditEvent.objects.filter(kind="approval_carried_over").values_list(
            "payload__step", flat=True
        )
    )
    review = ApprovalStep.objects.filter(
        kind=StepKind.REVIEW, state__in=DECIDED, decided_by__isnull=False
    )
    decided = dict(review.filter(carried_from__isnull=True).values_list("pk", "state"))
    carried = set(review.filter(carried_from__isnull=False).values_list("pk", flat=True))
    problems = [
        f"step {pk}: {events.get(pk, 0)} decision events"
        for pk in decided
        if events.get(pk, 0) != 1
    ]
    problems += [f"event for step {pk}, which is not decided" for pk in events if pk not in decided]
    problems += [
        f"step {pk}: {carried_events.get(pk, 0)} carry-over events"
        for pk in carried
        if carried_events.get(pk, 0) != 1
    ]
    problems += [
        f"carry-over event for step {pk}, not carried" for pk in carried_events if pk not in carried
    ]
    figures["decisions"] = len(decided)
    figures["approvals carried over"] = len(carried)
    return _report("every decision has exactly one event", problems)


def _cause(key: str) -> str:
    """A row's cause, from its dedupe key `<cause>:<channel>:<recipient or g<group>>`."""
    return key.rsplit(":", 2)[0]


class Told:
    """What the step openings wrote: rows per (step, channel, person or group), the group
    notices of each (step, group), the steps' notices marked for a digest, the members left
    out of a group notice, each step's holders told as such, and each person's choices."""

    def __init__(self):
        User = get_user_model()
        self.members: dict[int, set[int]] = {}
        self.emails: set[int] = set()
        for user_id, group_id, email in User.objects.filter(is_active=True).values_list(
            "pk", "groups", "email"
        ):
            if email:
                self.emails.add(user_id)
            if group_id is not None:
                self.members.setdefault(group_id, set()).add(user_id)
        self.choices = deliveries_for(self.emails)
        self.sent, self.group_notices, self.in_digest = Counter(), {}, set()
        for key, channel, recipient, group, awaits, digest, pk in Notification.objects.filter(
            dedupe_key__startswith="opened:"
        ).values_list(
            "dedupe_key", "channel", "recipient_id", "group_id", "awaits_digest", "digest_id", "pk"
        ):
            step = int(key.split(":")[1])
            self.sent[step, channel, recipient or f"g{group}"] += 1
            if group is not None:
                self.group_notices.setdefault((step, group), []).append(pk)
            if channel == Channel.IN_APP and (awaits or digest):
                self.in_digest.add((step, recipient))
        self.left_out = set(
            NoticeState.objects.filter(hidden=True).values_list("notification_id", "user_id")
        )
        self.holders = {
            (int(key.split(":")[1]), recipient)
            for key, recipient in Notification.objects.filter(
                dedupe_key__startswith="assigned:", channel=Channel.IN_APP
            ).values_list("dedupe_key", "recipient_id")
        }

    def chose(self, user: int, kind: str) -> str:
        return delivery_of(self.choices, user, kind) if user in self.emails else Delivery.OFF

    def emailed(self, step: int, user: int) -> bool:
        return (step, Channel.EMAIL, user) in self.sent


def one_notification_per_reviewer(figures: dict) -> bool:
    """What each opened review step told whom (SPEC §4: what is written does not grow with the
    group): a step for one named person told them once in the app, by e-mail as they chose; a
    step for a group ONE notice for its group, each member e-mailed exactly when they chose "at
    once" and never when left out of it (their own request) or holding it (told as its
    holder, once, as they chose); nothing lost, no e-mail they did not want."""
    told = Told()
    problems = [
        f"step {step}: {count} {channel} to {who}"
        for (step, channel, who), count in told.sent.items()
        if count != 1
    ]
    problems += _holders_told_once(told.chose)
    opened = ApprovalStep.objects.filter(opened_at__isnull=False, kind=StepKind.REVIEW).values_list(
        "pk", "group_id", "user_id"
    )
    for pk, group_id, user_id in opened:
        if user_id:
            problems += _named_person_told(told, pk, user_id)
        else:
            problems += _group_told(told, pk, group_id)
    figures["opened steps"] = len(opened)
    figures["step-opened notifications"] = sum(told.sent.values())
    figures["group notices"] = sum(len(n) for n in told.group_notices.values())
    figures["step-opened e-mails"] = sum(
        n for (_, c, _), n in told.sent.items() if c == Channel.EMAIL
    )
    return _report("every opened step told each reviewer once, as they chose", problems)


def _named_person_told(told: Told, step: int, user: int) -> list[str]:
    if (step, Channel.IN_APP, user) not in told.sent and (step, user) not in told.holders:
        return [f"step {step}: user {user} was not told in the app"]
    delivery = told.chose(user, Kind.ASSIGNED)
    problems = []
    emailed = told.emailed(step, user)
    if emailed != (delivery == Delivery.AT_ONCE):
        problems.append(f"step {step}: user {user} chose {delivery}, e-mailed: {emailed}")
    if (delivery == Delivery.DIGEST) != ((step, user) in told.in_digest):
        problems.append(f"step {step}: user {user} chose {delivery}, not so for the digest")
    return problems


def _group_told(told: Told, step: int, group: int) -> list[str]:
    notices = told.group_notices.get((step, group), [])
    if len(notices) != 1:
        return [f"step {step}: {len(notices)} notices for its group {group}"]
    problems = []
    for user in told.members.get(group, set()):
        emailed = told.emailed(step, user)
        if (notices[0], user) in told.left_out or (step, user) in told.holders:
            if emailed:
                problems.append(f"step {step}: user {user} was left out, but e-mailed")
        elif emailed != (told.chose(user, Kind.GROUP) == Delivery.AT_ONCE):
            delivery = told.chose(user, Kind.GROUP)
            problems.append(f"step {step}: user {user} chose {delivery}, e-mailed: {emailed}")
    return problems


def _holders_told_once(chose) -> list[str]:
    """Each step handed to somebody (by a colleague or the group's automatic assignment) told
    its holder once in the app, and by e-mail as they chose for what is assigned to them."""
    told = Counter()
    for key, channel, recipient in Notification.objects.filter(
        dedupe_key__startswith="assigned:"
    ).values_list("dedupe_key", "channel", "recipient_id"):
        told[_cause(key), recipient, channel] += 1
    problems = []
    for cause, recipient in {(cause, recipient) for cause, recipient, _ in told}:
        in_app, emailed = told[cause, recipient, Channel.IN_APP], told[cause, recipient, "email"]
        wanted = 1 if chose(recipient, Kind.ASSIGNED) == Delivery.AT_ONCE else 0
        if (in_app, emailed) != (1, wanted):
            problems.append(f"{cause}: {in_app} in the app and {emailed} e-mails to its holder")
    return problems


def each_digest_sent_once(figures: dict) -> bool:
    """One digest per person and day (the database's unique key), each with exactly its one
    e-mail when it listed anything, and no digest e-mail without its digest; each person's
    digests cover their groups' notices without a gap or an overlap (each starts where the one
    before ended), and every group notice a member who chose the digest sees, written before
    their last digest ended, lies in exactly one of their digests."""
    digests = {
        f"digest:{user}:{day.isoformat()}": items
        for user, day, items in Digest.objects.values_list("user_id", "day", "items")
    }
    written = Counter(
        Notification.objects.filter(channel=Channel.EMAIL, kind=Kind.DIGEST).values_list(
            "dedupe_key", flat=True
        )
    )
    problems = [
        f"{key}: {written[key]} e-mails for {items} items"
        for key, items in digests.items()
        if written[key] != (1 if items else 0)
    ]
    problems += [f"{key}: an e-mail without its digest" for key in written if key not in digests]
    windows: dict[int, list] = {}
    for user, since, until in Digest.objects.order_by("until").values_list(
        "user_id", "since", "until"
    ):
        if windows.get(user) and windows[user][-1][1] != since:
            problems.append(f"user {user}: a digest from {since}, the one before ended earlier")
        windows.setdefault(user, []).append((since, until))
    problems_of_groups, awaiting = _group_notices_in_digests(windows)
    figures["digests"] = len(digests)
    figures["notices awaiting a digest"] = (
        Notification.objects.filter(awaits_digest=True).count() + awaiting
    )
    return _report("each digest sent once", problems + problems_of_groups)


def _group_notices_in_digests(windows: dict) -> tuple[list[str], int]:
    """Each group notice, for each member who sees it and chose the digest for it: in exactly
    one of their digests, or written after their last one (awaiting; counted)."""
    User = get_user_model()
    people = {
        pk: joined
        for pk, joined in User.objects.filter(is_active=True)
        .exclude(email="")
        .values_list("pk", "date_joined")
    }
    choices = deliveries_for(people)
    members: dict[int, set[int]] = {}
    for user, group in User.groups.through.objects.filter(user__in=people).values_list(
        "user_id", "group_id"
    ):
        if delivery_of(choices, user, Kind.GROUP) == Delivery.DIGEST:
            members.setdefault(group, set()).add(user)
    hidden = set(NoticeState.objects.filter(hidden=True).values_list("notification_id", "user_id"))
    problems, awaiting = [], 0
    for pk, group, created in Notification.objects.filter(
        recipient__isnull=True, group__isnull=False
    ).values_list("pk", "group_id", "created_at"):
        for user in members.get(group, set()):
            if (pk, user) in hidden or created < people[user]:
                continue
            covering = [w for w in windows.get(user, []) if w[0] < created <= w[1]]
            if not windows.get(user) or created > windows[user][-1][1]:
                awaiting += 1
            elif len(covering) != 1:
                problems.append(f"group notice {pk}: in {len(covering)} digests of user {user}")
    return problems, awaiting


def outbox_delivered_once(figures: dict) -> bool:
    email = Notification.objects.filter(channel=Channel.EMAIL)
    not_once = email.filter(~Q(status=Status.SENT) | ~Q(attempts=1))
    problems = [
        f"e-mail {pk} is {status} after {attempts} attempts"
        for pk, status, attempts in not_once.values_list("pk", "status", "attempts")
    ]
    outbox = Counter(
        mail.field(address, one_line(subject))
        for address, subject in email.filter(status=Status.SENT).values_list(
            "recipient__email", "subject"
        )
    )
    received = Counter(
        {key.decode(): int(count) for key, count in mail.client().hgetall(mail.KEY).items()}
    )
    for key in outbox | received:
        if outbox[key] != received[key]:
            address, subject = key.split("\n", 1)
            problems.append(
                f"{address} “{subject}”: {outbox[key]} in the outbox, {received[key]} received"
            )
    figures["outbox e-mails"] = email.count()
    figures["e-mails received"] = sum(received.values())
    return _report("every outbox row delivered once", problems)


def audit_chain_intact(figures: dict) -> bool:
    """Every event sealed by the end of the drain, the chain intact, and how long the sealer
    took from each write to its seal (issue 28: p95 under 2 s)."""
    report = verify_chain()
    figures["audit events"] = report.checked
    problems = [str(report.broken)] if report.broken else []
    unsealed = AuditEvent.objects.filter(sequence__isnull=True).count()
    if unsealed:
        problems.append(f"{unsealed} event(s) never sealed")
    delays = seal_delays()
    if delays:
        p95 = delays[max(int(len(delays) * 0.95) - 1, 0)]
        figures["write to seal p95 s"] = round(p95, 2)
        figures["write to seal max s"] = round(delays[-1], 2)
    return _report("the audit trail's hash chain is intact, every event sealed", problems)


def main() -> int:
    figures: dict = {}
    checks = [
        submitted_requests_have_steps,
        one_event_per_decision,
        one_notification_per_reviewer,
        each_digest_sent_once,
        outbox_delivered_once,
        audit_chain_intact,
    ]
    results = [check(figures) for check in checks]
    print("   " + ", ".join(f"{name}: {value}" for name, value in figures.items()))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
