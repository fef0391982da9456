from django.urls import path

from . import views

app_name = "budgets"

urlpatterns = [
    path("", views.budget_overview, name="list"),
    path("intake-panel/", views.intake_panel, name="intake-panel"),
    path("renewals/", views.renewals, name="renewals"),
    path("import/", views.budget_import, name="import"),
]
