from django import forms

from core.forms import BootstrapFormMixin

DECISIONS = [
    ("approve", "Approve"),
    ("request_changes", "Request changes"),
    ("reject", "Reject"),
]


class LinkDecisionForm(BootstrapFormMixin, forms.Form):
    decision = forms.ChoiceField(choices=DECISIONS)
    comment = forms.CharField(
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to reject or to request changes.",
    )
