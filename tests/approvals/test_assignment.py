"""Work is assigned, not raced (issue #28): a reviewer takes a step ("I'll take it"), releases it,
or hands it to a colleague who may decide it; colleagues see who holds it and may still decide
it, and such a decision records whom the step was held by."""

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from accounts import roles
from accounts.tokens import create_token
from approvals import services
from approvals.models import StepState
from audit.models import AuditEvent
from core.errors import TransitionNotAllowed
from notifications.models import Channel, Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ivan(it_reviewer):
    it_reviewer.first_name, it_reviewer.last_name = "Ivan", "Novak"
    it_reviewer.save()
    return it_reviewer


@pytest.fixture
def irene(db):
    return UserFactory(
        username="irene", first_name="Irene", last_name="Ives", roles=[roles.IT_REVIEWERS]
    )


@pytest.fixture
def it_step(submitted, ivan, irene, procurement, cio, cpo):
    return submitted(title="Miro for the design team").steps.get(side="it")


def events(step, kind):
    return list(
        AuditEvent.objects.for_object(step.request)
        .filter(kind=kind)
        .values_list("actor__username", "payload")
    )


def in_app(user):
    return Notification.objects.filter(recipient=user, channel=Channel.IN_APP)


# Services


def test_a_reviewer_takes_a_step_and_it_is_recorded(it_step, ivan):
    step = services.take_step(it_step, by=ivan)
    step.refresh_from_db()
    assert (step.assignee, step.assigned_at is not None) == (ivan, True)
    [(actor, payload)] = events(step, "step_taken")
    assert (actor, payload["holder"], payload["holder_username"]) == ("ivan", "Ivan Novak", "ivan")


def test_taking_a_step_held_by_a_colleague_names_them(it_step, ivan, irene):
    services.take_step(it_step, by=ivan)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.take_step(it_step, by=irene)
    assert "Ivan Novak already took this on" in str(refused.value)
    assert "ask them to hand it to you, or decide it anyway" in str(refused.value)
    it_step.refresh_from_db()
    assert it_step.assignee == ivan


def test_taking_a_step_one_holds_changes_nothing(it_step, ivan):
    services.take_step(it_step, by=ivan)
    services.take_step(it_step, by=ivan)
    assert len(events(it_step, "step_taken")) == 1


@pytest.mark.parametrize("who", ["requester", "procurement"])
def test_only_someone_who_may_decide_takes_a_step(it_step, request, who):
    with pytest.raises(PermissionDenied) as refused:
        services.take_step(it_step, by=request.getfixturevalue(who))
    assert "Only a reviewer who may decide this step takes it." in str(refused.value)


def test_release_by_the_holder_or_the_sides_leader_only(it_step, ivan, irene, cio, cpo):
    services.take_step(it_step, by=ivan)
    for outsider in (irene, cpo):
        with pytest.raises(PermissionDenied, match="Ivan Novak holds this step"):
            services.release_step(it_step, by=outsider)
    services.release_step(it_step, by=ivan)
    it_step.refresh_from_db()
    assert it_step.assignee is None
    services.take_step(it_step, by=irene)
    services.release_step(it_step, by=cio)  # the CIO leads the IT side
    it_step.refresh_from_db()
    assert it_step.assignee is None
    assert [payload["holder"] for _, payload in events(it_step, "step_released")] == [
        "Ivan Novak",
        "Irene Ives",
    ]


def test_handing_a_step_to_a_colleague_tells_them(
    it_step, ivan, irene, django_capture_on_commit_callbacks
):
    services.take_step(it_step, by=ivan)
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_step(it_step, by=ivan, to=irene)
    it_step.refresh_from_db()
    assert it_step.assignee == irene
    [(actor, payload)] = events(it_step, "step_assigned")
    assert (actor, payload["holder"], payload["previous_holder"]) == (
        "ivan",
        "Irene Ives",
        "Ivan Novak",
    )
    told = in_app(irene).get(subject__contains="handed you")
    assert (
        told.subject == f"Ivan Novak handed you {it_step.request.number} Miro for the design team"
    )
    assert "yours to decide now" in told.summary
    assert [m.subject for m in mail.outbox if "handed you" in m.subject] == [told.subject]
    assert [m.to for m in mail.outbox if "handed you" in m.subject] == [["irene@tandem.example"]]
    assert not in_app(ivan).filter(subject__contains="handed").exists()


def test_a_step_held_by_somebody_else_is_handed_on_only_by_them_or_a_leader(
    it_step, ivan, irene, cio
):
    services.take_step(it_step, by=ivan)
    with pytest.raises(TransitionNotAllowed, match="Ivan Novak already took this"):
        services.assign_step(it_step, by=irene, to=irene)
    services.assign_step(it_step, by=cio, to=irene)
    it_step.refresh_from_db()
    assert it_step.assignee == irene


def test_a_step_is_never_handed_to_the_requester_or_an_outsider(
    it_step, ivan, requester, procurement
):
    with pytest.raises(ValidationError) as refused:
        services.assign_step(it_step, by=ivan, to=requester)
    assert refused.value.message_dict["to"] == [
        f"{requester} filed this request: the requester never decides its steps."
    ]
    with pytest.raises(ValidationError) as refused:
        services.assign_step(it_step, by=ivan, to=procurement)
    assert refused.value.message_dict["to"] == [
        f"{procurement} cannot decide this step: it is for IT review."
    ]


def test_a_step_is_never_handed_to_somebody_barred_by_four_eyes(submitted, ivan, cio, cpo):
    both = UserFactory(username="bo", roles=[roles.IT_REVIEWERS, roles.PROCUREMENT])
    purchase_request = submitted()
    services.decide_step(
        purchase_request.steps.get(side="procurement"), by=both, decision="approve"
    )
    with pytest.raises(ValidationError) as refused:
        services.assign_step(purchase_request.steps.get(side="it"), by=ivan, to=both)
    assert "(four eyes)" in refused.value.message_dict["to"][0]


def test_a_closed_step_is_neither_taken_handed_on_nor_released(it_step, ivan, irene):
    services.take_step(it_step, by=ivan)
    services.decide_step(it_step, by=ivan, decision="approve")
    for action, kwargs in [
        (services.take_step, {}),
        (services.assign_step, {"to": irene}),
        (services.release_step, {}),
    ]:
        with pytest.raises(TransitionNotAllowed, match="Only an open step is"):
            action(it_step, by=ivan, **kwargs)
    it_step.refresh_from_db()
    assert (it_step.state, it_step.assignee) == (StepState.APPROVED, ivan)  # kept as history


def test_a_colleague_still_decides_a_held_step_and_it_is_recorded(it_step, ivan, irene):
    services.take_step(it_step, by=ivan)
    services.decide_step(it_step, by=irene, decision="approve", comment="Ivan is away")
    it_step.refresh_from_db()
    assert (it_step.state, it_step.decided_by) == (StepState.APPROVED, irene)
    [(actor, payload)] = events(it_step, "step_approve")
    assert (actor, payload["held_by"], payload["held_by_username"]) == (
        "irene",
        "Ivan Novak",
        "ivan",
    )


def test_the_holders_own_decision_records_no_held_by(it_step, ivan):
    services.take_step(it_step, by=ivan)
    services.decide_step(it_step, by=ivan, decision="approve")
    [(_, payload)] = events(it_step, "step_approve")
    assert "held_by" not in payload


# API


def take(api, step):
    return api.post(f"/api/steps/{step.pk}/take/", format="json")


def assign(api, step, to):
    return api.post(f"/api/steps/{step.pk}/assign/", {"to": to}, format="json")


def release(api, step):
    return api.post(f"/api/steps/{step.pk}/release/", format="json")


def test_take_hand_on_and_release_through_the_api(
    api, it_step, ivan, irene, django_capture_on_commit_callbacks
):
    response = take(api.as_user(ivan), it_step)
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"] == {"id": ivan.pk, "username": "ivan", "name": "Ivan Novak"}
    assert response.json()["assigned_at"]

    with django_capture_on_commit_callbacks(execute=True):
        response = assign(api.as_user(ivan), it_step, "irene")
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"] == {
        "id": irene.pk,
        "username": "irene",
        "name": "Irene Ives",
    }
    assert in_app(irene).filter(subject__startswith="Ivan Novak handed you").exists()

    # Everyone who sees the steps sees who holds each.
    steps = api.as_user(ivan).get(f"/api/requests/{it_step.request_id}/steps/").json()
    assert [s["assignee"]["username"] for s in steps if s["side"] == "it"] == ["irene"]

    response = release(api.as_user(irene), it_step)
    assert response.status_code == 200, response.json()
    assert (response.json()["assignee"], response.json()["assigned_at"]) == (None, None)


def test_without_credentials_is_401(api, it_step):
    assert take(api, it_step).status_code == 401
    assert assign(api, it_step, "irene").status_code == 401
    assert release(api, it_step).status_code == 401


@pytest.mark.parametrize(
    "to, message",
    [
        ("nobody-here", "Nobody has the username “nobody-here”."),
        ("rita", "filed this request: the requester never decides its steps."),
        ("paul", "cannot decide this step: it is for IT review."),
        ("", "This field may not be null."),
    ],
)
def test_handing_to_an_unknown_or_ineligible_person_is_400(api, it_step, ivan, to, message):
    payload = {"to": to} if to else {"to": None}
    response = api.as_user(ivan).post(f"/api/steps/{it_step.pk}/assign/", payload, format="json")
    assert response.status_code == 400, response.json()
    assert message in response.json()["to"][0]


def test_a_caller_who_may_not_decide_is_403(api, it_step, ivan, requester, procurement):
    assert take(api.as_user(procurement), it_step).status_code == 403
    assert assign(api.as_user(procurement), it_step, "ivan").status_code == 403
    # The requester sees their request's steps, and may not take them.
    response = take(api.as_user(requester), it_step)
    assert response.status_code == 403
    assert "Only a reviewer who may decide this step takes it." in response.json()["detail"]
    services.take_step(it_step, by=ivan)
    assert release(api.as_user(procurement), it_step).status_code == 403


def test_a_step_the_caller_cannot_see_is_404(api, it_step, other_requester):
    assert take(api.as_user(other_requester), it_step).status_code == 404
    assert assign(api.as_user(other_requester), it_step, "ivan").status_code == 404
    assert release(api.as_user(other_requester), it_step).status_code == 404


def test_a_step_held_by_somebody_else_or_closed_is_409(api, it_step, ivan, irene):
    assert take(api.as_user(ivan), it_step).status_code == 200
    response = take(api.as_user(irene), it_step)
    assert response.status_code == 409
    assert "Ivan Novak already took this on" in response.json()["detail"]
    response = assign(api.as_user(irene), it_step, "irene")
    assert response.status_code == 409

    services.decide_step(it_step, by=ivan, decision="approve")
    for response in (
        take(api.as_user(ivan), it_step),
        assign(api.as_user(ivan), it_step, "irene"),
        release(api.as_user(ivan), it_step),
    ):
        assert response.status_code == 409
        assert "This step is already approved by Ivan Novak." in response.json()["detail"]


# Pages


def page_of(client, user, url):
    client.force_login(user)
    return client.get(url, follow=True).content.decode()


def step_panel(page: str, step) -> str:
    start = page.index(f'id="step-{step.pk}"')
    return page[start : page.index('data-side="procurement"', start)]


def test_take_it_hand_it_on_and_release_it_on_the_request_page(
    client, it_step, ivan, irene, requester, procurement, django_capture_on_commit_callbacks
):
    url = it_step.request.get_absolute_url()
    panel = step_panel(page_of(client, ivan, url), it_step)
    assert "I’ll take it" in panel and "Waiting on" in panel
    # "Hand to…" lists who may decide it: the IT reviewers, never the requester or procurement.
    hand_to = panel[panel.index('class="hand-to"') :]
    hand_to = hand_to[: hand_to.index("</details>")]
    assert re.findall(r'<option value="(\d+)">', hand_to) == [str(irene.pk), str(ivan.pk)]
    assert "I’ll take it" not in step_panel(page_of(client, requester, url), it_step)

    client.force_login(ivan)
    page = client.post(f"/approvals/steps/{it_step.pk}/take/", follow=True).content.decode()
    assert "the IT review step is yours now; it shows first in Waiting for me." in page
    panel = step_panel(page, it_step)
    assert "Taken by you" in panel and "I’ll take it" not in panel and "Release" in panel

    # A colleague sees who holds it, may still decide it (in the decision card at the top of
    # the page), and may not take it.
    page = page_of(client, irene, url)
    panel = step_panel(page, it_step)
    assert "Taken by Ivan Novak" in panel
    assert "I’ll take it" not in panel and "Release" not in panel and "Hand to…" not in panel
    assert "Decide in “Your decision” at the top" in panel
    assert f'data-decides="{it_step.pk}"' in page and "Approve" in page

    client.force_login(ivan)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            f"/approvals/steps/{it_step.pk}/assign/", {"to": irene.pk}, follow=True
        ).content.decode()
    assert "the IT review step is handed to Irene Ives; they are told." in page
    assert "Taken by Irene Ives" in step_panel(page, it_step)
    assert in_app(irene).filter(subject__startswith="Ivan Novak handed you").exists()

    client.force_login(irene)
    page = client.post(f"/approvals/steps/{it_step.pk}/release/", follow=True).content.decode()
    assert "the IT review step is open to the whole group again." in page
    assert "Waiting on" in step_panel(page, it_step)


def test_handing_to_somebody_who_may_not_decide_is_refused_with_the_reason(
    client, it_step, ivan, requester
):
    client.force_login(ivan)
    page = client.post(
        f"/approvals/steps/{it_step.pk}/assign/", {"to": requester.pk}, follow=True
    ).content.decode()
    assert f"{requester} filed this request: the requester never decides its steps." in page
    page = client.post(
        f"/approvals/steps/{it_step.pk}/assign/", {"to": ""}, follow=True
    ).content.decode()
    assert "Choose the colleague to hand it to." in page
    it_step.refresh_from_db()
    assert it_step.assignee is None


def test_taking_a_step_held_by_a_colleague_on_the_page_says_who(client, it_step, ivan, irene):
    services.take_step(it_step, by=ivan)
    client.force_login(irene)
    page = client.post(f"/approvals/steps/{it_step.pk}/take/", follow=True).content.decode()
    assert "Ivan Novak already took this on" in page


def test_a_step_the_user_cannot_see_is_404_on_the_page(client, it_step, other_requester):
    client.force_login(other_requester)
    for action in ("take", "release", "assign"):
        assert client.post(f"/approvals/steps/{it_step.pk}/{action}/").status_code == 404


def test_the_request_page_says_whom_a_step_was_held_by_when_a_colleague_decided(
    client, it_step, ivan, irene
):
    services.take_step(it_step, by=ivan)
    services.decide_step(it_step, by=irene, decision="approve")
    panel = step_panel(page_of(client, ivan, it_step.request.get_absolute_url()), it_step)
    assert "Irene Ives approved" in panel and "(Ivan Novak had taken it)" in panel


def test_waiting_for_me_shows_the_steps_one_holds_first(client, submitted, ivan, irene):
    first, second, third = (submitted(title=f"Request {n}") for n in range(3))
    held = third.steps.get(side="it")  # due last, yet first for its holder
    services.take_step(held, by=ivan)

    page = page_of(client, ivan, "/approvals/")
    yours = page[page.index('id="held-by-me"') : page.index('id="waiting-for-me"')]
    assert re.findall(r'<tr data-number="([^"]+)"', yours) == [third.number]
    rest = page[page.index('id="waiting-for-me"') :]
    assert re.findall(r'<tr data-number="([^"]+)"', rest) == [first.number, second.number]

    # A colleague sees the step in its place, with who holds it.
    page = page_of(client, irene, "/approvals/")
    assert 'id="held-by-me"' not in page
    row = re.search(rf'<tr data-number="{third.number}".*?</tr>', page, re.S).group()
    assert re.search(r"data-holder>Ivan Novak<", row)
    row = re.search(rf'<tr data-number="{first.number}".*?</tr>', page, re.S).group()
    assert "Nobody yet" in row

    # "Next in your queue" goes to the step one holds first.
    client.force_login(ivan)
    response = client.get("/approvals/queue/next/", {"seen": f"request:{first.pk}"})
    assert response.url.startswith(third.get_absolute_url())


@pytest.mark.parametrize("size", [3, 12])
def test_waiting_for_me_with_held_steps_runs_a_fixed_number_of_queries(
    client, submitted, ivan, irene, django_assert_max_num_queries, size
):
    for n in range(size):
        step = submitted(title=f"Request {n}").steps.get(side="it")
        services.take_step(step, by=ivan if n % 2 else irene)
    client.force_login(ivan)
    # session, user, notices read, groups, delegations, the steps held, the keyset page, then
    # one each for the rows' requests, requesters, vendors, categories, groups and holders,
    # questions for me, the navigation's count, the bell, whether they own a budget (the
    # menu's Budgets) and the filter's categories
    with django_assert_max_num_queries(18):
        page = client.get("/approvals/").content.decode()
    assert page.count("data-holder>You<") == size // 2
    assert page.count("data-holder>Irene Ives<") == size - size // 2


def test_the_timeline_says_who_took_handed_on_and_released_a_step(client, it_step, ivan, irene):
    services.take_step(it_step, by=ivan)
    services.assign_step(it_step, by=ivan, to=irene)
    services.release_step(it_step, by=irene)
    page = page_of(client, ivan, it_step.request.get_absolute_url())
    timeline = page[page.index('id="timeline"') :]
    labels = re.findall(
        r'<li data-kind="step_(?:taken|assigned|released)">\s*<div class="fw-semibold">([^<]+)<',
        timeline,
    )
    assert labels == [
        "Took the IT review step (stage 1)",
        "IT review step (stage 1) handed to Irene Ives (from Ivan Novak)",
        "Released the IT review step (stage 1), held by Irene Ives",
    ]


def test_the_api_lists_the_requests_one_holds(api, submitted, ivan, irene):
    submitted(title="First")  # waiting for the group, held by nobody
    second = submitted(title="Second")
    services.take_step(second.steps.get(side="it"), by=ivan)
    held = api.as_user(ivan).get("/api/requests/?held=me").json()["results"]
    assert [row["number"] for row in held] == [second.number]
    assert api.as_user(irene).get("/api/requests/?held=me").json()["results"] == []
    assert api.as_user(ivan).get("/api/requests/?held=you").status_code == 400
    # Decided, the step is no longer waiting for its holder.
    services.decide_step(second.steps.get(side="it"), by=ivan, decision="approve")
    assert api.as_user(ivan).get("/api/requests/?held=me").json()["results"] == []


def test_a_step_held_by_somebody_who_left_is_free_to_take(it_step, ivan, irene):
    services.take_step(it_step, by=ivan)
    ivan.is_active = False
    ivan.save()
    services.take_step(it_step, by=irene)
    it_step.refresh_from_db()
    assert it_step.assignee == irene


def test_an_api_token_needs_the_decide_scope_to_take_hand_on_or_release(it_step, ivan):
    def bearer(scopes):
        client = APIClient()
        _, token = create_token(ivan, name=" ".join(scopes), scopes=scopes)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    write = bearer(["read", "write"])
    for response in (
        take(write, it_step),
        assign(write, it_step, "irene"),
        release(write, it_step),
    ):
        assert response.status_code == 403
        assert "'decide' scope" in response.json()["detail"]
    assert take(bearer(["decide"]), it_step).status_code == 200
