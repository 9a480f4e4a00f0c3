"""Tags are defined by being used (services.changes.tags_register): define the tags that
tickets already carry, so GET /tags lists every tag in use."""

from django.db import migrations

# As the owner role (BYPASSRLS): every tenant at once; a tag a tenant already defined stays.
DEFINE_TAGS_IN_USE = """
INSERT INTO tickets_tag (tenant_id, name, color, created_at)
SELECT DISTINCT t.tenant_id, tag.name, '', now()
FROM tickets_ticket t, unnest(t.tags) AS tag(name)
WHERE tag.name = lower(tag.name)
ON CONFLICT DO NOTHING
"""


class Migration(migrations.Migration):
    dependencies = [("tickets", "0009_clear_unrepresentable_due_at")]

    operations = [migrations.RunSQL(DEFINE_TAGS_IN_USE, migrations.RunSQL.noop)]
