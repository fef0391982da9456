from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/requests.csv", views.export_requests, name="export-requests"),
    path("export/audit.csv", views.export_audit, name="export-audit"),
]
