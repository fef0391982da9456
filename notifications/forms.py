from django import forms

from core.forms import BootstrapFormMixin

from .models import KINDS, Delivery


class PreferencesForm(BootstrapFormMixin, forms.Form):
    """One choice per kind a person chooses for (`KINDS`): at once, daily digest or off."""

    def __init__(self, *args, choices: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind, setting in KINDS.items():
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label,
                choices=Delivery.choices,
                initial=choices[kind.value],
                help_text=setting.explains,
            )
