"""The load test's people (Locust): 150 requesters filing, commenting, submitting and
resubmitting what came back; 50 reviewers deciding from their `awaiting=me` queue, several
reviewers of one group on the same steps at once (each takes one of the first three, so some
lose the race: 409, which is the right answer, not a failure). Endpoints are named by route,
not by id. Writes every endpoint's figures and status counts to the JSON file LOAD_RESULTS."""

import itertools
import json
import os
import random
import time
from collections import Counter, defaultdict
from datetime import date, timedelta

import gevent
from locust import HttpUser, between, events, task

with open(os.environ["LOAD_DATA"]) as people:
    DATA = json.load(people)
_requesters = itertools.cycle(DATA["requesters"])
_reviewers = itertools.cycle(DATA["reviewers"])
STATUSES: dict[str, Counter] = defaultdict(Counter)
# When each 5xx (or unanswered request) happened: `make chaos` holds each against its faults.
SERVER_ERRORS: list[tuple[float, str, str]] = []
DECISIONS = ("approve",) * 18 + ("reject", "request-changes")


@events.request.add_listener
def _count_status(request_type, name, response, exception, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    STATUSES[f"{request_type} {name}"][str(status)] += 1
    if status == 0 or status >= 500:
        SERVER_ERRORS.append((time.time(), str(status), f"{request_type} {name}"))


@events.quitting.add_listener
def _write_results(environment, **kwargs):
    stats = environment.stats
    rows = []
    for entry in sorted(stats.entries.values(), key=lambda e: (e.name, e.method)):
        key = f"{entry.method} {entry.name}"
        rows.append(
            {
                "endpoint": key,
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50": entry.get_response_time_percentile(0.5),
                "p95": entry.get_response_time_percentile(0.95),
                "rps": entry.total_rps,
                "statuses": dict(STATUSES.get(key, {})),
            }
        )
    total = stats.total
    summary = {
        "endpoints": rows,
        "total": {
            "requests": total.num_requests,
            "failures": total.num_failures,
            "p50": total.get_response_time_percentile(0.5),
            "p95": total.get_response_time_percentile(0.95),
            "rps": total.total_rps,
            "seconds": total.last_request_timestamp - total.start_time
            if total.last_request_timestamp
            else 0,
        },
        "server_errors": sum(
            count
            for counter in STATUSES.values()
            for status, count in counter.items()
            if status == "0" or status.startswith("5")
        ),
        "server_error_times": SERVER_ERRORS,
    }
    with open(os.environ["LOAD_RESULTS"], "w") as out:
        json.dump(summary, out, indent=1)


class Requester(HttpUser):
    weight = 150
    wait_time = between(4, 12)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {next(_requesters)}"
        self.number = 0

    def _payload(self) -> dict:
        self.number += 1
        # Most requests stay under 20,000 (IT and procurement); some reach the CIO and CPO.
        price = random.choice((120, 900, 4_000, 12_000, 26_000))
        return {
            "title": f"Load request {self.number}",
            "description": "Seats for the team.",
            "business_justification": "The team grows.",
            "category": random.choice(DATA["categories"]),
            "department": DATA["department"],
            "needed_by": (date.today() + timedelta(days=30)).isoformat(),
            "vendor": random.choice(DATA["vendors"]),
            "data_classification": "internal",
            "handles_personal_data": False,
            "line_items": [{"description": "Seat", "quantity": "1", "unit_price": str(price)}],
        }

    @task(6)
    def file_comment_submit(self):
        response = self.client.post("/api/requests/", json=self._payload(), name="/api/requests/")
        if response.status_code != 201:
            return
        pk = response.json()["id"]
        gevent.sleep(random.uniform(0.5, 2))
        self.client.post(
            f"/api/requests/{pk}/comments/",
            json={"body": "Quotes attached by mail."},
            name="/api/requests/[id]/comments/",
        )
        gevent.sleep(random.uniform(0.5, 2))
        self.client.post(f"/api/requests/{pk}/submit/", name="/api/requests/[id]/submit/")

    @task(1)
    def resubmit_returned(self):
        response = self.client.get(
            "/api/requests/?mine=true&state=changes_requested",
            name="/api/requests/?mine=true&state=changes_requested",
        )
        if response.status_code != 200 or not response.json()["results"]:
            return
        pk = response.json()["results"][0]["id"]
        self.client.patch(
            f"/api/requests/{pk}/",
            json={"business_justification": "The team grows; the quote is attached."},
            name="/api/requests/[id]/",
        )
        self.client.post(f"/api/requests/{pk}/resubmit/", name="/api/requests/[id]/resubmit/")

    @task(2)
    def look_at_mine(self):
        self.client.get("/api/requests/?mine=true", name="/api/requests/?mine=true")


class Reviewer(HttpUser):
    weight = 50
    wait_time = between(1, 4)

    def on_start(self):
        reviewer = next(_reviewers)
        self.reviewer_group = reviewer["group"]
        self.client.headers["Authorization"] = f"Bearer {reviewer['token']}"

    @task(6)
    def decide_from_queue(self):
        response = self.client.get(
            "/api/requests/?awaiting=me&page_size=10", name="/api/requests/?awaiting=me"
        )
        if response.status_code != 200 or not response.json()["results"]:
            return
        # One of the first three: reviewers of one group meet on the same steps.
        pk = random.choice(response.json()["results"][:3])["id"]
        steps = self.client.get(f"/api/requests/{pk}/steps/", name="/api/requests/[id]/steps/")
        if steps.status_code != 200:
            return
        mine = [
            s["id"]
            for s in steps.json()
            if s["state"] == "open"
            and s["kind"] == "review"  # orders to place are in the queue too; they are not decided
            and s["reviewer_group"] == self.reviewer_group
        ]
        if not mine:
            return
        decision = random.choice(DECISIONS)
        with self.client.post(
            f"/api/steps/{mine[0]}/{decision}/",
            json={"comment": "Load test decision."},
            name=f"/api/steps/[id]/{decision}/",
            catch_response=True,
        ) as answer:
            if answer.status_code == 409:
                answer.success()  # another reviewer of the group decided it first

    @task(1)
    def comment(self):
        response = self.client.get(
            "/api/requests/?awaiting=me&page_size=10", name="/api/requests/?awaiting=me"
        )
        if response.status_code != 200 or not response.json()["results"]:
            return
        pk = random.choice(response.json()["results"])["id"]
        self.client.post(
            f"/api/requests/{pk}/comments/",
            json={"body": "Which licence tier is this?"},
            name="/api/requests/[id]/comments/",
        )
