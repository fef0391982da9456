from django.urls import path  # noqa: F401 - the dashboard and exports are added here

app_name = "insights"

urlpatterns = []
