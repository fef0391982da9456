"""Shared pieces of the security tests: the roles beyond tests/conftest.py's (finance and two
delegates of the IT reviewer, one inside the delegation window and one outside it), and a
parser that finds inline script in a page."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from accounts import roles
from accounts.models import Delegation
from tests.factories import UserFactory

# tests/factories.py gives every UserFactory user this password.
PASSWORD = "secret-pass-123"


@pytest.fixture
def finance(db):
    return UserFactory(username="fiona", roles=[roles.FINANCE])


def delegate_of(delegator, username: str, *, in_window: bool):
    """A requester with no group of their own who holds `delegator`'s rights: now (in_window),
    or only in a window that ended yesterday and one that starts tomorrow (outside it)."""
    delegate = UserFactory(username=username)
    now = timezone.now()
    windows = (
        [(now - timedelta(days=1), now + timedelta(days=7))]
        if in_window
        else [
            (now - timedelta(days=10), now - timedelta(days=1)),
            (now + timedelta(days=1), now + timedelta(days=10)),
        ]
    )
    for starts_at, ends_at in windows:
        Delegation.objects.create(
            delegator=delegator, delegate=delegate, starts_at=starts_at, ends_at=ends_at
        )
    return delegate


class InlineScriptFinder(HTMLParser):
    """Collects what a Content-Security-Policy without 'unsafe-inline' would refuse: <script>
    elements with a body that the browser runs, event-handler attributes (onclick=...) and
    javascript: URLs. JSON data blocks (<script type="application/json">) are not run."""

    DATA_TYPES = {"application/json", "application/ld+json", "text/template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script: dict | None = None
        self._script_body = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler: {value!r}"[:200])
            if (
                name.lower() in {"href", "src", "action", "formaction"}
                and value
                and value.strip().lower().startswith("javascript:")
            ):
                self.problems.append(f"<{tag} {name}={value!r}> javascript: URL"[:200])
        if tag == "script":
            self._in_script = attributes
            self._script_body = ""

    def handle_data(self, data):
        if self._in_script is not None:
            self._script_body += data

    def handle_endtag(self, tag):
        if tag == "script" and self._in_script is not None:
            attributes, body = self._in_script, self._script_body.strip()
            self._in_script = None
            kind = (attributes.get("type") or "").lower()
            if kind in self.DATA_TYPES:
                return
            if "src" not in attributes or body:
                self.problems.append(f"inline <script>: {body[:120]!r}")


def inline_script_in(html: str) -> list[str]:
    finder = InlineScriptFinder()
    finder.feed(html)
    finder.close()
    return finder.problems
