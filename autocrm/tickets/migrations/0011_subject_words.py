"""The subject vocabulary of typo-tolerant search (ADR 0007), kept by triggers.

Inserts (one statement, COPY included) add the new tickets' subject words; an update that
changes a subject adds its words. The words of a subject are what the 'simple' text-search
configuration makes of it (lowercase tokens), letters only, 3-40 of them. Existing tickets
are read once here."""

import django.contrib.postgres.indexes
import django.db.models.deletion
from django.db import migrations, models

from autocrm.core import rls


WORDS_SQL = """
CREATE FUNCTION autocrm_subject_words(p_subject text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT w FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, p_subject))) w
    WHERE w ~ '^[[:alpha:]]{3,40}$'
$$;

CREATE FUNCTION autocrm_subject_words_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tickets_subjectword (tenant_id, word)
    SELECT DISTINCT n.tenant_id, w FROM new_rows n, autocrm_subject_words(n.subject) w
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION autocrm_subject_words_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tickets_subjectword (tenant_id, word)
    SELECT NEW.tenant_id, w FROM autocrm_subject_words(NEW.subject) w
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER tickets_ticket_subject_words_insert AFTER INSERT ON tickets_ticket
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION autocrm_subject_words_inserted();
CREATE TRIGGER tickets_ticket_subject_words_update AFTER UPDATE OF subject ON tickets_ticket
    FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject)
    EXECUTE FUNCTION autocrm_subject_words_changed();

INSERT INTO tickets_subjectword (tenant_id, word)
SELECT DISTINCT t.tenant_id, w FROM tickets_ticket t, autocrm_subject_words(t.subject) w
ON CONFLICT DO NOTHING;
ANALYZE tickets_subjectword;
"""

WORDS_REVERSE = """
DROP TRIGGER IF EXISTS tickets_ticket_subject_words_insert ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_ticket_subject_words_update ON tickets_ticket;
DROP FUNCTION IF EXISTS autocrm_subject_words_inserted();
DROP FUNCTION IF EXISTS autocrm_subject_words_changed();
DROP FUNCTION IF EXISTS autocrm_subject_words(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_tenant_config_stamp"),
        ("tickets", "0010_tags_in_use"),
    ]

    operations = [
        migrations.CreateModel(
            name="SubjectWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("word", models.CharField(max_length=40)),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
            ],
            options={
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(
                        fields=["word"], name="tickets_subjectword_trgm", opclasses=["gin_trgm_ops"]
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant", "word"), name="tickets_subjectword_once"
                    )
                ],
            },
        ),
        rls.enable("tickets_subjectword"),
        migrations.RunSQL(WORDS_SQL, WORDS_REVERSE),
    ]
