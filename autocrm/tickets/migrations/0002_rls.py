from django.db import migrations

from autocrm.core import rls


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [
        rls.enable("tickets_ticketcounter"),
        rls.enable("tickets_ticket"),
        rls.enable("tickets_message"),
        rls.enable("tickets_attachment"),
        rls.enable("tickets_tag"),
        rls.enable("tickets_customfield"),
        rls.enable("tickets_ticketview"),
        rls.enable("tickets_macro"),
    ]
