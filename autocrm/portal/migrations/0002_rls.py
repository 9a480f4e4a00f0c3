from django.db import migrations

from autocrm.core import rls


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [rls.enable("portal_satisfactionsurvey")]
