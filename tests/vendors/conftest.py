import pytest

from tests.factories import UserFactory


@pytest.fixture
def finance(db):
    return UserFactory(username="fiona", roles=["finance"])
