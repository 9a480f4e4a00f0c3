"""Drop Django's single-column tenant_id indexes of tickets and messages.

Every other index of both tables starts with tenant_id, so these only cost writes (one
more index per insert) and space (~44 MB at 1M tickets / 5M messages). Only the indexes
go: Django's own AlterField would also drop and re-add the foreign keys, re-checking
every row under a lock, for nothing.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_tenant_config_stamp"),
        ("tickets", "0007_assignee_queue_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "tickets_message_tenant_id_4a5cdb8d";',
                    'CREATE INDEX "tickets_message_tenant_id_4a5cdb8d" '
                    'ON "tickets_message" ("tenant_id");',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "tickets_ticket_tenant_id_3a7f5a8a";',
                    'CREATE INDEX "tickets_ticket_tenant_id_3a7f5a8a" '
                    'ON "tickets_ticket" ("tenant_id");',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
            ],
        ),
    ]
