from django.urls import path

from . import views

app_name = "operations"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("notifications/<int:pk>/retry/", views.retry, name="retry"),
]
