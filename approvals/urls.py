from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.waiting_for_me, name="waiting-for-me"),
    path("queue/next/", views.next_in_queue, name="next-in-queue"),
    path("queue/step/", views.queue_neighbour, name="queue-neighbour"),
    path("rules/preview/", views.rule_preview, name="rule-preview"),
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
