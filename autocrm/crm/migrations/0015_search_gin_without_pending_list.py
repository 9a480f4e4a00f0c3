"""The GIN indexes contact search reads take new entries at once (ADR 0048, "Pending lists").

With GIN's default ``fastupdate``, inserted rows' entries wait in an unsorted pending list
(up to ``gin_pending_list_limit``, 4 MB) until a vacuum or a full list merges them, and every
scan reads the whole list for every key it looks up. After an import of 100,000 contacts the
bench database held 196 pending pages on ``crm_contact_search_words``: looking up the ten
candidate words of a surname prefix took 40 ms instead of 0.5 ms, and the 24 pending pages
of ``crm_company_name_trgm`` made the company part of a search 55-65 ms instead of 4. Search
speed then depended on when autovacuum last ran. Without the list an insert updates the
index itself: no measurable change to inserting 20,000 contacts into the 1,000,000
(6-8 s either way on the shared machine). The lists are merged here once, as a vacuum would.

State: the same indexes with ``fastupdate=False``; the database: ``ALTER INDEX`` (no rebuild
of a million rows' index).
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

INDEXES = ("crm_contact_search_words", "crm_company_name_trgm", "crm_contactword_trgm")

FORWARD = "\n".join(
    f"ALTER INDEX {name} SET (fastupdate = off);\n"
    f"SELECT gin_clean_pending_list('{name}'::regclass);"
    for name in INDEXES
)
REVERSE = "\n".join(f"ALTER INDEX {name} RESET (fastupdate);" for name in INDEXES)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0014_contact_search_narrower"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, REVERSE)],
            state_operations=[
                migrations.RemoveIndex(model_name="company", name="crm_company_name_trgm"),
                migrations.RemoveIndex(model_name="contact", name="crm_contact_search_words"),
                migrations.RemoveIndex(model_name="contactword", name="crm_contactword_trgm"),
                migrations.AddIndex(
                    model_name="company",
                    index=GinIndex(
                        fastupdate=False,
                        fields=["name"],
                        name="crm_company_name_trgm",
                        opclasses=["gin_trgm_ops"],
                    ),
                ),
                migrations.AddIndex(
                    model_name="contact",
                    index=GinIndex(
                        fastupdate=False, fields=["search_words"], name="crm_contact_search_words"
                    ),
                ),
                migrations.AddIndex(
                    model_name="contactword",
                    index=GinIndex(
                        fastupdate=False,
                        fields=["word"],
                        name="crm_contactword_trgm",
                        opclasses=["gin_trgm_ops"],
                    ),
                ),
            ],
        ),
    ]
