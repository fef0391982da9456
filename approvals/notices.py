"""Who is told what when a review moves (SPEC §4): reviewers when their step opens, the
requester when their request is decided. Nobody is told before their stage is open."""

from django.contrib.auth import get_user_model

from notifications.services import notify

from .models import ApprovalStep, StepKind


def reviewers_of(step: ApprovalStep):
    if step.user_id:
        return [step.user]
    return list(get_user_model().objects.filter(groups=step.group_id, is_active=True))


def describe(step: ApprovalStep) -> str:
    if step.request_id:
        request = step.request
        return f"{request.number} “{request.title}” from {request.requester}"
    return f"the review of the vendor {step.vendor.name}"


def step_opened(step: ApprovalStep) -> None:
    notify(
        reviewers_of(step),
        subject=f"For your decision: {step.subject_label}",
        lines=[
            f"The {step.get_side_display()} step (stage {step.stage}) of {describe(step)} is "
            f"open for {step.reviewer_label}.",
            f"It is due {step.due_at:%Y-%m-%d %H:%M} UTC.",
        ],
        action="Review it",
        url=f"{step.subject.get_absolute_url()}#steps",
        dedupe_key=f"opened:{step.pk}",
    )


def request_decided(purchase_request, *, outcome: str, round: int, comment: str = "") -> None:
    lines = [f"Your request {purchase_request.number} “{purchase_request.title}” was {outcome}."]
    if comment:
        lines.append(f"Comment: {comment}")
    notify(
        [purchase_request.requester],
        subject=f"{purchase_request.number} {outcome}",
        lines=lines,
        action="Open the request",
        url=purchase_request.get_absolute_url(),
        dedupe_key=f"decided:{purchase_request.pk}:{round}:{purchase_request.state}",
    )


def work_item_opened(step: ApprovalStep) -> None:
    """Procurement hears that an approved request is theirs to order; the requester that their
    order is placed and receipt is theirs to confirm."""
    request = step.request
    due = f"It is due {step.due_at:%Y-%m-%d %H:%M} UTC."
    if step.kind == StepKind.ORDER:
        subject = f"To order: {request.number} {request.title}"
        lines = [
            f"{request.number} “{request.title}” from {request.requester} is approved and "
            "ready to order.",
            f"Place the order and record its PO number. {due}",
        ]
        action = "Record the order"
    else:
        subject = f"Ordered: {request.number} {request.title}"
        lines = [
            f"Your request {request.number} “{request.title}” was ordered "
            f"(PO {request.po_number}).",
            f"When it arrives, confirm receipt to close the request. {due}",
        ]
        action = "Confirm receipt"
    notify(
        reviewers_of(step),
        subject=subject,
        lines=lines,
        action=action,
        url=f"{request.get_absolute_url()}#after-approval",
        dedupe_key=f"opened:{step.pk}",
    )
