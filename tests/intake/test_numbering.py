import re
import threading

import pytest
from django.db import connection
from django.utils import timezone

from intake import services
from intake.models import PurchaseRequest
from tests.factories import UserFactory


@pytest.mark.django_db
def test_numbers_are_sequential_per_year(requester):
    first = services.create_request(by=requester, fields={"title": "One"})
    second = services.create_request(by=requester, fields={"title": "Two"})
    year = timezone.now().year
    assert re.fullmatch(rf"PR-{year}-\d{{5}}", first.number)
    assert int(second.number[-5:]) == int(first.number[-5:]) + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_numbers_stay_unique_when_requests_are_created_at_the_same_moment():
    users = [UserFactory(username=f"parallel{i}") for i in range(8)]
    start = threading.Barrier(len(users))
    errors = []

    def file_request(user):
        try:
            start.wait()
            for n in range(5):
                services.create_request(by=user, fields={"title": f"Parallel {n}"})
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=file_request, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = list(PurchaseRequest.objects.values_list("number", flat=True))
    assert len(numbers) == 40
    assert len(set(numbers)) == 40
