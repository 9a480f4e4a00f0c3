from django.db import migrations

from autocrm.core import rls


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        rls.enable("core_event"),
        rls.enable("core_eventhandling"),
        # Shared cache table (rate limits, login throttling): created here, as the owner, so
        # the runtime role gets its privileges through the default privileges.
        migrations.RunSQL(
            """
            CREATE TABLE IF NOT EXISTS core_cache (
                cache_key varchar(255) NOT NULL PRIMARY KEY,
                value text NOT NULL,
                expires timestamp with time zone NOT NULL
            );
            CREATE INDEX IF NOT EXISTS core_cache_expires ON core_cache (expires);
            """,
            "DROP TABLE IF EXISTS core_cache;",
        ),
    ]
