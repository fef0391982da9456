"""The sign-in form: Django's, with its username length enforced. Django sets the field's
max_length after building it, so only the HTML attribute limited it; django-axes then recorded
a failed sign-in's overlong username in 255 characters, a 500 on PostgreSQL."""

from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class SignInForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))
