"""/api/metrics/: the dashboard's figures for API clients, documented in the schema."""

import pytest

from .test_pages import organisation

pytestmark = pytest.mark.django_db

METRICS = "/api/metrics/"


def test_signed_out_clients_get_401(api):
    assert api.get(METRICS).status_code == 401


def test_requesters_get_403(api, requester):
    response = api.as_user(requester).get(METRICS)
    assert response.status_code == 403
    assert response.json()["detail"] == "Insights are for the CIO, the CPO, admins and reviewers."


@pytest.mark.parametrize(
    "params, field",
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-05-01", "to": "2026-04-30"}, "to"),
        ({"department": "999999"}, "department"),
    ],
)
def test_bad_filters_get_400_naming_the_parameter(api, cio, params, field):
    response = api.as_user(cio).get(METRICS, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_cio_gets_every_figure(api, cio, world, renewals):
    body = api.as_user(cio).get(METRICS).json()
    assert body["filters"] == {"from": None, "to": None, "department": None}
    assert body["scope"] == {"all_sides": True, "sides": ["it", "procurement", "finance"]}
    assert body["base_currency"] == "EUR"
    assert body["cycle_time"] == {"decided": 6, "median_hours": 84.0, "p90_hours": 180.0}
    assert body["decisions"] == {
        "decided": 6,
        "approved": 5,
        "rejected": 1,
        "sent_back": 1,
        "approval_rate": 0.8333,
        "rejection_rate": 0.1667,
        "change_request_rate": 0.1667,
    }
    assert body["open_value"] == {"requests": 2, "total": "6500.00"}
    assert body["sides"][0] == {
        "side": "it",
        "label": "IT",
        "decided": 4,
        "average_hours": 27.0,
        "total_hours": 108.0,
        "opened": 5,
        "breached": 3,
        "breach_rate": 0.6,
    }
    assert body["sla_breaches"] == {"opened": 11, "breached": 4, "rate": 0.3636}
    category = body["spend_per_month"]["category"]
    assert category["months"][0] == "2025-07-01"
    assert category["months"][-1] == "2026-06-01"
    assert category["series"][0]["label"] == "Hardware"
    assert category["series"][0]["values"][-4:] == ["2000.00", "0.00", "3000.00", "0.00"]
    assert category["total"] == "6500.00"
    assert set(body["spend_per_month"]) == {"category", "vendor", "department"}
    assert body["lookahead_days"] == 90
    assert body["renewals"]["count"] == 2
    assert body["renewals"]["items"][1]["title"] == "Ends on the horizon"
    assert body["renewals"]["items"][1]["notice_date"] == "2026-07-15"
    assert [c["kind"] for c in body["certificate_expiries"]["items"]] == ["iso27001", "gdpr_dpa"]


def test_filters_apply(api, cio, world):
    body = (
        api.as_user(cio)
        .get(METRICS, {"department": world.sales.pk, "from": "2026-01-01", "to": "2026-06-30"})
        .json()
    )
    assert body["filters"] == {
        "from": "2026-01-01",
        "to": "2026-06-30",
        "department": world.sales.pk,
    }
    assert body["cycle_time"] == {"decided": 3, "median_hours": 96.0, "p90_hours": 211.2}


def test_a_reviewer_gets_the_figures_of_their_side(api, procurement, world):
    body = api.as_user(procurement).get(METRICS).json()
    assert body["scope"] == {"all_sides": False, "sides": ["procurement"]}
    assert [s["side"] for s in body["sides"]] == ["procurement"]
    assert body["sla_breaches"] == {"opened": 5, "breached": 1, "rate": 0.2}


@pytest.mark.parametrize("size", [2, 30])
def test_a_fixed_number_of_queries(api, cio, now, size, django_assert_max_num_queries):
    organisation(size)
    api.as_user(cio)
    # token and user, groups; requests; percentiles (2, SQLite only); sides; spend (3);
    # renewals (2); certificates (2)
    with django_assert_max_num_queries(13):
        assert api.get(METRICS).status_code == 200


def test_the_schema_documents_metrics_and_exports(api, cio):
    schema = api.as_user(cio).get("/api/schema/?format=json").json()
    metrics = schema["paths"]["/api/metrics/"]["get"]
    assert {p["name"] for p in metrics["parameters"]} == {"from", "to", "department"}
    assert {"200", "400", "401", "403"} <= set(metrics["responses"])
    component = metrics["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    properties = schema["components"]["schemas"][component.rsplit("/", 1)[1]]["properties"]
    assert {"cycle_time", "decisions", "sides", "sla_breaches", "spend_per_month"} <= set(
        properties
    )
    export = schema["paths"]["/api/export/requests.csv"]["get"]
    assert "text/csv" in export["responses"]["200"]["content"]
    assert {"state", "mine", "department", "from", "to"} <= {
        p["name"] for p in export["parameters"]
    }
    assert "/api/export/audit.csv" in schema["paths"]
