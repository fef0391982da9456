"""The shared cache's Redis connections (settings.base.redis_cache): a cache that does not
answer is a miss (django-redis's IGNORE_EXCEPTIONS), and after one failed call the process
leaves Redis alone for a while (core.outages): a frozen Redis costs one call's timeout, not one
per cache call of every page."""

import redis
from django_redis.pool import ConnectionFactory

from .outages import Pause

CACHE = Pause("the shared cache (Redis)", seconds=15, fallback="pages are worked out afresh")
FAILURES = (redis.ConnectionError, redis.TimeoutError)


class PausingConnection(redis.Connection):
    def connect(self):
        if CACHE.active():
            raise redis.ConnectionError("the shared cache is left alone after a failure")
        try:
            return super().connect()
        except FAILURES as error:
            CACHE.failed(error)
            raise

    def send_packed_command(self, command, check_health=True):
        if CACHE.active():
            self.disconnect()
            raise redis.ConnectionError("the shared cache is left alone after a failure")
        try:
            return super().send_packed_command(command, check_health)
        except FAILURES as error:
            CACHE.failed(error)
            raise

    def read_response(self, *args, **kwargs):
        try:
            response = super().read_response(*args, **kwargs)
        except FAILURES as error:
            CACHE.failed(error)
            raise
        CACHE.answered()
        return response


class PausingConnectionFactory(ConnectionFactory):
    """django-redis's factory, with connections that pause (plain `redis://` URLs)."""

    def make_connection_params(self, url):
        params = super().make_connection_params(url)
        if url.startswith("redis://"):
            params["connection_class"] = PausingConnection
        return params
