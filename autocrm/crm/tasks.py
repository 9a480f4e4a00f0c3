"""Worker jobs of the CRM app: activity reminders every minute, the nightly retraining of
each tenant's lead-scoring model, and contact imports. Each is safe to run again."""

from __future__ import annotations

import structlog
from django.core.exceptions import ValidationError
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import system_context, tenant_context

logger = structlog.get_logger(__name__)


@app.periodic(cron="* * * * *", periodic_id="crm_activity_reminders")
@app.task(
    name="crm.activity_reminders",
    queue="events",
    queueing_lock="crm_activity_reminders",
    pass_context=False,
)
def activity_reminders(timestamp: int) -> int:
    """Every minute: remind owners of activities whose reminder time has come."""
    from autocrm.crm.reminders import reminders_send

    return reminders_send()


@app.periodic(cron="53 2 * * *", periodic_id="crm_scoring_retrain")
@app.task(
    name="crm.scoring_retrain",
    queue="maintenance",
    queueing_lock="crm_scoring_retrain",
    pass_context=False,
)
def scoring_retrain(timestamp: int) -> int:
    """Nightly: retrain the lead-scoring model of every tenant with enough closed deals."""
    from autocrm.crm.models import Deal
    from autocrm.crm.scoring import scoring_model_train

    with system_context("crm_scoring_retrain: tenants with closed deals") as db:
        tenant_ids = list(
            Deal.objects.using(db)
            .filter(status__in=["won", "lost"])
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    trained = 0
    for tenant in Tenant.objects.filter(pk__in=tenant_ids):
        with tenant_context(tenant):
            try:
                scoring_model_train(tenant=tenant, actor=Actor.system("crm_scoring_retrain"))
            except ValidationError:
                continue  # not enough won and lost deals yet
            trained += 1
    return trained


# A crash mid-import (a worker restart) is carried on from the last committed batch.
IMPORT_RETRY = RetryStrategy(max_attempts=3, wait=10)


@app.task(name="crm.contact_import_run", queue="imports", retry=IMPORT_RETRY, pass_context=False)
def contact_import_run_job(*, tenant_id: int, import_id: int) -> None:
    """Run a confirmed contact import (autocrm.crm.services.imports.contact_import_run).
    Not inside one tenant transaction: the service opens the tenant's context for each
    batch, so every batch commits and the progress bar moves."""
    from autocrm.crm.services.imports import contact_import_run

    tenant = Tenant.objects.get(pk=tenant_id)
    contact_import_run(tenant=tenant, actor=Actor.system("crm-import"), import_id=import_id)
