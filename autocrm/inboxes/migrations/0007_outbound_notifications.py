"""Customer notifications (ticket received, ticket solved) become outbound mail too.

An outbound email so far was always an agent's reply: now it has a ``kind``, names its
ticket directly, and its message is only there for a reply. Existing rows are replies: the
backfill gives each the ticket of its message (one UPDATE joined on the primary key, as
the owner role that bypasses row-level security) before the column turns NOT NULL.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_tenant_config_stamp"),
        ("inboxes", "0006_notification_template"),
        ("tickets", "0013_attachment_pending"),
    ]

    operations = [
        migrations.AddField(
            model_name="inboundemail",
            name="no_auto_reply",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="outboundemail",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="outboundemail",
            name="kind",
            field=models.CharField(
                choices=[
                    ("reply", "Agent reply"),
                    ("ticket_received", "Ticket received"),
                    ("ticket_solved", "Ticket solved"),
                ],
                default="reply",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="outboundemail",
            name="ticket",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tickets.ticket",
            ),
        ),
        migrations.RunSQL(
            """
            UPDATE inboxes_outboundemail AS o SET ticket_id = m.ticket_id
            FROM tickets_message AS m
            WHERE m.id = o.message_id AND o.ticket_id IS NULL
            """,
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="outboundemail",
            name="ticket",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tickets.ticket"
            ),
        ),
        migrations.AlterField(
            model_name="outboundemail",
            name="message",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="outbound_email",
                to="tickets.message",
            ),
        ),
        migrations.AddIndex(
            model_name="outboundemail",
            index=models.Index(fields=["tenant", "ticket"], name="inboxes_outbound_ticket"),
        ),
        migrations.AddIndex(
            model_name="outboundemail",
            index=models.Index(
                fields=["tenant", "kind", "created_at"], name="inboxes_outbound_kind"
            ),
        ),
        migrations.AddConstraint(
            model_name="outboundemail",
            constraint=models.UniqueConstraint(
                condition=models.Q(("idempotency_key", ""), _negated=True),
                fields=("tenant", "idempotency_key"),
                name="inboxes_outbound_key_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="outboundemail",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "reply"), _negated=True),
                    ("message__isnull", False),
                    _connector="OR",
                ),
                name="inboxes_outbound_reply_has_message",
            ),
        ),
    ]
