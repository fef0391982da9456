from django import forms
from django.utils import timezone

from core.forms import BootstrapFormMixin

MAX_CSV_BYTES = 1024 * 1024


class BudgetImportForm(BootstrapFormMixin, forms.Form):
    fiscal_year = forms.IntegerField(
        min_value=2000,
        max_value=2100,
        help_text="The calendar year the fiscal year starts in.",
    )
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: cost_centre, category (empty: the whole department), amount, owner "
        "(username), overrun_action (optional: warn, owner_approval or block). UTF-8, at most "
        "1 MB.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fiscal_year"].initial = timezone.localdate().year
        self.fields["file"].widget.attrs["accept"] = ".csv,text/csv"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError("The file is larger than 1 MB.")
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                "The file is not UTF-8 text; save it as CSV UTF-8."
            ) from None
        if "\x00" in text:
            raise forms.ValidationError("The file is not a CSV text file.")
        self.cleaned_data["text"] = text
        return upload
