from django.urls import path

from . import views

app_name = "reach"

urlpatterns = [
    path("decide/<str:token>/", views.decision_link, name="decision-link"),
]
