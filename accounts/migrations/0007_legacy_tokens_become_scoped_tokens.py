"""DRF's unscoped, never-expiring tokens (`rest_framework.authtoken`, no longer installed) become
scoped, expiring API tokens with the same secret (issue 27, item 14).

Each legacy token of an active person becomes the API token "Converted legacy token": its
secret is the old key, sent as `Authorization: Bearer tdm_<first 8 characters>_<the rest>`; it
may read and write, and decide where its owner is in a reviewer group; it expires in 90 days.
The legacy rows are then deleted: their table kept every key in plain text. `Authorization:
Token …` is answered 401 with a message naming the replacement (accounts.tokens).

The legacy table is read with SQL when it exists (databases made before this change), so the
app need not stay installed; a new database has none and nothing to convert. Going back leaves
the converted tokens: the old keys cannot be written back from their hashes."""

import hashlib
from datetime import timedelta

from django.db import migrations
from django.utils import timezone

LEGACY_TABLE = "authtoken_token"
NAME = "Converted legacy token"
LIFETIME = timedelta(days=90)


def scoped_token_of(key: str) -> str:
    """The legacy key written as a scoped token (the format accounts.tokens makes)."""
    return f"tdm_{key[:8]}_{key[8:]}"


def convert_legacy_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return
    User = apps.get_model("accounts", "User")
    ApiToken = apps.get_model("accounts", "ApiToken")
    # Names from this file, quoted: nothing here comes from outside.
    table = connection.ops.quote_name(LEGACY_TABLE)
    key = connection.ops.quote_name("key")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key}, user_id FROM {table}")  # noqa: S608
        legacy = cursor.fetchall()
    expires_at = timezone.now() + LIFETIME
    for legacy_key, user_id in legacy:
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None or not legacy_key or len(legacy_key) <= 8:
            continue
        token = scoped_token_of(legacy_key)
        digest = hashlib.sha256(token.encode()).hexdigest()
        prefix = legacy_key[:8]
        if ApiToken.objects.filter(prefix=prefix).exists():
            continue  # another token already shows these 8 characters: not converted
        name = NAME
        if ApiToken.objects.filter(user=user, name=name).exists():
            name = f"{NAME} {prefix}"
        scopes = ["read", "write"]
        if user.groups.exists():
            scopes.append("decide")
        ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            digest=digest,
            scopes=scopes,
            expires_at=expires_at,
        )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_time_zone_may_follow_the_team"),
    ]

    operations = [
        migrations.RunPython(convert_legacy_tokens, migrations.RunPython.noop),
    ]
