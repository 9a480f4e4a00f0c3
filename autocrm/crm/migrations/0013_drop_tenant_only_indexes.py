"""Drop Django's single-column tenant_id indexes of the crm tables (crm.base.CrmRecord).

Every crm table has indexes starting with tenant_id (its list orders, its unique
constraints), which serve every lookup by tenant: these only cost writes (five more index
entries for each imported contact) and space, and for a tenant the statistics did not know
yet the planner took them to read all of the tenant's rows (crm.services.import_bulk works
around that with ``(SELECT %s)``). Only the indexes go: Django's AlterField would also drop
and re-add the foreign keys, re-checking every row under a lock, for nothing (as tickets'
migration 0008).
"""

import django.db.models.deletion
from django.db import migrations, models

DROP_SQL = """
DROP INDEX IF EXISTS "crm_activity_tenant_id_0e7a8a8c";
DROP INDEX IF EXISTS "crm_activitytemplate_tenant_id_92935bf3";
DROP INDEX IF EXISTS "crm_company_tenant_id_bf0bf0e6";
DROP INDEX IF EXISTS "crm_companydomain_tenant_id_1da50773";
DROP INDEX IF EXISTS "crm_contact_tenant_id_79926372";
DROP INDEX IF EXISTS "crm_contactcompany_tenant_id_b3e79536";
DROP INDEX IF EXISTS "crm_contactemail_tenant_id_fbf00cac";
DROP INDEX IF EXISTS "crm_contactimport_tenant_id_b6750fbe";
DROP INDEX IF EXISTS "crm_contactimportrecord_tenant_id_6094626f";
DROP INDEX IF EXISTS "crm_contactphone_tenant_id_6e357225";
DROP INDEX IF EXISTS "crm_deal_tenant_id_494169fd";
DROP INDEX IF EXISTS "crm_dealassignmentrule_tenant_id_b305bfd6";
DROP INDEX IF EXISTS "crm_pipeline_tenant_id_01c8024f";
DROP INDEX IF EXISTS "crm_scoringmodel_tenant_id_08fbe8c2";
DROP INDEX IF EXISTS "crm_scoringrule_tenant_id_11251586";
DROP INDEX IF EXISTS "crm_segment_tenant_id_9b25414b";
DROP INDEX IF EXISTS "crm_segmentmember_tenant_id_3971b17e";
DROP INDEX IF EXISTS "crm_stage_tenant_id_f98a52ee";
"""

CREATE_SQL = """
CREATE INDEX IF NOT EXISTS "crm_activity_tenant_id_0e7a8a8c" ON "crm_activity" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_activitytemplate_tenant_id_92935bf3" ON "crm_activitytemplate" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_company_tenant_id_bf0bf0e6" ON "crm_company" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_companydomain_tenant_id_1da50773" ON "crm_companydomain" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_contact_tenant_id_79926372" ON "crm_contact" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_contactcompany_tenant_id_b3e79536" ON "crm_contactcompany" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_contactemail_tenant_id_fbf00cac" ON "crm_contactemail" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_contactimport_tenant_id_b6750fbe" ON "crm_contactimport" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_contactimportrecord_tenant_id_6094626f" ON "crm_contactimportrecord" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_contactphone_tenant_id_6e357225" ON "crm_contactphone" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_deal_tenant_id_494169fd" ON "crm_deal" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_dealassignmentrule_tenant_id_b305bfd6" ON "crm_dealassignmentrule" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_pipeline_tenant_id_01c8024f" ON "crm_pipeline" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_scoringmodel_tenant_id_08fbe8c2" ON "crm_scoringmodel" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_scoringrule_tenant_id_11251586" ON "crm_scoringrule" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_segment_tenant_id_9b25414b" ON "crm_segment" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_segmentmember_tenant_id_3971b17e" ON "crm_segmentmember" ("tenant_id");
CREATE INDEX IF NOT EXISTS "crm_stage_tenant_id_f98a52ee" ON "crm_stage" ("tenant_id");
"""


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_tenant_config_stamp"),
        ("crm", "0012_contact_words"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(DROP_SQL, CREATE_SQL)],
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="activitytemplate",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="company",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="companydomain",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="contact",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="contactcompany",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="contactemail",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="contactimport",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="contactimportrecord",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="contactphone",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="deal",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="dealassignmentrule",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="pipeline",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="scoringmodel",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="scoringrule",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="segment",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="segmentmember",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="stage",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
            ],
        ),
    ]
