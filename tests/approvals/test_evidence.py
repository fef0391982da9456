"""Evidence packets (issue 18): a ZIP per request, downloadable by whoever may see the request,
that `python -m tandem_verify` verifies offline; any change to an audit row is detected."""

import base64
import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from accounts.models import Delegation
from approvals import workflow
from approvals.services import decide_step
from audit import sealer
from audit import services as audit_services
from audit.signing import generate_key, raw_public_key
from intake import services
from tandem_verify.packet import verify
from tests.factories import PurchaseRequestFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
ROOT = Path(django_settings.BASE_DIR)


@pytest.fixture
def signing_key(settings):
    private, public = generate_key()
    settings.TANDEM_AUDIT_SIGNING_KEY = private
    return public


@pytest.fixture
def ordered(requester, it_reviewer, other_requester, procurement, signing_key):
    """A request with a quote, approved by IT through a delegate and by procurement, ordered;
    then the day's signed checkpoint."""
    purchase_request = PurchaseRequestFactory(requester=requester)
    services.add_attachment(
        purchase_request, by=requester, uploaded_file=SimpleUploadedFile("quote.pdf", PDF)
    )
    services.add_comment(purchase_request, by=requester, body="Urgent: the trial ends Friday.")
    purchase_request = workflow.submit_request(purchase_request, by=requester)
    now = timezone.now()
    Delegation.objects.create(
        delegator=it_reviewer,
        delegate=other_requester,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
    )
    for step in purchase_request.steps.filter(stage=1):
        by = other_requester if step.side == "it" else procurement
        decide_step(step, by=by, decision="approve", comment=f"fine by {by.username}")
    purchase_request.refresh_from_db()
    workflow.mark_ordered(
        purchase_request, by=procurement, po_number="PO-7781", ordered_on=timezone.localdate()
    )
    audit_services.create_checkpoint()
    purchase_request.refresh_from_db()
    return purchase_request


def packet_of(response) -> dict:
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == ["README.txt", "packet.html", "packet.json"]
        return json.loads(archive.read("packet.json"))


def run_verifier(tmp_path, content: bytes, *args):
    """The verifier as an auditor runs it: its own process, only the tandem_verify folder on
    the path, no Django settings."""
    path = tmp_path / "packet.zip"
    path.write_bytes(content)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    isolated = tmp_path / "auditor"
    isolated.mkdir(exist_ok=True)
    (isolated / "tandem_verify").exists() or (isolated / "tandem_verify").symlink_to(
        ROOT / "tandem_verify"
    )
    environment["PYTHONPATH"] = str(isolated)
    return subprocess.run(
        [sys.executable, "-m", "tandem_verify", str(path), *args],
        capture_output=True,
        text=True,
        cwd=isolated,
        env=environment,
        timeout=60,
    )


def test_the_packet_holds_request_steps_decisions_attachments_events_and_checkpoint(
    client, ordered, requester, it_reviewer, other_requester
):
    client.force_login(requester)
    response = client.get(f"/approvals/requests/{ordered.pk}/evidence.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f"evidence-{ordered.number}.zip" in response["Content-Disposition"]
    packet = packet_of(response)
    assert packet["request"]["number"] == ordered.number
    assert packet["request"]["state"] == "ordered" and packet["request"]["po_number"] == "PO-7781"
    assert [item["description"] for item in packet["line_items"]] == ["Seat"]
    it_step = next(s for s in packet["steps"] if s["side"] == "it")
    assert (it_step["decided_by"], it_step["on_behalf_of"]) == (other_requester.pk, it_reviewer.pk)
    assert packet["people"][str(it_reviewer.pk)]["username"] == "ivan"
    import hashlib

    assert packet["attachments"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    kinds = [e["record"]["kind"] for e in packet["events"]]
    assert (
        kinds[0] == "attachment_added" and "step_approve" in kinds and kinds[-1] == "mark_ordered"
    )
    assert all(len(e["hash"]) == 64 for e in packet["events"])
    assert packet["checkpoint"]["sequence"] == packet["chain"]["links"][-1][0]
    assert verify(packet).ok


def test_the_verifier_runs_offline_and_verifies_the_packet(client, ordered, requester, tmp_path):
    client.force_login(requester)
    content = client.get(f"/approvals/requests/{ordered.pk}/evidence.zip").content
    packet = json.loads(zipfile.ZipFile(io.BytesIO(content)).read("packet.json"))
    result = run_verifier(tmp_path, content, "--public-key", packet["checkpoint"]["public_key"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"VERIFIED: evidence packet of {ordered.number} is intact." in result.stdout
    assert "covered by the checkpoint" in result.stdout


def test_the_verifier_imports_no_django(tmp_path):
    probe = (
        "import sys, tandem_verify.__main__, tandem_verify.packet; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'audit', 'intake')))"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    environment["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=environment, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def tampered(content: bytes, change) -> bytes:
    """The packet with packet.json changed by `change(packet)`."""
    source = zipfile.ZipFile(io.BytesIO(content))
    packet = json.loads(source.read("packet.json"))
    change(packet)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in source.namelist():
            data = json.dumps(packet) if name == "packet.json" else source.read(name)
            archive.writestr(name, data)
    return buffer.getvalue()


def _edit_comment(packet):
    event = next(e for e in packet["events"] if e["record"]["kind"] == "step_approve")
    event["record"]["payload"]["comment"] = "forged"


def _edit_step(packet):
    review = next(step for step in packet["steps"] if step["kind"] == "review")
    review["comment"] = "forged"


def _drop_event(packet):
    del packet["events"][1]
    del packet["chain"]["links"][1]


def _edit_state(packet):
    packet["request"]["state"] = "approved"


def _edit_attachment(packet):
    packet["attachments"][0]["sha256"] = "0" * 64


def _forge_checkpoint(packet):
    packet["checkpoint"]["head_hash"] = "f" * 64


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_edit_comment, "was changed"),
        (_edit_step, "differs from the one recorded"),
        (_drop_event, "events are missing"),
        (_edit_state, "last recorded transition"),
        (_edit_attachment, "differs from the one recorded when it was added"),
        (_forge_checkpoint, "signature of the checkpoint"),
    ],
)
def test_a_tampered_packet_is_refused(client, ordered, requester, tmp_path, change, said):
    client.force_login(requester)
    content = client.get(f"/approvals/requests/{ordered.pk}/evidence.zip").content
    result = run_verifier(tmp_path, tampered(content, change))
    assert result.returncode == 1, result.stdout
    assert "NOT VERIFIED" in result.stdout and said in result.stdout


# Completeness (issue 27 item 13): a packet proves it holds every event of its request, in
# order, or the verifier says what is wrong. The attacker here holds the packet file (and other
# requests' packets), not Tandem's signing key.


@pytest.fixture
def interleaved(ordered, requester, other_requester):
    """`ordered`, then another request's event among its own, after the day's checkpoint:
    (this request's packet, the other request's packet), as downloaded."""
    other = PurchaseRequestFactory(requester=other_requester)
    services.add_comment(other, by=other_requester, body="unrelated")
    services.add_comment(ordered, by=requester, body="After the checkpoint.")
    from approvals.evidence import build_packet

    return build_packet(ordered), build_packet(other)


def _packet(content: bytes) -> dict:
    return json.loads(zipfile.ZipFile(io.BytesIO(content)).read("packet.json"))


def _index_of(packet, kind):
    return next(i for i, e in enumerate(packet["events"]) if e["record"]["kind"] == kind)


def _drop_event_keep_link(packet, other):
    del packet["events"][_index_of(packet, "step_approve")]


def _drop_event_and_link(packet, other):
    sequence = packet["events"].pop(_index_of(packet, "step_approve"))["record"]["sequence"]
    packet["chain"]["links"] = [link for link in packet["chain"]["links"] if link[0] != sequence]


def _drop_first_event(packet, other):
    first = packet["events"].pop(0)
    packet["chain"]["prev_hash"] = first["hash"]
    packet["chain"]["links"].pop(0)


def _drop_last_event_keep_links(packet, other):
    packet["events"].pop()


def _cut_the_tail(packet, other):
    """The last event and every link from it on, the head moved back to match."""
    last = packet["events"].pop()["record"]["sequence"]
    links = [link for link in packet["chain"]["links"] if link[0] < last]
    packet["chain"]["links"] = links
    packet["chain"]["head"] = {"sequence": links[-1][0], "hash": links[-1][2]}


def _cut_the_tail_leave_the_head(packet, other):
    last = packet["events"].pop()["record"]["sequence"]
    packet["chain"]["links"] = [link for link in packet["chain"]["links"] if link[0] < last]


def _reorder(packet, other):
    events = packet["events"]
    events[1], events[2] = events[2], events[1]


def _swap_in_another_requests_event(packet, other):
    packet["events"][_index_of(packet, "commented")] = other["events"][0]


def _another_requests_event_renamed(packet, other):
    stranger = other["events"][0]
    stranger["record"]["object_id"] = packet["request"]["id"]
    packet["events"][_index_of(packet, "commented")] = stranger


def _edit_an_event(packet, other):
    _edit_comment(packet)


def _edit_the_title(packet, other):
    packet["request"]["title"] = "Something else entirely"


def _forge_the_checkpoint(packet, other):
    _forge_checkpoint(packet)


def _resign_the_checkpoint(packet, other):
    """A checkpoint of a rewritten chain, signed with the attacker's own key."""
    from tandem_verify.chain import checkpoint_message

    private = Ed25519PrivateKey.generate()
    checkpoint = packet["checkpoint"]
    checkpoint["head_hash"] = "e" * 64
    checkpoint["signature"] = base64.b64encode(
        private.sign(checkpoint_message(checkpoint))
    ).decode()
    checkpoint["public_key"] = base64.b64encode(raw_public_key(private)).decode()


def _remove_the_signature(packet, other):
    packet["attestation"] = None


def _downgrade_to_format_1(packet, other):
    """What an older packet looked like: no signature, links without subject tags."""
    packet["format"] = "tandem-evidence-packet/1"
    del packet["attestation"]
    packet["chain"]["links"] = [link[:3] for link in packet["chain"]["links"]]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_drop_event_keep_link, "is missing from the packet: its chain link names"),
        (_drop_event_and_link, "events are missing"),
        (_drop_first_event, "the request's first event is missing"),
        (_drop_last_event_keep_links, "is missing from the packet: its chain link names"),
        (_cut_the_tail, "Tandem's signature over the packet does not match its contents"),
        (_cut_the_tail_leave_the_head, "links were cut off"),
        (_reorder, "the events are not in chain order"),
        (_swap_in_another_requests_event, "an event of another subject was put in"),
        (_another_requests_event_renamed, "the event was changed"),
        (_edit_an_event, "the event was changed"),
        (_edit_the_title, "Tandem's signature over the packet does not match its contents"),
        (_forge_the_checkpoint, "signature of the checkpoint"),
        (_resign_the_checkpoint, "differs from the signed checkpoint of"),
        (_remove_the_signature, "the packet is not signed by Tandem"),
        (_downgrade_to_format_1, "older format tandem-evidence-packet/1"),
    ],
)
def test_every_way_of_tampering_with_a_packet_is_named(tmp_path, interleaved, change, said):
    content, other = interleaved
    result = run_verifier(
        tmp_path, tampered(content, lambda packet: change(packet, _packet(other)))
    )
    assert result.returncode == 1, result.stdout
    assert "NOT VERIFIED" in result.stdout
    assert said in result.stdout, result.stdout


def test_a_packet_with_events_after_the_checkpoint_verifies_intact(tmp_path, interleaved):
    content, _ = interleaved
    packet = _packet(content)
    assert packet["chain"]["head"]["sequence"] > packet["checkpoint"]["sequence"]
    result = run_verifier(tmp_path, content, "--public-key", packet["attestation"]["public_key"])
    assert result.returncode == 0, result.stdout
    assert "is intact" in result.stdout
    assert "every link that names" in result.stdout
    assert "attested by the packet's signature" in result.stdout


def test_a_packet_made_with_another_key_fails_against_the_pinned_one(tmp_path, interleaved):
    """Whoever holds a key of their own can sign a whole packet and checkpoint consistently;
    pinning Tandem's public key (from the admins' checkpoint e-mails) is what refuses it."""
    from tandem_verify.chain import checkpoint_message, packet_message

    content, _ = interleaved
    genuine = _packet(content)["attestation"]["public_key"]
    private = Ed25519PrivateKey.generate()
    public = base64.b64encode(raw_public_key(private)).decode()

    def forge(packet):
        packet["request"]["title"] = "Forged"
        checkpoint = packet["checkpoint"]
        checkpoint["signature"] = base64.b64encode(
            private.sign(checkpoint_message(checkpoint))
        ).decode()
        checkpoint["public_key"] = public
        packet["attestation"]["public_key"] = public
        packet["attestation"]["signature"] = base64.b64encode(
            private.sign(packet_message(packet))
        ).decode()

    forged = tampered(content, forge)
    assert "was not pinned" in run_verifier(tmp_path, forged).stdout
    result = run_verifier(tmp_path, forged, "--public-key", genuine)
    assert result.returncode == 1
    assert "the packet was signed with another key than the one given" in result.stdout


def test_another_signing_key_is_refused(client, ordered, requester, tmp_path):
    client.force_login(requester)
    content = client.get(f"/approvals/requests/{ordered.pk}/evidence.zip").content
    result = run_verifier(tmp_path, content, "--public-key", generate_key()[1])
    assert result.returncode == 1 and "signed with another key" in result.stdout


def test_not_a_packet_is_reported(tmp_path):
    result = run_verifier(tmp_path, b"not a zip")
    assert result.returncode == 2 and "CANNOT READ" in result.stderr


def _disable_triggers(cursor):
    if connection.vendor == "postgresql":
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")


def _enable_triggers(cursor):
    if connection.vendor == "postgresql":
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


@pytest.mark.parametrize("whose", ["this request's", "another request's"])
def test_an_audit_row_changed_in_the_database_fails_the_packet(
    client, ordered, requester, tmp_path, whose
):
    """Changing any audit row, of this request or of another one in its chain segment, is
    caught by the offline verifier."""
    other = PurchaseRequestFactory(requester=requester)
    services.add_comment(other, by=requester, body="unrelated")
    services.add_comment(ordered, by=requester, body="after the other")
    sealer.seal_pending()  # what the task does seconds after the commit
    from audit.models import AuditEvent

    target = (
        AuditEvent.objects.for_object(ordered).filter(kind="step_approve").first()
        if whose == "this request's"
        else AuditEvent.objects.for_object(other).get(kind="commented")
    )
    with connection.cursor() as cursor:
        _disable_triggers(cursor)
        cursor.execute(
            "UPDATE audit_auditevent SET payload = %s WHERE id = %s",
            ['{"comment": "forged", "body": "forged"}', target.pk],
        )
        _enable_triggers(cursor)
    client.force_login(requester)
    content = client.get(f"/approvals/requests/{ordered.pk}/evidence.zip").content
    result = run_verifier(tmp_path, content)
    assert result.returncode == 1, result.stdout
    assert "NOT VERIFIED" in result.stdout


def test_the_api_serves_the_packet_with_the_requests_visibility(
    api, ordered, requester, other_requester, cio
):
    url = f"/api/requests/{ordered.pk}/evidence/"
    assert api.get(url).status_code == 401
    response = api.as_user(requester).get(url, HTTP_ACCEPT="application/zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert verify(packet_of(response)).ok
    assert api.as_user(cio).get(url).status_code == 200  # leaders see every request
    stranger = PurchaseRequestFactory().requester
    assert api.as_user(stranger).get(url).status_code == 404
    assert api.as_user(requester).get("/api/requests/999999/evidence/").status_code == 404


def test_the_page_hides_other_peoples_requests(client, ordered, django_user_model):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="stranger"))
    assert client.get(f"/approvals/requests/{ordered.pk}/evidence.zip").status_code == 404
    client.logout()
    response = client.get(f"/approvals/requests/{ordered.pk}/evidence.zip")
    assert response.status_code == 302  # to sign in


def test_the_request_page_offers_the_packet(client, ordered, requester):
    client.force_login(requester)
    page = client.get(f"/requests/{ordered.pk}/").content.decode()
    assert f'href="/approvals/requests/{ordered.pk}/evidence.zip"' in page
    assert "Evidence packet" in page


def test_the_readable_packet_names_people(client, ordered, requester, other_requester):
    client.force_login(requester)
    content = client.get(f"/approvals/requests/{ordered.pk}/evidence.zip").content
    html = zipfile.ZipFile(io.BytesIO(content)).read("packet.html").decode()
    assert ordered.number in html and "PO-7781" in html
    assert other_requester.get_full_name() in html
    assert "<script" not in html


def test_the_schema_documents_the_zip(api, admin_user):
    schema = api.as_user(admin_user).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/requests/{request_pk}/evidence/"]["get"]
    assert "application/zip" in operation["responses"]["200"]["content"]
    assert "404" in operation["responses"]


@pytest.fixture
def begun_before_tags(requester, it_reviewer, procurement, signing_key, monkeypatch):
    """A request whose first events were recorded before links named their subject (as on a
    chain that predates migration audit 0007), decided after: its packet, as downloaded."""
    from approvals.evidence import build_packet

    with monkeypatch.context() as before:
        before.setattr(sealer, "subject_tag", lambda key, sequence: "")
        purchase_request = PurchaseRequestFactory(requester=requester)
        services.add_comment(purchase_request, by=requester, body="Before the tags.")
        purchase_request = workflow.submit_request(purchase_request, by=requester)
        sealer.seal_pending()
    for step in purchase_request.steps.filter(stage=1):
        by = it_reviewer if step.side == "it" else procurement
        decide_step(step, by=by, decision="approve")
    audit_services.create_checkpoint()
    return build_packet(purchase_request)


def test_a_request_begun_before_links_named_their_subject_still_verifies(
    tmp_path, begun_before_tags
):
    from audit.chain import verify_chain

    assert verify_chain().intact
    packet = _packet(begun_before_tags)
    tags = [event["subject_tag"] for event in packet["events"]]
    assert tags[0] == "" and tags[-1] != ""
    result = run_verifier(tmp_path, begun_before_tags)
    assert result.returncode == 0, result.stdout
    assert "older chain link(s) name no subject" in result.stdout


@pytest.mark.parametrize(
    ("which", "said"),
    [
        ("older", "Tandem's signature over the packet does not match its contents"),
        ("newer", "is missing from the packet: its chain link names"),
    ],
)
def test_an_event_left_out_is_caught_before_and_after_links_named_their_subject(
    tmp_path, begun_before_tags, which, said
):
    """Before tags only the packet's signature proves the list whole; after, the links do."""

    def leave_out(packet):
        index = next(
            i
            for i, event in enumerate(packet["events"])
            if i > 0 and bool(event["subject_tag"]) == (which == "newer")
        )
        del packet["events"][index]

    result = run_verifier(tmp_path, tampered(begun_before_tags, leave_out))
    assert result.returncode == 1 and said in result.stdout, result.stdout
