from django.db import migrations

from autocrm.core import rls


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [
        rls.enable("knowledge_category"),
        rls.enable("knowledge_section"),
        rls.enable("knowledge_article"),
        rls.enable("knowledge_articleversion"),
        rls.enable("knowledge_articlevote"),
        rls.enable("knowledge_upload"),
        rls.enable("knowledge_searchlog"),
    ]
