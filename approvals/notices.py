"""Who is told what when a review moves (SPEC §4): reviewers when their step opens, the
requester when their request is decided. Nobody is told before their stage is open."""

from django.contrib.auth import get_user_model

from core import formats
from notifications.services import notify

from .models import ApprovalStep
from .subjects import subject_of


def reviewers_of(step: ApprovalStep):
    if step.user_id:
        return [step.user]
    return list(get_user_model().objects.filter(groups=step.group_id, is_active=True))


def describe(step: ApprovalStep) -> str:
    return subject_of(step).description


def step_opened(step: ApprovalStep) -> None:
    notify(
        reviewers_of(step),
        subject=f"For your decision: {step.subject_label}",
        lines=[
            f"The {step.get_side_display()} step (stage {step.stage}) of {describe(step)} is "
            f"open for {step.reviewer_label}.",
            f"It is due {formats.when(step.due_at)}.",
        ],
        action="Review it",
        url=f"{step.subject.get_absolute_url()}#steps",
        dedupe_key=f"opened:{step.pk}",
        chat=True,
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
