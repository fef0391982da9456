"""/api/metrics/ and the CSV exports for API clients: the same selectors, policies and exports
as the dashboard's pages."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from intake.selectors import requests_visible_to

from .. import exports, policies, selectors
from ..filters import RequestExportFilter
from ..forms import DateRangeForm, FigureFilterForm
from .serializers import MetricsSerializer


def date_parameters(what: str) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "from",
            OpenApiTypes.DATE,
            description=f"{what} from this date (YYYY-MM-DD, inclusive, in the user's time zone).",
        ),
        OpenApiParameter(
            "to",
            OpenApiTypes.DATE,
            description=f"{what} until this date (YYYY-MM-DD, inclusive), not before `from`.",
        ),
    ]


DEPARTMENT = OpenApiParameter("department", OpenApiTypes.INT, description="A department's id.")
ERRORS = {
    400: OpenApiResponse(description="A filter is not valid (e.g. not a date)."),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Not allowed."),
}


def _valid(form):
    if not form.is_valid():
        raise ValidationError(form.param_errors())
    return form


class MetricsView(APIView):
    """The dashboard's figures for the CIO, the CPO and admins; for a reviewer those of their own
    side. Requesters get 403."""

    @extend_schema(
        operation_id="metrics",
        summary="Dashboard figures",
        description=(
            "Cycle time (median, 90th percentile) from submission to decision; approval, "
            "rejection and change-request rates of decided requests; time spent per side and "
            "SLA breaches of the steps; the value of requests in review; spend per month over "
            "12 months (ending with the month of `to`, or this month) by category, vendor and "
            "department; contracts ending and certificates expiring in the next 90 days. "
            "Durations are in hours, rates are fractions, amounts in the base currency. "
            "`from`, `to` and `department` filter the requests by submission date and "
            "department."
        ),
        parameters=[*date_parameters("Requests submitted"), DEPARTMENT],
        responses={200: MetricsSerializer, **ERRORS},
    )
    def get(self, request):
        scope = policies.scope_for(request.user)
        form = _valid(FigureFilterForm(request.query_params))
        figures = selectors.figures(scope, form.filters())
        return Response(MetricsSerializer(figures).data)


class CSVRenderer(BaseRenderer):
    """Lets a client ask for text/csv; an error answer is then its message as text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict):
            return "\n".join(f"{key}: {value}" for key, value in data.items())
        return str(data or "")


CSV_RESPONSE = {(200, "text/csv"): OpenApiTypes.STR, **ERRORS}


class RequestsExportView(APIView):
    """The requests the caller may see as CSV, streamed."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        operation_id="export_requests_csv",
        summary="Export requests as CSV",
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, many=True, description="Any of these."),
            OpenApiParameter("category", OpenApiTypes.STR, description="A category's slug."),
            OpenApiParameter("vendor", OpenApiTypes.INT, description="A vendor's id."),
            OpenApiParameter("mine", OpenApiTypes.BOOL, description="Only (or not) my own."),
            OpenApiParameter("awaiting", OpenApiTypes.STR, enum=["me"]),
            DEPARTMENT,
            *date_parameters("Requests submitted"),
        ],
        responses=CSV_RESPONSE,
    )
    def get(self, request):
        filterset = RequestExportFilter(
            request.query_params, queryset=requests_visible_to(request.user), request=request
        )
        _valid(filterset.form)
        return exports.export_requests(filterset.qs)


class AuditExportView(APIView):
    """The audit trail as CSV, streamed: admins, the CIO and the CPO only."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        operation_id="export_audit_csv",
        summary="Export the audit trail as CSV",
        parameters=date_parameters("Events"),
        responses=CSV_RESPONSE,
    )
    def get(self, request):
        policies.can_export_audit(request.user).enforce()
        form = _valid(DateRangeForm(request.query_params))
        return exports.export_audit(
            selectors.audit_events(form.cleaned_data["date_from"], form.cleaned_data["date_to"])
        )
