from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("", views.my_requests, name="my-requests"),
    path("new/", views.request_new, name="request-new"),
    path("duplicates/", views.duplicates_check, name="duplicates-check"),
    path("vendor-search/", views.vendor_search, name="vendor-search"),
    path("<int:pk>/", views.request_detail, name="request-detail"),
    path("<int:pk>/edit/", views.request_edit, name="request-edit"),
    path("<int:pk>/comments/", views.request_comment, name="request-comment"),
    path("<int:pk>/rate/", views.request_rating, name="request-rating"),
    path("<int:pk>/attachments/", views.request_attachments, name="request-attachments"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views.attachment_download,
        name="attachment-download",
    ),
    path(
        "<int:pk>/<slug:action>/",
        views.request_transition,
        name="request-transition",
    ),
]
