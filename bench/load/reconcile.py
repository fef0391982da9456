"""The load test's reconciliation: after the run, proves from the database (and the e-mail
count in Redis) that nothing was lost or doubled. Each check prints OK or FAIL with the rows
that break it; the exit status is 1 when any fails.

- every submitted request has its steps: one routing and one round of steps per submit and
  resubmit, and no request in review without an open or waiting step;
- every decision has exactly one event, and every decision event exactly one decided step;
- every opened step notified each of its reviewers exactly once in the app, by e-mail those who
  chose "at once" for it, and for the daily digest those who chose the digest;
- each daily digest (one per person and day) has its one e-mail;
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
from notifications.models import Channel, Delivery, Digest, Kind, Notification, Status  # noqa: E402
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


def one_notification_per_reviewer(figures: dict) -> bool:
    """Each opened review step told each of its reviewers once in the app (the person it was
    assigned to as it opened: by the assignment's notice instead); by e-mail exactly those who
    chose to hear of it at once; and, for those who chose the daily digest, the notice waits for
    their digest or is covered by one: nothing lost, no e-mail they did not want."""
    User = get_user_model()
    members: dict[int, set[int]] = {}
    emails: set[int] = set()
    for user_id, group_id, email in User.objects.filter(is_active=True).values_list(
        "pk", "groups", "email"
    ):
        if email:
            emails.add(user_id)
        if group_id is not None:
            members.setdefault(group_id, set()).add(user_id)
    sent = Counter()
    in_digest = set()
    for key, channel, recipient, awaits, digest in Notification.objects.filter(
        dedupe_key__startswith="opened:"
    ).values_list("dedupe_key", "channel", "recipient_id", "awaits_digest", "digest_id"):
        step = int(key.split(":")[1])
        sent[step, channel, recipient] += 1
        if channel == Channel.IN_APP and (awaits or digest):
            in_digest.add((step, recipient))
    assigned = {
        (int(key.split(":")[1]), recipient)
        for key, recipient in Notification.objects.filter(
            dedupe_key__startswith="assigned:", channel=Channel.IN_APP
        ).values_list("dedupe_key", "recipient_id")
    }
    choices = deliveries_for(emails)
    problems = [
        f"step {step}: {count} {channel} to user {user}"
        for (step, channel, user), count in sent.items()
        if count != 1
    ]
    opened = ApprovalStep.objects.filter(opened_at__isnull=False, kind=StepKind.REVIEW).values_list(
        "pk", "group_id", "user_id"
    )
    for pk, group_id, user_id in opened:
        kind = Kind.ASSIGNED if user_id else Kind.GROUP
        for user in {user_id} if user_id else members.get(group_id, set()):
            if (pk, Channel.IN_APP, user) not in sent:
                if (pk, user) not in assigned:
                    problems.append(f"step {pk}: user {user} was not told in the app")
                continue
            delivery = delivery_of(choices, user, kind) if user in emails else Delivery.OFF
            emailed = (pk, Channel.EMAIL, user) in sent
            if emailed != (delivery == Delivery.AT_ONCE):
                problems.append(f"step {pk}: user {user} chose {delivery}, e-mailed: {emailed}")
            if (delivery == Delivery.DIGEST) != ((pk, user) in in_digest):
                problems.append(f"step {pk}: user {user} chose {delivery}, not so for the digest")
    figures["opened steps"] = len(opened)
    figures["step-opened notifications"] = sum(sent.values())
    figures["step-opened e-mails"] = sum(n for (_, c, _), n in sent.items() if c == Channel.EMAIL)
    return _report("every opened step told each reviewer once, as they chose", problems)


def each_digest_sent_once(figures: dict) -> bool:
    """One digest per person and day (the database's unique key), each with exactly its one
    e-mail when it listed anything, and no digest e-mail without its digest."""
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
    figures["digests"] = len(digests)
    figures["notices awaiting a digest"] = Notification.objects.filter(awaits_digest=True).count()
    return _report("each digest sent once", problems)


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
