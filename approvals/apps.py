from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class ApprovalsConfig(AppConfig):
    name = "approvals"

    def ready(self):
        from accounts import hooks

        from . import routing, workflow
        from .models import ApprovalRule

        # Somebody left, left a group or lost a delegation: a step nobody may decide any more
        # goes to its side's leader at once (SPEC §3).
        hooks.on_rights_lost(workflow.send_undecidable_steps_to_leaders)

        # A rule changed in this process is read again at the next routing (other processes
        # see the change through routing.rules_version).
        for signal in (post_save, post_delete):
            signal.connect(
                routing.forget_rules, sender=ApprovalRule, dispatch_uid=f"rules-{signal}"
            )
        for through in (ApprovalRule.categories.through, ApprovalRule.departments.through):
            m2m_changed.connect(
                routing.forget_rules, sender=through, dispatch_uid=f"rules-{through}"
            )
