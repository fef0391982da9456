"""Where an upper layer extends delivery without this app importing it (the layers contract):
an app registers its functions once, from its AppConfig.ready.

- `email`: called with (notification, message) just before an e-mail is sent; may add to the
  message (the reach app adds a reviewer's personal decision link and reply-to address);
- `senders`: channel -> send(notification), for channels delivered by an upper layer (Slack);
- `done`: called with (topics, note) in the transaction that settles notifications of those
  topics (`services.mark_done`)."""

from collections.abc import Callable

email_hooks: list[Callable] = []
senders: dict[str, Callable] = {}
done_hooks: list[Callable] = []


def register(
    *, email: Callable | None = None, channel_senders: dict | None = None, done=None
) -> None:
    if email and email not in email_hooks:
        email_hooks.append(email)
    senders.update(channel_senders or {})
    if done and done not in done_hooks:
        done_hooks.append(done)
