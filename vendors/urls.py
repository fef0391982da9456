from django.urls import path  # noqa: F401 - the vendor pages are added here

app_name = "vendors"

urlpatterns = []
