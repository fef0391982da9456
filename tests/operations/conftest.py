import pytest
from celery import current_app

from tests.support.private_redis import PrivateRedis


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def broker_at(private_redis):
    """Points this process's Celery app (what /readyz and the metrics ask) at the private
    Redis for the test, and back afterwards."""
    previous = current_app.conf.broker_url
    current_app.conf.broker_url = private_redis.url()
    yield private_redis
    current_app.conf.broker_url = previous
