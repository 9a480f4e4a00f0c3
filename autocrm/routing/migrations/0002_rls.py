from django.db import migrations

from autocrm.core import rls


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]

    operations = [
        rls.enable("routing_team"),
        rls.enable("routing_teammember"),
    ]
