"""Where an upper layer extends delivery without this app importing it (the layers contract):
an app registers its functions once, from its AppConfig.ready.

- `email`: called with (notification, message) just before an e-mail is sent; may add to the
  message (the reach app adds a reviewer's personal decision link and reply-to address);
- `senders`: channel -> send(notification), for channels delivered by an upper layer (Slack);
- `settled`: called with (topics, note) when `mark_done` settles topics, in the settling
  transaction: an upper layer updates its own messages about them (the reach app replaces the
  buttons of Slack messages with the note, after the commit)."""

from collections.abc import Callable

email_hooks: list[Callable] = []
senders: dict[str, Callable] = {}
settled_hooks: list[Callable] = []


def register(
    *,
    email: Callable | None = None,
    channel_senders: dict | None = None,
    settled: Callable | None = None,
) -> None:
    if email and email not in email_hooks:
        email_hooks.append(email)
    if settled and settled not in settled_hooks:
        settled_hooks.append(settled)
    senders.update(channel_senders or {})
