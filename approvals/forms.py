from urllib.parse import urlencode

from django import forms
from django.conf import settings

from accounts.models import Department, User
from core.forms import BootstrapFormMixin, FreeTextField
from intake.models import Category, DataClassification, PurchaseRequest
from vendors.models import RiskTier

from .models import VENDOR_STATUS_CHOICES, ApprovalRule, Side

EITHER_YES_NO = [("unknown", "Either"), ("true", "Yes"), ("false", "No")]


class NullBooleanRadioSelect(forms.RadioSelect):
    """Radio buttons for a yes / no / either value (None is "unknown", as NullBooleanSelect)."""

    def format_value(self, value):
        words = {True: "true", False: "false", "true": "true", "false": "false"}
        return [words.get(value, "unknown")]


class RuleAdminForm(forms.ModelForm):
    """The rule form of the admin: every list condition is a set of checkboxes (no JSON to
    type), personal data is "either / yes / no"."""

    data_classifications = forms.MultipleChoiceField(
        label="Data classifications",
        choices=DataClassification.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick none for any classification.",
    )
    personal_data = forms.NullBooleanField(
        label="Personal data",
        required=False,
        widget=NullBooleanRadioSelect(choices=EITHER_YES_NO),
        help_text="Either: the rule does not look at personal data.",
    )
    over_budget = forms.NullBooleanField(
        label="Over budget",
        required=False,
        widget=NullBooleanRadioSelect(choices=EITHER_YES_NO),
        help_text="Yes: requests that take their department's budget over (the budget's own "
        "setting still adds its owner's step, warns or blocks); either: not looked at.",
    )
    vendor_statuses = forms.MultipleChoiceField(
        label="Vendor statuses",
        choices=VENDOR_STATUS_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick none for any vendor.",
    )
    vendor_risk_tiers = forms.MultipleChoiceField(
        label="Vendor risk tiers",
        choices=RiskTier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick none for any tier (a vendor not assessed yet has no tier).",
    )

    class Meta:
        model = ApprovalRule
        fields = [
            "name", "active", "kind", "min_total", "max_total", "categories",
            "data_classifications", "personal_data", "vendor_statuses", "vendor_risk_tiers",
            "departments", "over_budget", "reviewer_group", "reviewer_user", "side", "stage",
            "sla_hours", "repeat_every_hours", "escalate_after_hours", "escalation_group",
            "escalation_user",
        ]  # fmt: skip
        widgets = {"categories": forms.CheckboxSelectMultiple}
        help_texts = {
            "categories": "Tick none for any category.",
            "departments": "None chosen: any department.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        base = settings.TANDEM_BASE_CURRENCY
        self.fields["min_total"].help_text = f"In {base}, inclusive. Empty: no lower bound."
        self.fields["max_total"].help_text = f"In {base}, exclusive. Empty: no upper bound."


class DecisionForm(BootstrapFormMixin, forms.Form):
    comment = FreeTextField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to reject or to request changes.",
    )


class ConsultForm(forms.Form):
    """Ask a colleague: whom and what. Anyone resolves: whom one may ask is the service's policy
    (`policies.can_be_consulted`), which refuses on the page in the API's words."""

    colleague = forms.ModelChoiceField(
        User.objects.all(),
        error_messages={"required": "Choose the colleague to ask.",
                        "invalid_choice": "Choose a colleague from the list."},
    )  # fmt: skip
    question = FreeTextField(error_messages={"required": "Write the question for your colleague."})


class AssignForm(forms.Form):
    """Hand a step to a colleague: whom (checked by the service's policy)."""

    to = forms.ModelChoiceField(
        User.objects.filter(is_active=True),
        error_messages={"required": "Choose the colleague to hand it to.",
                        "invalid_choice": "Choose a colleague from the list."},
    )  # fmt: skip


class AnswerForm(forms.Form):
    answer = FreeTextField(error_messages={"required": "Write your answer."})


class PreviewForm(BootstrapFormMixin, forms.Form):
    """Either a request number, or the facts of a request not filed yet."""

    number = forms.CharField(label="Request number", required=False, max_length=20)
    total = forms.DecimalField(
        label="Total cost (base currency)", required=False, max_digits=14, decimal_places=2
    )
    category = forms.ModelChoiceField(
        Category.objects.filter(active=True),
        required=False,
        to_field_name="slug",
        empty_label="Any",
    )
    data_classification = forms.ChoiceField(
        choices=[("", "Any"), *DataClassification.choices], required=False
    )
    personal_data = forms.NullBooleanField(label="Handles personal data", required=False)
    over_budget = forms.NullBooleanField(label="Over budget", required=False)
    vendor_status = forms.ChoiceField(choices=[("", "Any"), *VENDOR_STATUS_CHOICES], required=False)
    vendor_risk_tier = forms.ChoiceField(
        label="Vendor risk tier", choices=[("", "Any"), *RiskTier.choices], required=False
    )
    department = forms.ModelChoiceField(
        Department.objects.all(), required=False, to_field_name="cost_centre", empty_label="Any"
    )

    def __init__(self, *args, requests=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.requests = requests if requests is not None else PurchaseRequest.objects.none()
        self.fields["personal_data"].widget.choices = EITHER_YES_NO
        self.fields["over_budget"].widget.choices = EITHER_YES_NO
        self.fields["total"].label = f"Total cost ({settings.TANDEM_BASE_CURRENCY})"

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        if number:
            try:
                self.cleaned_data["request"] = self.requests.get(number__iexact=number)
            except PurchaseRequest.DoesNotExist:
                raise forms.ValidationError(f"No request {number} that you may see.") from None
        return number


class QueueFilterForm(BootstrapFormMixin, forms.Form):
    """The filters and order of "Waiting for me"; every field optional."""

    side = forms.ChoiceField(
        choices=[("", "Every side"), *Side.choices], required=False, label="Side"
    )
    category = forms.ModelChoiceField(
        Category.objects.all(),
        required=False,
        to_field_name="slug",
        empty_label="Every category",
    )
    overdue = forms.BooleanField(required=False, label="Overdue only")
    sort = forms.ChoiceField(
        choices=[
            ("due", "Due soonest"),
            ("oldest", "Waiting longest"),
            ("cost", "Highest cost"),
        ],
        required=False,
        label="Sort by",
    )

    def filters(self) -> dict:
        """The valid filters (an invalid one is shown with its error and ignored)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "side": data.get("side") or "",
            "category": data.get("category"),
            "overdue": bool(data.get("overdue")),
        }

    def ordering(self) -> str:
        valid = self.is_bound and self.is_valid()
        return (self.cleaned_data.get("sort") if valid else "") or "due"

    def query(self) -> str:
        """The filters as a query string, for the page links and the queue after a decision."""
        filters, sort = self.filters(), self.ordering()
        pairs = {
            "side": filters["side"],
            "category": filters["category"].slug if filters["category"] else "",
            "overdue": "on" if filters["overdue"] else "",
            "sort": sort if sort != "due" else "",
        }
        return urlencode({key: value for key, value in pairs.items() if value})


class TeamFilterForm(BootstrapFormMixin, forms.Form):
    """The leaders' drill-down of the team view: one side, one stage."""

    team_side = forms.ChoiceField(
        choices=[("", "Every side"), *Side.choices], required=False, label="Side"
    )
    team_stage = forms.IntegerField(required=False, min_value=1, max_value=99, label="Stage")

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {"side": data.get("team_side") or "", "stage": data.get("team_stage")}


class DraftRuleForm(RuleAdminForm):
    """A rule of a draft change (issue #32): the admin's rule form, on a page. Nothing is saved
    to the live rules; a name is unique within the draft (rule_drafts.save_draft_rule), not
    against the live rules the draft replaces."""

    def __init__(self, *args, rule: dict | None = None, **kwargs):
        if rule is not None:
            kwargs["initial"] = draft_rule_initial(rule)
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)

    def validate_unique(self):
        """The live rules' names are not the draft's business."""


def draft_rule_initial(rule: dict) -> dict:
    """A rule of a rule set (approvals.rulesets) as the form's initial values."""
    initial = {name.removesuffix("_id"): value for name, value in rule.items() if name != "id"}
    initial["categories"] = rule["category_ids"]
    initial["departments"] = rule["department_ids"]
    return initial
