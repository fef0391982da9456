"""Floor views: the least any implementation of the same page could cost."""

import json

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse

from accounts.models import ApiToken
from accounts.tokens import digest_of

RAW_AWAITING = """
SELECT r.id, r.number, r.title, r.state, r.total_cost, r.currency, s.due_at
FROM approvals_approvalstep s
JOIN intake_purchaserequest r ON r.id = s.request_id
WHERE s.state = 'open'
  AND s.group_id IN (SELECT group_id FROM accounts_user_groups WHERE user_id = %s)
  AND r.requester_id <> %s
ORDER BY s.due_at, s.id
LIMIT 25
"""


# Both answer the token themselves: without login_not_required the site's sign-in wall answers
# them with a redirect, and the floor would time that instead.
@login_not_required
def bare(request):
    """A Django view that does nothing: the framework's own cost."""
    return HttpResponse(b"{}", content_type="application/json")


@login_not_required
def raw_awaiting(request):
    """The same rows as `GET /api/requests/?awaiting=me`, through a cursor, serialised to JSON."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    user_id = ApiToken.objects.filter(digest=digest_of(token)).values_list("user_id", flat=True)[0]
    with connection.cursor() as cursor:
        cursor.execute(RAW_AWAITING, [user_id, user_id])
        columns = [c.name for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return HttpResponse(json.dumps(rows, default=str), content_type="application/json")
