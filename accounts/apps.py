from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from django.contrib.auth.models import Group

        from . import roles

        # Wherever Django names a group (admin lists, the groups of a user, the reviewer
        # group of a rule), people read its display name, not its code.
        Group.__str__ = lambda group: roles.group_label(group.name)

        from allauth.account.signals import user_logged_in
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed

        from . import (
            hooks,
            schema,  # noqa: F401 - registers the API token scheme with drf-spectacular
            sso,
        )

        m2m_changed.connect(
            hooks.groups_changed,
            sender=get_user_model().groups.through,
            dispatch_uid="tandem-groups-changed",
        )

        # Every sign-in through the identity provider re-applies the person's claims.
        user_logged_in.connect(sso.on_user_logged_in, dispatch_uid="tandem-apply-claims")
