from django import forms

from core.forms import BootstrapFormMixin, FreeTextField

DECISIONS = [
    ("approve", "Approve"),
    ("request_changes", "Request changes"),
    ("reject", "Reject"),
]


class LinkDecisionForm(BootstrapFormMixin, forms.Form):
    decision = forms.ChoiceField(choices=DECISIONS)
    comment = FreeTextField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to reject or to request changes.",
    )
