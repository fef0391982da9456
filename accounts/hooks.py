"""Where an upper layer follows a shrinking of people's rights without this app importing it
(the layers contract): approvals registers, from its AppConfig.ready, what must happen when
somebody leaves, leaves a group or stops holding a delegation (SPEC §3: no step ever waits on
nobody). The hooks run after the change commits, once per transaction."""

from collections.abc import Callable

from django.db import transaction

rights_lost_hooks: list[Callable[[], object]] = []


def on_rights_lost(hook: Callable[[], object]) -> None:
    if hook not in rights_lost_hooks:
        rights_lost_hooks.append(hook)


def rights_lost() -> None:
    """Somebody's rights shrank: the registered hooks run once the transaction commits."""

    def run():
        for hook in rights_lost_hooks:
            hook()

    transaction.on_commit(run)


def groups_changed(sender, action, **kwargs) -> None:
    """m2m_changed of user groups (the admin, the identity provider's claims, a group's page):
    a membership that ends is a right lost."""
    if action in ("post_remove", "post_clear"):
        rights_lost()
