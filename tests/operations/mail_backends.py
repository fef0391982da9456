from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class SecondCheckMidSend(LocmemBackend):
    """A mail server that takes its time: while it is sending, a second check runs once (another
    beat, or `manage.py check_alerts` from cron), then the first e-mail is delivered."""

    second_check_mailed = None  # what the second check mailed; None until it ran

    def send_messages(self, messages):
        from operations.alerts import mail_admins

        if type(self).second_check_mailed is None:
            type(self).second_check_mailed = 0
            type(self).second_check_mailed = mail_admins()
        return super().send_messages(messages)


class KilledMidSend(LocmemBackend):
    """The process is killed while the mail server answers (SystemExit is what a SIGTERM
    handler raises): nothing after the send runs."""

    def send_messages(self, messages):
        raise SystemExit("killed")
