"""The sign-in page: Django's form and django-axes as before, then allauth's login flow, which
asks for a two-factor code when the person has set one up, and records how they signed in
(a password, the identity provider, a code). With an identity provider configured the page also
offers "Sign in with …"; in SSO-only mode it says that passwords are for break-glass admins."""

from allauth.account.internal.flows.login import perform_password_login
from allauth.account.models import Login
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator

from . import sso


class SignInForm(AuthenticationForm):
    """Django's form, with its username length enforced. Django sets the field's max_length
    after building it, so only the HTML attribute limited it; django-axes then recorded a failed
    sign-in's overlong username in 255 characters, a 500 on PostgreSQL."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))
        if settings.TANDEM_SSO_ONLY:
            self.error_messages = {
                **self.error_messages,
                "invalid_login": (
                    "Passwords are switched off: sign in with your company account. "
                    "Only the named emergency admins may use a password."
                ),
            }


class SignInView(auth_views.LoginView):
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        login = Login(user=user, redirect_url=self.get_success_url(), email_verification="none")
        return perform_password_login(self.request, {"username": user.username}, login)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        app = sso.provider_app()
        context["sso"] = (
            {"name": app["name"], "provider_id": app["provider_id"]} if app is not None else None
        )
        context["sso_only"] = settings.TANDEM_SSO_ONLY
        return context
