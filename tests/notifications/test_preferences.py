"""Mail that isn't noise (SPEC §4, issue #28 item 2): each person chooses per kind (assigned to
me, my group's new items, reminders, outcomes of my requests) at once, daily digest or off, on
the Notifications settings page and through the API; in the app every notice always shows."""

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from accounts import roles
from approvals import services as approval_services
from approvals import workflow
from approvals.models import AssignmentMode, GroupAssignment
from notifications import services
from notifications.models import Channel, Delivery, Kind, Notification, NotificationPreference
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

DEFAULTS = {"assigned": "at_once", "group": "digest", "reminders": "at_once", "outcomes": "at_once"}


def tell(recipients, kind, key="cause", chat=False):
    return services.notify(
        recipients, subject="Hello", lines=["Line"], action="Open", url="/requests/",
        dedupe_key=key, kind=kind, chat=chat,
    )  # fmt: skip


def channels_of(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("channel", flat=True))


def test_the_defaults_are_at_once_but_a_digest_for_the_groups_new_items(requester):
    assert services.preferences_of(requester) == DEFAULTS


@pytest.mark.parametrize(
    ("delivery", "channels", "awaits_digest"),
    [
        (Delivery.AT_ONCE, ["email", "in_app", "slack"], False),
        (Delivery.DIGEST, ["in_app"], True),
        (Delivery.OFF, ["in_app"], False),
    ],
    ids=["at once: e-mail and Slack now", "digest: in-app, e-mail later", "off: in-app only"],
)
@pytest.mark.parametrize("kind", [Kind.ASSIGNED, Kind.GROUP, Kind.REMINDERS, Kind.OUTCOMES])
def test_the_outbox_follows_the_readers_choice(
    requester, kind, delivery, channels, awaits_digest, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.TANDEM_SLACK_BOT_TOKEN = "xoxb-test"  # the Slack app is set up
    services.set_preferences(requester, {kind: delivery})
    with django_capture_on_commit_callbacks(execute=False):
        tell([requester], kind, chat=True)
    assert channels_of(requester) == channels
    in_app = Notification.objects.get(recipient=requester, channel=Channel.IN_APP)
    assert (in_app.kind, in_app.awaits_digest) == (kind, awaits_digest)


def test_service_messages_are_always_sent_at_once(admin_user):
    for kind in (Kind.ASSIGNED, Kind.GROUP, Kind.REMINDERS, Kind.OUTCOMES):
        services.set_preferences(admin_user, {kind: Delivery.OFF})
    tell([admin_user], Kind.SERVICE)
    assert channels_of(admin_user) == ["email", "in_app"]


def test_a_person_without_an_email_address_waits_for_no_digest(requester):
    requester.email = ""
    requester.save()
    tell([requester], Kind.GROUP)
    assert not Notification.objects.get(recipient=requester).awaits_digest


def test_each_persons_own_choice_applies_in_one_message(requester, it_reviewer, procurement):
    services.set_preferences(it_reviewer, {Kind.OUTCOMES: Delivery.OFF})
    services.set_preferences(procurement, {Kind.OUTCOMES: Delivery.DIGEST})
    tell([requester, it_reviewer, procurement], Kind.OUTCOMES)
    emailed = Notification.objects.filter(channel=Channel.EMAIL).values_list("recipient", flat=True)
    assert list(emailed) == [requester.pk]
    assert list(
        Notification.objects.filter(awaits_digest=True).values_list("recipient", flat=True)
    ) == [procurement.pk]


def test_a_batch_reads_everybodys_choices_in_one_query(django_assert_num_queries):
    """The reminder sweep notifies thousands at once: the choices cost one query per batch,
    however many recipients and messages."""

    def queries_for(people):
        users = [UserFactory() for _ in range(people)]
        for user in users[::2]:
            services.set_preferences(user, {Kind.REMINDERS: Delivery.OFF})
        messages = [
            services.Message(
                users, subject="Reminder", lines=["Due"], action="Decide", url="/",
                dedupe_key=f"batch:{people}:{n}", kind=Kind.REMINDERS,
            )
            for n in range(5)
        ]  # fmt: skip
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            services.notify_batch(messages)
        return len(queries)

    assert queries_for(2) == queries_for(30)
    assert Notification.objects.filter(channel=Channel.EMAIL).count() == 5 * (1 + 15)


# --- what the workflow's notices are ------------------------------------------------------


def submit(requester):
    return workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)


def test_a_groups_new_step_comes_in_the_digest_by_default(requester, it_reviewer, procurement):
    """No e-mail now: the group's one notice shows in the app, and their digest lists it
    (tests/notifications/test_digest.py)."""
    submit(requester)
    for reviewer in (it_reviewer, procurement):
        assert channels_of(reviewer) == []  # nothing of their own: the notice is the group's
        (notice,) = services.notices_of(reviewer)
        assert (notice.kind, notice.recipient, notice.is_read) == (Kind.GROUP, None, False)
        assert notice.subject.startswith("For your decision")


def test_a_reviewer_who_wants_them_at_once_gets_each_by_email(requester, it_reviewer, procurement):
    services.set_preferences(it_reviewer, {Kind.GROUP: Delivery.AT_ONCE})
    submit(requester)
    assert channels_of(it_reviewer) == ["email"]
    assert channels_of(procurement) == []
    for reviewer in (it_reviewer, procurement):
        assert services.unread_for(reviewer).get().subject.startswith("For your decision")


def test_a_step_assigned_as_it_opens_tells_its_holder_once_at_once(
    requester, it_reviewer, procurement
):
    GroupAssignment.objects.update_or_create(
        group=Group.objects.get(name=roles.IT_REVIEWERS),
        defaults={"mode": AssignmentMode.ROUND_ROBIN},
    )
    colleague = UserFactory(username="zoe", roles=[roles.IT_REVIEWERS])
    step = submit(requester).steps.get(side="it")
    holder = step.assignee
    (notice,) = services.notices_of(holder)  # not the group's too
    assert (notice.kind, notice.subject.startswith("Assigned to you")) == (Kind.ASSIGNED, True)
    assert channels_of(holder) == ["email", "in_app"]
    other = it_reviewer if holder == colleague else colleague
    assert channels_of(other) == []
    assert services.notices_of(other).get().kind == Kind.GROUP


def test_the_outcome_of_a_request_follows_the_requesters_choice(
    requester, it_reviewer, procurement
):
    services.set_preferences(requester, {Kind.OUTCOMES: Delivery.OFF})
    purchase_request = submit(requester)
    for side, reviewer in (("it", it_reviewer), ("procurement", procurement)):
        approval_services.decide_step(
            purchase_request.steps.get(side=side), by=reviewer, decision="approve"
        )
    decided = Notification.objects.filter(recipient=requester, kind=Kind.OUTCOMES)
    assert list(decided.values_list("channel", flat=True)) == [Channel.IN_APP]


def test_every_notice_of_a_review_says_its_kind(requester, it_reviewer, procurement):
    purchase_request = submit(requester)
    approval_services.decide_step(
        purchase_request.steps.get(side="it"), by=it_reviewer, decision="reject", comment="No."
    )
    assert Notification.objects.exists()
    assert not Notification.objects.filter(kind="").exists()


# --- the settings page --------------------------------------------------------------------


def test_the_page_names_each_kind_in_plain_words_with_its_choice(client, it_reviewer):
    client.force_login(it_reviewer)
    page = client.get("/notifications/settings/").content.decode()
    for words in ("Assigned to me", "My group&#x27;s new items", "Reminders", "Outcomes of my"):
        assert words in page
    assert '<option value="digest" selected>Daily digest</option>' in page


def test_the_page_saves_the_choices_and_says_so(client, it_reviewer):
    client.force_login(it_reviewer)
    response = client.post(
        "/notifications/settings/",
        {**DEFAULTS, "group": "at_once", "reminders": "off"},
        follow=True,
    )
    assert "Your notification settings are saved." in response.content.decode()
    assert services.preferences_of(it_reviewer) == {
        **DEFAULTS, "group": "at_once", "reminders": "off"
    }  # fmt: skip


def test_the_page_refuses_a_choice_that_is_not_one(client, it_reviewer):
    client.force_login(it_reviewer)
    response = client.post("/notifications/settings/", {**DEFAULTS, "group": "hourly"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_the_settings_are_linked_from_out_of_office_and_the_inbox(client, it_reviewer):
    client.force_login(it_reviewer)
    for page in ("/accounts/out-of-office/", "/notifications/"):
        assert 'href="/notifications/settings/"' in client.get(page).content.decode()


# --- the API ------------------------------------------------------------------------------

URL = "/api/notification-preferences/"


def test_the_api_shows_the_callers_choices(api, it_reviewer):
    response = api.as_user(it_reviewer).get(URL)
    assert (response.status_code, response.json()) == (200, DEFAULTS)


def test_the_api_changes_the_kinds_named_and_keeps_the_others(api, it_reviewer):
    api.as_user(it_reviewer)
    response = api.put(URL, {"group": "at_once"}, format="json")
    assert (response.status_code, response.json()) == (200, {**DEFAULTS, "group": "at_once"})
    response = api.put(URL, {"outcomes": "off"}, format="json")
    assert response.json() == {**DEFAULTS, "group": "at_once", "outcomes": "off"}
    assert api.get(URL).json() == {**DEFAULTS, "group": "at_once", "outcomes": "off"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"group": "hourly"}, '"hourly" is not a valid choice.'),
        ({"service": "off"}, "Unknown kind"),
        ({"everything": "off"}, "Unknown kind"),
        ({}, "Name at least one kind"),
        (["group", "off"], "Expected a dictionary"),
        ({"group": None}, "This field may not be null."),
    ],
    ids=["unknown choice", "service messages", "unknown kind", "nothing", "a list", "null"],
)
def test_the_api_refuses_what_is_not_a_choice_with_a_400(api, it_reviewer, body, says):
    response = api.as_user(it_reviewer).put(URL, body, format="json")
    assert response.status_code == 400
    assert says in str(response.json())
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize("method", ["get", "put"])
def test_the_api_needs_a_signed_in_caller(api, method):
    response = getattr(api, method)(URL, {"group": "off"}, format="json")
    assert response.status_code == 401


def test_a_read_only_token_may_read_but_not_change_them(api, it_reviewer):
    from accounts.tokens import create_token

    _, token = create_token(it_reviewer, name="reader", scopes=["read"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get(URL).status_code == 200
    assert api.put(URL, {"group": "off"}, format="json").status_code == 403


def test_the_schema_documents_the_endpoint(api, it_reviewer):
    paths = api.as_user(it_reviewer).get("/api/schema/?format=json").json()["paths"]
    assert set(paths[URL]) >= {"get", "put"}
    assert "400" in paths[URL]["put"]["responses"]


def test_mail_is_not_sent_for_off(requester, django_capture_on_commit_callbacks):
    services.set_preferences(requester, {Kind.OUTCOMES: Delivery.OFF})
    with django_capture_on_commit_callbacks(execute=True):
        tell([requester], Kind.OUTCOMES)
    assert mail.outbox == []
