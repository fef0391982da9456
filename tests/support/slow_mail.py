"""An e-mail backend for the worker-killed test: takes its time, then writes each message to
EMAIL_FILE_PATH, one file per message (so a message sent twice shows as two files)."""

import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            time.sleep(0.4)
            path = Path(settings.EMAIL_FILE_PATH) / f"{uuid.uuid4().hex}.eml"
            path.write_bytes(message.message().as_bytes())
        return len(email_messages)
