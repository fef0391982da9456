"""An e-mail backend that counts instead of sending: each message delivered adds one to the
count of its (recipient, subject) in a Redis hash, which the reconciliation compares with the
outbox (a message sent twice, or never, shows there)."""

import os

import redis
from django.core.mail.backends.base import BaseEmailBackend

KEY = "tandem-load:mail"


def client() -> redis.Redis:
    return redis.Redis.from_url(os.environ["LOAD_REDIS_URL"])


def field(recipient: str, subject: str) -> str:
    return f"{recipient}\n{subject}"


class CountingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        connection = client()
        for message in email_messages:
            for recipient in message.to:
                connection.hincrby(KEY, field(recipient, message.subject), 1)
        return len(email_messages)
