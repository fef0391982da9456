"""The vendor pages (SPEC §5, §6). Thin: forms check input, services write, selectors read,
policies decide who may."""

import base64
import binascii

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from approvals import workflow
from approvals.forms import DecisionForm
from approvals.selectors import decision_panels
from audit.models import AuditEvent
from core.forms import add_service_errors
from core.pages import perform
from core.query import page_number
from intake.selectors import requests_a_contract_may_name
from notifications.services import mark_read_for_page

from . import imports, policies, selectors, services
from .forms import (
    CertificateForm,
    ContractForm,
    QuestionnaireForm,
    VendorForm,
    VendorImportForm,
    VendorListFilter,
)
from .models import Certificate, Vendor

PAGE_SIZE = 25


def vendor_list(request):
    policies.can_view_vendors(request.user).enforce()
    filterset = VendorListFilter(request.GET or None, queryset=selectors.vendors_with_figures())
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(page_number(request.GET))
    page.object_list = list(page.object_list)
    for vendor in page.object_list:
        vendor.average_rating = _average_rating(vendor)
    context = {
        "filter": filterset,
        "page": page,
        "may_manage": policies.can_manage_vendor(request.user).allowed,
    }
    return render(request, "vendors/vendor_list.html", context)


def vendor_new(request):
    return _vendor_form(request, vendor=None)


def vendor_edit(request, pk):
    return _vendor_form(request, vendor=_vendor_or_404(request.user, pk))


def _vendor_form(request, vendor):
    policies.can_manage_vendor(request.user).enforce()
    form = VendorForm(request.POST or None, instance=vendor)
    if request.method == "POST" and form.is_valid():
        try:
            if vendor is None:
                vendor = services.create_vendor(by=request.user, fields=form.vendor_fields())
            else:
                vendor = services.update_vendor(
                    vendor, by=request.user, fields=form.vendor_fields()
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{vendor.name} saved.")
            return redirect(vendor)
    return render(request, "vendors/vendor_form.html", {"form": form, "vendor": vendor})


def vendor_detail(request, pk):
    vendor = _vendor_or_404(request.user, pk)
    mark_read_for_page(request.user, vendor.get_absolute_url())  # the reader is here now
    return _render_detail(request, vendor)


@require_POST
def vendor_start_review(request, pk):
    vendor = _vendor_or_404(request.user, pk)
    perform(
        request,
        workflow.start_review,
        vendor,
        by=request.user,
        success=f"The joint review of {vendor.name} has started.",
    )
    return redirect(f"{vendor.get_absolute_url()}#steps")


@require_POST
def vendor_questionnaire(request, pk):
    vendor = _vendor_or_404(request.user, pk)
    policies.can_answer_questionnaire(request.user).enforce()
    form = QuestionnaireForm(request.POST, vendor=vendor)
    if form.is_valid():
        try:
            vendor = services.answer_questionnaire(vendor, by=request.user, answers=form.answers())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            tier = vendor.get_risk_tier_display() or "not set"
            messages.success(
                request, f"Questionnaire saved: risk score {vendor.risk_score}, tier {tier}."
            )
            return redirect(f"{vendor.get_absolute_url()}#risk")
    return _render_detail(request, vendor, questionnaire_form=form)


@require_POST
def vendor_certificates(request, pk):
    vendor = _vendor_or_404(request.user, pk)
    policies.can_manage_vendor(request.user).enforce()
    form = CertificateForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            certificate = services.add_certificate(
                vendor,
                by=request.user,
                fields=form.certificate_fields(),
                document=form.cleaned_data["document"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{certificate.get_kind_display()} certificate added.")
            return redirect(f"{vendor.get_absolute_url()}#certificates")
    return _render_detail(request, vendor, certificate_form=form)


def certificate_document(request, pk, certificate_pk):
    """Certificates are served only to those who may see vendors, never from a public URL."""
    vendor = _vendor_or_404(request.user, pk)
    certificate = get_object_or_404(Certificate, pk=certificate_pk, vendor=vendor)
    if not certificate.document:
        raise Http404("This certificate has no document.")
    return FileResponse(
        certificate.document.open("rb"),
        as_attachment=True,
        filename=certificate.document_name or None,
        content_type=certificate.document_type or None,
    )


@require_POST
def vendor_contracts(request, pk):
    vendor = _vendor_or_404(request.user, pk)
    policies.can_manage_vendor(request.user).enforce()
    form = ContractForm(request.POST, requests=_visible_requests(request.user, vendor))
    if form.is_valid():
        try:
            contract = services.add_contract(
                vendor,
                by=request.user,
                fields=form.contract_fields(),
                requests=form.cleaned_data["requests"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Contract “{contract.title}” added.")
            return redirect(f"{vendor.get_absolute_url()}#contracts")
    return _render_detail(request, vendor, contract_form=form)


IMPORT_SALT = "vendors.import"
IMPORT_MAX_AGE = 3600  # seconds between the dry run and the import


def vendor_import(request):
    """Procurement and IT bring their vendors and contracts from a file: first a dry run that
    says per row what will happen, then the import of that same file (carried signed in the
    page, not uploaded again), every row or none."""
    policies.can_manage_vendor(request.user).enforce()
    form = VendorImportForm(request.POST or None, request.FILES or None)
    context = {"form": form, "columns": imports.COLUMNS, "example": imports.EXAMPLE}
    if request.method != "POST":
        return render(request, "vendors/import.html", context)
    if "token" in request.POST:
        return _import_confirmed(request, context)
    if not form.is_valid():
        return render(request, "vendors/import.html", context, status=400)
    upload = form.cleaned_data["file"]
    content = upload.read(imports.MAX_BYTES + 1)
    try:
        report = imports.import_file(upload.name, content, by=request.user, dry_run=True)
    except imports.ImportFileError as error:
        form.add_error("file", str(error))
        return render(request, "vendors/import.html", context, status=400)
    if not report.refused:
        context["token"] = signing.dumps(
            {"user": request.user.pk, "name": upload.name,
             "content": base64.b64encode(content).decode()},
            salt=IMPORT_SALT, compress=True,
        )  # fmt: skip
    context["report"] = report
    return render(request, "vendors/import.html", context)


def _import_confirmed(request, context):
    try:
        data = signing.loads(request.POST["token"], salt=IMPORT_SALT, max_age=IMPORT_MAX_AGE)
        if data["user"] != request.user.pk:
            raise signing.BadSignature
        content = base64.b64decode(data["content"], validate=True)
    except (signing.BadSignature, binascii.Error, KeyError, TypeError):
        context["form"] = VendorImportForm()
        context["problem"] = "This import has expired or was changed: choose the file again."
        return render(request, "vendors/import.html", context, status=400)
    report = imports.import_file(data["name"], content, by=request.user, dry_run=False)
    if report.applied:
        messages.success(request, report.summary())
        return redirect("vendors:vendor-list")
    context["form"] = VendorImportForm()
    context["report"] = report
    context["changed_meanwhile"] = True
    return render(request, "vendors/import.html", context)


def _vendor_or_404(user, pk) -> Vendor:
    policies.can_view_vendors(user).enforce()
    try:
        return selectors.vendor_for_page(pk)
    except Vendor.DoesNotExist:
        raise Http404("No such vendor.") from None


def _visible_requests(user, vendor):
    return requests_a_contract_may_name(user, vendor)


def _render_detail(
    request, vendor, *, questionnaire_form=None, certificate_form=None, contract_form=None
):
    user = request.user
    may_manage = policies.can_manage_vendor(user).allowed
    may_answer = policies.can_answer_questionnaire(user).allowed
    visible_requests = _visible_requests(user, vendor)
    if may_answer and questionnaire_form is None:
        questionnaire_form = QuestionnaireForm(vendor=vendor)
    if may_manage:
        certificate_form = certificate_form or CertificateForm()
        contract_form = contract_form or ContractForm(
            requests=visible_requests, initial={"owner": user.pk, "currency": "EUR"}
        )
    requests = list(visible_requests)
    context = {
        "vendor": vendor,
        "may_manage": may_manage,
        "may_start_review": may_manage and workflow.review_can_start(vendor),
        "step_panels": decision_panels(vendor, user),
        "decision_form": DecisionForm(),
        "questionnaire_form": questionnaire_form if may_answer else None,
        "certificate_form": certificate_form if may_manage else None,
        "contract_form": contract_form if may_manage else None,
        "requests": requests,
        "hidden_requests": vendor.requests.count() - len(requests),
        "average_rating": _average_rating(vendor),
        "timeline": AuditEvent.objects.for_object(vendor),
    }
    return render(request, "vendors/vendor_detail.html", context)


def _average_rating(vendor):
    """The mean of the delivery, quality and support averages, or None before any rating."""
    averages = [vendor.average_delivery, vendor.average_quality, vendor.average_support]
    if any(value is None for value in averages):
        return None
    return sum(averages) / len(averages)
