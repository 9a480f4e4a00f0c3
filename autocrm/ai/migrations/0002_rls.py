from django.db import migrations

from autocrm.core import rls


class Migration(migrations.Migration):
    dependencies = [("ai", "0001_initial")]

    operations = [
        rls.enable("ai_aisettings"),
        rls.enable("ai_llmusage"),
        rls.enable("ai_triagemodel"),
        rls.enable("ai_triageresult"),
        rls.enable("ai_chunk"),
        rls.enable("ai_replydraft"),
    ]
