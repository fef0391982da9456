"""The app's URLs plus the floors the awaiting=me benchmark compares against."""

from django.urls import path

from settings.urls import urlpatterns as app_urlpatterns

from . import floors

urlpatterns = [
    path("bench/bare/", floors.bare),
    path("bench/raw-awaiting/", floors.raw_awaiting),
    *app_urlpatterns,
]
