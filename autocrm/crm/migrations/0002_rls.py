from django.db import migrations

from autocrm.core import rls


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [
        rls.enable("crm_company"),
        rls.enable("crm_contact"),
    ]
