from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("out-of-office/", views.out_of_office, name="out-of-office"),
    path("out-of-office/<int:pk>/end/", views.end_delegation, name="end-delegation"),
    path("time-zone/", views.time_zone, name="time-zone"),
    path("api-tokens/", views.api_tokens, name="api-tokens"),
    path("api-tokens/<int:pk>/revoke/", views.revoke_api_token, name="revoke-api-token"),
]
