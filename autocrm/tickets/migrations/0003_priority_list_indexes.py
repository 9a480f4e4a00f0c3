"""Priority-sorted lists without a team filter (all tickets; all teams' open tickets, the
API's ``?status=open``): see docs/tickets-performance.md for the EXPLAIN before and after."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_rls")]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                models.F("tenant"),
                models.OrderBy(models.F("priority"), descending=True),
                models.OrderBy(models.F("updated_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="tickets_ticket_prio",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                models.F("tenant"),
                models.F("status"),
                models.OrderBy(models.F("priority"), descending=True),
                models.OrderBy(models.F("updated_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="tickets_ticket_status_prio",
            ),
        ),
    ]
