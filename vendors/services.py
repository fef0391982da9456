"""Every write on vendors: records, the questionnaire and risk tier, certificates, contracts,
ratings, the start of a joint review. Each in one transaction with its audit event."""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.services import record_event
from core.errors import TransitionNotAllowed
from core.uploads import check_upload

from . import policies, selectors
from .models import (
    AnswerOption,
    Certificate,
    Contract,
    RiskBand,
    SecurityQuestion,
    Vendor,
    VendorAnswer,
    VendorRating,
)

VENDOR_FIELDS = (
    "name",
    "legal_name",
    "website",
    "country",
    "contact_name",
    "contact_email",
    "data_access_level",
    "conditions",
    "esg_rating",
    "esg_source",
    "carbon_disclosure",
    "sustainability_notes",
)


def normalized_fields(fields: dict) -> dict:
    """The country as an ISO code is written (`de` is `DE`), whichever path sent it."""
    if isinstance(fields.get("country"), str):
        fields = {**fields, "country": fields["country"].strip().upper()}
    return fields


def create_vendor(*, by, fields: dict) -> Vendor:
    policies.can_manage_vendor(by).enforce()
    fields = normalized_fields(fields)
    with transaction.atomic():
        vendor = Vendor(**fields, proposed_by=by)
        vendor.full_clean(exclude=["status"])
        vendor.save()
        record_event(vendor, actor=by, kind="created", to_state=vendor.status)
    return vendor


def update_vendor(vendor: Vendor, *, by, fields: dict) -> Vendor:
    policies.can_manage_vendor(by).enforce()
    fields = normalized_fields(fields)
    with transaction.atomic():
        vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
        changed = [name for name, value in fields.items() if getattr(vendor, name) != value]
        for name, value in fields.items():
            setattr(vendor, name, value)
        vendor.full_clean(exclude=["status"])
        vendor.save()
        record_event(vendor, actor=by, kind="edited", payload={"fields": changed})
    return vendor


def risk_score(vendor: Vendor) -> Decimal | None:
    """The weighted mean of the answers' risk (0 to 100) over the active questions answered."""
    answers = VendorAnswer.objects.filter(vendor=vendor, question__active=True).select_related(
        "question", "option"
    )
    total_weight = sum(a.question.weight for a in answers)
    if not total_weight:
        return None
    weighted = sum(a.question.weight * a.option.risk for a in answers)
    return (Decimal(weighted) / Decimal(total_weight)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def tier_for(score: Decimal | None) -> str:
    """The tier of the highest band whose minimum the score reaches (bands are configurable)."""
    if score is None:
        return ""
    band = RiskBand.objects.filter(min_score__lte=score).order_by("-min_score").first()
    return band.tier if band else ""


def answer_questionnaire(vendor: Vendor, *, by, answers: dict[int, int]) -> Vendor:
    """Stores the answers {question id: option id}, then sets the risk score and tier."""
    policies.can_answer_questionnaire(by).enforce()
    questions = {q.pk: q for q in SecurityQuestion.objects.filter(active=True)}
    options = AnswerOption.objects.in_bulk(answers.values())
    errors = {}
    for question_id, option_id in answers.items():
        option = options.get(option_id)
        if question_id not in questions:
            errors[f"question_{question_id}"] = ["This question is not in the questionnaire."]
        elif option is None or option.question_id != question_id:
            errors[f"question_{question_id}"] = ["Choose one of this question's answers."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
        for question_id, option_id in answers.items():
            VendorAnswer.objects.update_or_create(
                vendor=vendor,
                question_id=question_id,
                defaults={"option_id": option_id, "answered_by": by},
            )
        previous = vendor.risk_tier
        vendor.risk_score = risk_score(vendor)
        vendor.risk_tier = tier_for(vendor.risk_score)
        vendor.save(update_fields=["risk_score", "risk_tier"])
        record_event(
            vendor,
            actor=by,
            kind="questionnaire_answered",
            payload={
                "answers": len(answers),
                "score": vendor.risk_score,
                "tier": vendor.risk_tier,
                "previous_tier": previous,
            },
        )
    return vendor


def add_certificate(vendor: Vendor, *, by, fields: dict, document=None) -> Certificate:
    policies.can_manage_vendor(by).enforce()
    try:
        checked = check_upload(document) if document else None
    except ValidationError as error:  # the one upload check, on the field it concerns
        raise ValidationError({"document": error.messages}) from None
    with transaction.atomic():
        certificate = Certificate(vendor=vendor, uploaded_by=by, **fields)
        if checked:
            certificate.document = document
            certificate.document_name = checked.name[:255]
            certificate.document_type = checked.content_type
        certificate.full_clean(exclude=["vendor", "uploaded_by", "document"])
        certificate.save()
        record_event(
            vendor,
            actor=by,
            kind="certificate_added",
            payload={
                "certificate": certificate.pk,
                "type": certificate.get_kind_display(),
                "expires_on": certificate.expires_on,
            },
        )
    return certificate


def add_contract(vendor: Vendor, *, by, fields: dict, requests=()) -> Contract:
    """Records a contract, owned by someone who may own one (`selectors.contract_owners`) and
    linked only to requests naming this vendor."""
    policies.can_manage_vendor(by).enforce()
    errors = {}
    owner = fields.get("owner")
    refusal = selectors.why_cannot_own_contracts(owner) if owner is not None else None
    if refusal:
        errors["owner"] = [refusal]
    foreign = [r.number for r in requests if r.vendor_id != vendor.pk]
    if foreign:
        errors["requests"] = [f"{', '.join(foreign)} name another vendor than {vendor}."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        contract = Contract(vendor=vendor, **fields)
        contract.full_clean(exclude=["vendor"])
        contract.save()
        contract.requests.set(requests)
        record_event(
            vendor,
            actor=by,
            kind="contract_added",
            payload={"contract": contract.pk, "title": contract.title, "ends_on": contract.ends_on},
        )
    return contract


def rate_vendor(purchase_request, *, by, delivery: int, quality: int, support: int, comment=""):
    """One rating per person and closed request, by its requester or IT (SPEC §5)."""
    if not purchase_request.vendor_id:
        raise ValidationError("This request names no vendor to rate.")
    policies.can_rate(by, purchase_request).enforce()
    rating = VendorRating(
        vendor_id=purchase_request.vendor_id,
        request=purchase_request,
        rater=by,
        delivery=delivery,
        quality=quality,
        support=support,
        comment=comment,
    )
    rating.full_clean(exclude=["vendor", "request", "rater"], validate_constraints=False)
    try:
        with transaction.atomic():
            rating.save()
            record_event(
                purchase_request.vendor,
                actor=by,
                kind="rated",
                payload={
                    "request": purchase_request.number,
                    "delivery": delivery,
                    "quality": quality,
                    "support": support,
                },
            )
    except IntegrityError:
        raise TransitionNotAllowed("You have already rated the vendor for this request.") from None
    return rating
