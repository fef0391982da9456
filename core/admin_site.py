"""The admin as a configuration tool (issue #29 item 10): its index lists what an admin
configures, in sections named for it (People, Rules, Vendors, Budgets, Calendars, Integrations,
Operations), not one heading per Django app ("AXES", "AUTH TOKEN"). Each model is named as an
admin reads it. A model registered later and not placed here still shows, under "Other", and
a test fails until it is placed."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import reverse

# Section -> [(app label, model name, how the admin names it)], in the order shown.
SECTIONS = {
    "People": [
        ("accounts", "user", "People"),
        ("auth", "group", "Roles and reviewer groups"),
        ("accounts", "department", "Departments"),
        ("accounts", "delegation", "Delegations (out of office)"),
        ("accounts", "claimmapping", "Roles from the identity provider"),
        ("accounts", "providergroup", "Groups from the identity provider (SCIM)"),
        ("account", "emailaddress", "E-mail addresses"),
        ("mfa", "authenticator", "Two-factor devices"),
        ("usersessions", "usersession", "Signed-in sessions"),
    ],
    "Rules": [
        ("approvals", "approvalrule", "Routing rules"),
        ("approvals", "groupassignment", "Automatic assignment"),
        ("approvals", "processsettings", "Process settings"),
        ("intake", "category", "Request categories"),
    ],
    "Vendors": [
        ("vendors", "vendor", "Vendors"),
        ("vendors", "contract", "Contracts"),
        ("vendors", "riskband", "Risk bands"),
        ("vendors", "securityquestion", "Security questionnaire"),
        ("vendors", "vendorrating", "Vendor ratings"),
    ],
    "Budgets": [
        ("budgets", "budget", "Budgets"),
        ("budgets", "renewal", "Contract renewals"),
        ("intake", "exchangerate", "Exchange rates"),
    ],
    "Calendars": [
        ("calendars", "workcalendar", "Working-hours calendars"),
    ],
    "Integrations": [
        ("socialaccount", "socialapp", "Identity providers (single sign-on)"),
        ("socialaccount", "socialaccount", "People's sign-on accounts"),
        ("socialaccount", "socialtoken", "Identity provider tokens"),
        ("accounts", "apitoken", "API tokens"),
        ("webhooks", "webhookendpoint", "Webhooks"),
        ("webhooks", "webhookdelivery", "Webhook deliveries"),
        ("reach", "slackmessage", "Slack messages"),
        ("reach", "inboundmessage", "E-mail replies received"),
    ],
    "Operations": [
        ("operations", "alert", "Alerts"),
        ("intake", "purchaserequest", "Purchase requests"),
        ("approvals", "approvalstep", "Approval steps"),
        ("audit", "auditevent", "Audit trail"),
        ("audit", "auditcheckpoint", "Audit checkpoints"),
        ("django_celery_beat", "periodictask", "Periodic tasks"),
        ("django_celery_beat", "intervalschedule", "Schedules: every …"),
        ("django_celery_beat", "crontabschedule", "Schedules: at set times"),
        ("django_celery_beat", "clockedschedule", "Schedules: once"),
        ("django_celery_beat", "solarschedule", "Schedules: by the sun"),
        ("axes", "accessattempt", "Sign-in attempts (lockouts)"),
        ("axes", "accessfailurelog", "Failed sign-ins"),
        ("axes", "accesslog", "Sign-in log"),
    ],
}
OTHER = "Other"
# Tandem's own configuration pages listed in a section beside its models: (section, after which
# model, how the admin names it, the page's URL name).
PAGES = [
    ("Rules", "approvalrule", "Rule versions and changes (four eyes)", "approvals:rule-versions"),
]


class TandemAdminSite(admin.AdminSite):
    site_header = "Tandem administration"
    site_title = "Tandem admin"
    index_title = "Configure Tandem"

    def get_app_list(self, request, app_label=None):
        """The index in SECTIONS; an app's own page (`app_label`) as Django lists it."""
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        models = {
            (app["app_label"], model["object_name"].lower()): model
            for app in apps
            for model in app["models"]
        }
        sections = []
        for title, entries in SECTIONS.items():
            listed = []
            for app_label_, model_name, name in entries:
                model = models.pop((app_label_, model_name), None)
                if model is not None:
                    listed.append({**model, "name": name})
            listed = _with_pages(title, listed)
            if listed:
                sections.append(_section(title, listed))
        if models:
            sections.append(_section(OTHER, list(models.values())))
        return sections


def _with_pages(title: str, listed: list[dict]) -> list[dict]:
    """The section's models with its pages after the model each follows (only when that model
    is listed, so the page shows to those who may change it)."""
    for section, after, name, url_name in PAGES:
        if section != title:
            continue
        for index, model in enumerate(listed):
            if model["object_name"].lower() == after:
                page = {"name": name, "object_name": url_name.split(":")[-1],
                        "admin_url": reverse(url_name), "view_only": True, "perms": {}}  # fmt: skip
                listed.insert(index + 1, page)
                break
    return listed


def _section(title: str, models: list[dict]) -> dict:
    # The keys Django's index template reads; a section is no app, so it links nowhere.
    return {
        "name": title,
        "app_label": title.lower(),
        "app_url": "",
        "has_module_perms": True,
        "models": models,
    }


class TandemAdminConfig(AdminConfig):
    default_site = "core.admin_site.TandemAdminSite"
