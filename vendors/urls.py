from django.urls import path

from . import views

app_name = "vendors"

urlpatterns = [
    path("", views.vendor_list, name="vendor-list"),
    path("new/", views.vendor_new, name="vendor-new"),
    path("import/", views.vendor_import, name="vendor-import"),
    path("<int:pk>/", views.vendor_detail, name="vendor-detail"),
    path("<int:pk>/edit/", views.vendor_edit, name="vendor-edit"),
    path("<int:pk>/review/", views.vendor_start_review, name="vendor-start-review"),
    path("<int:pk>/questionnaire/", views.vendor_questionnaire, name="vendor-questionnaire"),
    path("<int:pk>/certificates/", views.vendor_certificates, name="vendor-certificates"),
    path(
        "<int:pk>/certificates/<int:certificate_pk>/document/",
        views.certificate_document,
        name="certificate-document",
    ),
    path("<int:pk>/contracts/", views.vendor_contracts, name="vendor-contracts"),
]
