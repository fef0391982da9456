"""The subject of an approval step: a purchase request, or a vendor under joint review. What
differs between the two lives here (locking, labels, link, who may never decide), so services,
policies, selectors and notices ask the subject instead of testing `step.request_id`."""

from intake.models import PurchaseRequest
from vendors.models import Vendor


class StepSubject:
    model: type
    field: str  # the step's foreign key to it
    noun: str

    def __init__(self, obj):
        self.obj = obj

    @classmethod
    def locked(cls, step) -> "StepSubject":
        """The subject's row, locked until the transaction ends: one decision at a time."""
        pk = getattr(step, f"{cls.field}_id")
        return cls(cls.model.objects.select_for_update().get(pk=pk))

    def attach(self, step) -> None:
        """Lets the step use this (already loaded) subject object."""
        setattr(step, self.field, self.obj)

    @property
    def url(self) -> str:
        return self.obj.get_absolute_url()


class RequestSubject(StepSubject):
    model, field, noun = PurchaseRequest, "request", "request"
    barred_reason = "You filed this request: the requester never decides its steps."
    barred_phrase = "filed this request"
    colleague_barred_reason = "{colleague} filed this request: the requester is never asked."

    @property
    def label(self) -> str:
        return f"{self.obj.number} {self.obj.title}"

    @property
    def short_label(self) -> str:
        return self.obj.number

    @property
    def description(self) -> str:
        return f"{self.obj.number} “{self.obj.title}” from {self.obj.requester}"

    @property
    def reference(self) -> str:
        """The subject once its label has named it (a notice's subject line)."""
        return f"the request from {self.obj.requester}"

    def barred_people(self) -> set[int]:
        """Who never decides its steps (four eyes): the requester."""
        return {self.obj.requester_id}


class VendorReviewSubject(StepSubject):
    model, field, noun = Vendor, "vendor", "vendor review"
    barred_reason = (
        "You proposed this vendor or filed a request naming it: you do not decide its review."
    )
    barred_phrase = "proposed this vendor or named it on a request"
    colleague_barred_reason = (
        "{colleague} proposed this vendor or named it on a request: ask somebody else."
    )

    @property
    def label(self) -> str:
        return f"Vendor review: {self.obj.name}"

    @property
    def short_label(self) -> str:
        return self.obj.name

    @property
    def description(self) -> str:
        return f"the review of the vendor {self.obj.name}"

    @property
    def reference(self) -> str:
        """The subject once its label has named it (a notice's subject line)."""
        return "the vendor's review"

    def barred_people(self) -> set[int]:
        """Who never decides its review (four eyes): whoever proposed the vendor or filed a
        request naming it."""
        people = set(
            PurchaseRequest.objects.filter(vendor=self.obj).values_list("requester_id", flat=True)
        )
        return people | ({self.obj.proposed_by_id} - {None})


def subject_kind(step) -> type[StepSubject]:
    return RequestSubject if step.request_id else VendorReviewSubject


def subject_of(step) -> StepSubject:
    kind = subject_kind(step)
    return kind(getattr(step, kind.field))
