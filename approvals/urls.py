from django.urls import path

from . import rule_views, views

app_name = "approvals"

urlpatterns = [
    path("", views.waiting_for_me, name="waiting-for-me"),
    path("queue/next/", views.next_in_queue, name="next-in-queue"),
    path("queue/step/", views.queue_neighbour, name="queue-neighbour"),
    path("rules/preview/", views.rule_preview, name="rule-preview"),
    path("rules/versions/", rule_views.versions, name="rule-versions"),
    path("rules/versions/compare/", rule_views.compare, name="rule-compare"),
    path("rules/versions/<int:number>/", rule_views.version, name="rule-version"),
    path("rules/versions/<int:number>/restore/", rule_views.restore, name="rule-restore"),
    path("rules/drafts/new/", rule_views.new_draft, name="rule-draft-new"),
    path("rules/drafts/<int:pk>/", rule_views.draft, name="rule-draft"),
    path("rules/drafts/<int:pk>/rules/new/", rule_views.draft_rule, name="rule-draft-add"),
    path(
        "rules/drafts/<int:pk>/rules/<str:rule_key>/",
        rule_views.draft_rule,
        name="rule-draft-rule",
    ),
    path(
        "rules/drafts/<int:pk>/rules/<str:rule_key>/remove/",
        rule_views.remove_draft_rule,
        name="rule-draft-remove",
    ),
    path("rules/drafts/<int:pk>/backtest/", rule_views.run_backtest, name="rule-backtest"),
    path(
        "rules/drafts/<int:pk>/backtest/progress/",
        rule_views.backtest_progress,
        name="rule-backtest-progress",
    ),
    path("rules/drafts/<int:pk>/submit/", rule_views.submit, name="rule-draft-submit"),
    path("rules/drafts/<int:pk>/approve/", rule_views.approve, name="rule-draft-approve"),
    path("rules/drafts/<int:pk>/reject/", rule_views.reject, name="rule-draft-reject"),
    path(
        "rules/drafts/<int:pk>/publish/",
        rule_views.publish_in_emergency,
        name="rule-draft-publish",
    ),
    path("approvers-preview/", views.approvers_preview, name="approvers-preview"),
    # Before the decision slugs, which would take "consult" for an unknown decision.
    path("steps/<int:pk>/consult/", views.consult, name="consult"),
    path("steps/<int:pk>/take/", views.take, name="take"),
    path("steps/<int:pk>/release/", views.release, name="release"),
    path("steps/<int:pk>/assign/", views.assign, name="assign"),
    path("consultations/<int:pk>/answer/", views.answer, name="answer"),
    path("steps/<int:pk>/<slug:decision>/", views.decide, name="decide"),
    path("requests/<int:pk>/evidence.zip", views.evidence_packet, name="evidence-packet"),
]
