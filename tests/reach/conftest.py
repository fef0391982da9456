import pytest

from approvals import workflow
from approvals.models import ApprovalStep
from reach import services
from reach.models import TokenKind
from tests.factories import PurchaseRequestFactory


@pytest.fixture(autouse=True)
def _group_items_at_once(group_items_at_once):
    """The reach tests are about the e-mails and Slack messages of group steps: their reviewers
    hear of them at once here (by default they come in the daily digest)."""


@pytest.fixture
def submitted(requester):
    """Submits a complete request (baseline routing: an IT and a procurement step, open)."""

    def submit(**fields):
        purchase_request = PurchaseRequestFactory(requester=requester, **fields)
        return workflow.submit_request(purchase_request, by=requester)

    return submit


@pytest.fixture
def it_step(submitted, it_reviewer, procurement) -> ApprovalStep:
    return submitted().steps.get(side="it", round=1)


@pytest.fixture
def link_for():
    """A personal decision link (its path) for `user` on `step`, as an e-mail carries it."""

    def link_for(user, step) -> str:
        return f"/decide/{services.issue_token(user, step, TokenKind.LINK)}/"

    return link_for
