from django.db import migrations

from autocrm.core import rls


class Migration(migrations.Migration):
    dependencies = [("inboxes", "0001_initial")]

    operations = [
        rls.enable("inboxes_inbox"),
        rls.enable("inboxes_inboundemail"),
        rls.enable("inboxes_outboundemail"),
    ]
