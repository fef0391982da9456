from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from core.validation import validate_text_length


class BootstrapFormMixin:
    """Gives every widget the Bootstrap 5 class that fits it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)


class FreeTextField(forms.CharField):
    """Free text a person writes, in a text area: at most core.validation.MAX_TEXT characters,
    refused with the words the models and the API use."""

    widget = forms.Textarea

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(validate_text_length)


MAX_ID = 2**63 - 1


class IdsMultipleChoiceField(forms.ModelMultipleChoiceField):
    """ModelMultipleChoiceField for integer ids: a value that is no 64-bit id ("²", 2**70) is
    refused as not one of the choices; Django's own would pass it to the database (a 500)."""

    def _check_values(self, value):
        for pk in value:
            try:
                number = int(str(pk))
            except ValueError:
                number = None
            if number is None or not 0 < number <= MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": str(pk)[:30]},
                )
        return super()._check_values(value)


def offer_only(field: forms.ModelChoiceField, shown) -> None:
    """Lists only `shown` in a model choice field whose queryset still resolves every row. What
    may be chosen is then said by the rule (a `clean_*` asking the selector the service asks
    too), in the words the API gives, not as "not one of the available choices"."""
    field.widget.choices = forms.ModelChoiceField(
        queryset=shown, empty_label=field.empty_label
    ).choices


def refused_by(rule, value):
    """The cleaned value, unless `rule` (the one the service asks again on save) gives a reason
    not to take it: that reason is then the field's error, in the words the API gives."""
    reason = rule(value)
    if reason:
        raise forms.ValidationError(reason)
    return value


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Shows a service's ValidationError on the form: on the field it names when the form has
    that field, above the form otherwise."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.message_dict.items():
        target = field if field in form.fields else None
        for message in errors:
            if target is None and field != NON_FIELD_ERRORS:
                message = f"{field.replace('_', ' ').capitalize()}: {message}"
            form.add_error(target, message)
