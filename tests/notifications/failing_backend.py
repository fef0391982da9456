from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server unreachable")


class CountingBackend(BaseEmailBackend):
    """A mail server that counts the connections opened to it and refuses one address."""

    opened = 0
    sent: list = []
    REFUSED = "refused@example.com"

    def open(self):
        type(self).opened += 1
        return True

    def send_messages(self, email_messages):
        for message in email_messages:
            if self.REFUSED in message.to:
                raise ConnectionRefusedError(f"mailbox {self.REFUSED} unavailable")
            type(self).sent.append(message)
        return len(email_messages)
