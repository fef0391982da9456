"""Reads shared by pages and API, with the joins they need so lists stay O(1) in queries."""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.reviewers import reviewer_identity
from accounts.roles import label_of, sees_everything
from audit.models import AuditEvent
from vendors.selectors import active_contracts

from .models import Category, Comment, ExchangeRate, PurchaseRequest, State


def visibility(user) -> Q:
    """Which requests a user may see (SPEC §9): requesters their own, and those with a step named
    for them (a budget owner's); members of the reviewer groups, finance and whoever holds one of
    their delegations every submitted request (drafts stay private to their requester); CIO, CPO
    and admins all. The one definition pages, API
    and policies share."""
    if sees_everything(user):
        return Q()
    identity = reviewer_identity(user)
    if identity.all_group_ids:
        return Q(requester=user) | ~Q(state=State.DRAFT)
    # A step named for a person (the budget owner's) shows them its request, and whoever holds
    # their delegation: they are asked to decide it.
    named = PurchaseRequest.objects.filter(steps__user_id__in=identity.user_ids).values("pk")
    return Q(requester=user) | Q(pk__in=named)


def categories_to_request_in() -> QuerySet[Category]:
    """The categories a request may name: the active ones (an admin retires the others)."""
    return Category.objects.filter(active=True)


def why_a_request_cannot_use(category: Category | None) -> str | None:
    """Why a request may not name `category`, in the words every path shows (None: it may).
    The rule of `categories_to_request_in`, asked by the request form, the API and submit."""
    if category is None or category.active:
        return None
    return f"“{category.name}” is no longer a purchase category: choose another."


def usual_currencies() -> list[str]:
    """The company's usual currencies, which the request form lists first: the base currency,
    then those an admin gave an exchange rate, by code. One query."""
    base = settings.TANDEM_BASE_CURRENCY
    rated = ExchangeRate.objects.exclude(currency=base).order_by("currency")
    return [base, *rated.values_list("currency", flat=True)]


def requests_with_details() -> QuerySet[PurchaseRequest]:
    """Requests with what lists show: people, category, vendor (approvals' `with_waiting_on`
    adds the open steps)."""
    return PurchaseRequest.objects.select_related("requester", "category", "vendor", "department")


def requests_visible_to(user) -> QuerySet[PurchaseRequest]:
    return requests_with_details().filter(visibility(user))


def requests_a_contract_may_name(user, vendor) -> QuerySet[PurchaseRequest]:
    """The requests a contract with `vendor` may say it came from: that vendor's requests the
    user may see. The choices of the contract form and of the API alike."""
    return requests_visible_to(user).filter(vendor=vendor).order_by("-created_at")


def requests_of(user) -> QuerySet[PurchaseRequest]:
    """The user's own requests (always visible to them: no need to work out the rest)."""
    return requests_with_details().filter(requester=user)


def request_for_page(user, pk, *, requests=None) -> PurchaseRequest:
    """One request with everything its page shows; DoesNotExist when the user may not see it.
    `requests` is the caller's base queryset with what it adds (e.g. the open steps)."""
    requests = requests if requests is not None else requests_with_details()
    return (
        requests.filter(visibility(user))
        .prefetch_related(
            "line_items",
            "attachments",
            Prefetch("comments", queryset=Comment.objects.select_related("author")),
        )
        .get(pk=pk)
    )


def timeline(purchase_request: PurchaseRequest) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.for_object(purchase_request)


@dataclass(frozen=True)
class ChangeRequest:
    """Why a request came back to its requester: who asked (and for whom), as which reviewer,
    when, and their words."""

    by: object
    on_behalf_of: object
    reviewer: str
    comment: str
    at: object


def change_request(purchase_request: PurchaseRequest) -> ChangeRequest | None:
    """The reviewer's request for changes that the requester now has to answer, read from the
    audit trail (the request's `request_changes` event and the step decision beside it); None
    unless the request is waiting for changes."""
    if purchase_request.state != State.CHANGES_REQUESTED:
        return None
    events = list(
        AuditEvent.objects.for_object(purchase_request)
        .filter(kind__in=["request_changes", "step_request_changes"])
        .order_by("-occurred_at", "-id")[:2]
    )
    sent_back = next((e for e in events if e.kind == "request_changes"), None)
    if sent_back is None:
        return None
    step_event = next((e for e in events if e.kind == "step_request_changes"), None)
    reviewer = ""
    if step_event is not None and step_event.payload.get("step") == sent_back.payload.get("step"):
        reviewer = label_of(step_event.payload.get("reviewer", ""))
    return ChangeRequest(
        by=sent_back.actor,
        on_behalf_of=sent_back.on_behalf_of,
        reviewer=reviewer,
        comment=sent_back.payload.get("comment", ""),
        at=sent_back.occurred_at,
    )


@dataclass(frozen=True)
class Closing:
    """Who closed a request (and for whom) and when: the end of its story."""

    by: object
    on_behalf_of: object
    at: object


def closing(purchase_request: PurchaseRequest) -> Closing | None:
    """How a closed request was closed, read from its `close` audit event; None unless closed."""
    if purchase_request.state != State.CLOSED:
        return None
    event = (
        AuditEvent.objects.for_object(purchase_request)
        .filter(kind="close")
        .order_by("-occurred_at", "-id")
        .first()
    )
    if event is None:
        return None
    return Closing(by=event.actor, on_behalf_of=event.on_behalf_of, at=event.occurred_at)


RECENT_DAYS = 365
SIMILAR_TITLE_THRESHOLD = 0.3
OPEN_STATES = (State.IN_REVIEW, State.CHANGES_REQUESTED, State.APPROVED, State.ORDERED)
# A request's own page warns of duplicates while it can still be stopped before money is spent;
# once ordered, closed, rejected or withdrawn the warning would only be noise.
DUPLICATE_WARNING_STATES = (
    State.DRAFT,
    State.IN_REVIEW,
    State.CHANGES_REQUESTED,
    State.APPROVED,
)


def similar_title(title: str) -> Q:
    """Requests whose title resembles `title`: PostgreSQL trigram similarity, or on other
    databases a shared word of four letters or more."""
    if connection.vendor == "postgresql":
        return Q(title_similarity__gt=SIMILAR_TITLE_THRESHOLD)
    words = {w.lower() for w in re.findall(r"\w{4,}", title)}
    match = Q(pk__in=[])
    for word in words:
        match |= Q(title__icontains=word)
    return match


def duplicates_for(user, *, title: str, vendor_id=None, exclude_pk=None) -> dict:
    """`possible_duplicates` plus which of them the user may open (the others show only their
    number, title and state)."""
    found = possible_duplicates(title=title, vendor_id=vendor_id, exclude_pk=exclude_pk)
    ids = [r.pk for r in found["requests"]]
    found["visible_ids"] = (
        set(requests_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
        if ids
        else set()
    )
    return found


def duplicates_of_request(user, purchase_request: PurchaseRequest) -> dict | None:
    """The duplicate warning of a request's page (`duplicates_for`), or None once the request
    is past the point where a duplicate could still save money (`DUPLICATE_WARNING_STATES`)."""
    if purchase_request.state not in DUPLICATE_WARNING_STATES:
        return None
    return duplicates_for(
        user,
        title=purchase_request.title,
        vendor_id=purchase_request.vendor_id,
        exclude_pk=purchase_request.pk,
    )


def possible_duplicates(*, title: str, vendor_id=None, exclude_pk=None, limit: int = 10):
    """Active contracts with the vendor and open or recent requests with the same vendor or a
    similar title (SPEC §2), so existing licences are found before money is spent twice."""
    title = (title or "").strip()[:200]
    recent = timezone.now() - timedelta(days=RECENT_DAYS)
    requests = PurchaseRequest.objects.exclude(state__in=[State.DRAFT, State.WITHDRAWN]).filter(
        Q(state__in=OPEN_STATES) | Q(created_at__gte=recent)
    )
    if exclude_pk:
        requests = requests.exclude(pk=exclude_pk)
    match = Q(vendor_id=vendor_id) if vendor_id else Q(pk__in=[])
    if len(title) >= 3:
        if connection.vendor == "postgresql":
            requests = requests.annotate(title_similarity=TrigramSimilarity("title", title))
        match |= similar_title(title)
    requests = requests.filter(match).select_related("vendor", "department").order_by("-created_at")
    contracts = active_contracts(vendor_id).select_related("vendor") if vendor_id else []
    return {"requests": list(requests[:limit]), "contracts": list(contracts)}
