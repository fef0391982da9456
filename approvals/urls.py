from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.waiting_for_me, name="waiting-for-me"),
    path("rules/preview/", views.rule_preview, name="rule-preview"),
    path("steps/<int:pk>/<slug:decision>/", views.decide, name="decide"),
    path("requests/<int:pk>/evidence.zip", views.evidence_packet, name="evidence-packet"),
]
