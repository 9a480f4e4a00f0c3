"""Worker jobs of the AI app: training a tenant's triage classifiers (on demand and daily) and
re-embedding the retrieval index after an embedding model change."""

from __future__ import annotations

import structlog
from django.db.models import Max
from procrastinate.contrib.django import app

from autocrm.ai.models import TriageModel
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import system_context, tenant_context
from autocrm.tickets.models import Status, Ticket

logger = structlog.get_logger(__name__)
TRAIN = Actor.system("ai_triage_train")


@app.task(name="ai.triage_train", queue="ai", pass_context=False)
def triage_train(*, tenant_id: int) -> None:
    from autocrm.ai.services.triage import triage_model_train

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    with tenant_context(tenant):
        model = triage_model_train(tenant=tenant, actor=TRAIN)
    logger.info("ai.triage_trained", trained=model is not None)


@app.periodic(cron="41 2 * * *", periodic_id="ai_triage_retrain")
@app.task(
    name="ai.triage_retrain_all",
    queue="ai",
    queueing_lock="ai_triage_retrain_all",
    pass_context=False,
)
def triage_retrain_all(timestamp: int) -> int:
    """Nightly: retrain every tenant whose tickets were solved since its last training."""
    with system_context("ai_triage_retrain: find tenants with new solved tickets") as db:
        solved = dict(
            Ticket.objects.using(db)
            .filter(status__in=[Status.SOLVED, Status.CLOSED])
            .values_list("tenant_id")
            .annotate(last=Max("updated_at"))
            .values_list("tenant_id", "last")
        )
        trained = dict(
            TriageModel.objects.using(db)
            .filter(active=True)
            .values_list("tenant_id")
            .annotate(last=Max("created_at"))
            .values_list("tenant_id", "last")
        )
    due = [t for t, last in solved.items() if t not in trained or trained[t] < last]
    for tenant_id in due:
        triage_train.defer(tenant_id=tenant_id)
    return len(due)


@app.task(name="ai.reindex", queue="ai", pass_context=False)
def reindex(*, tenant_id: int, only_stale: bool = True) -> int:
    from autocrm.ai.indexing import INDEX_ACTOR, tenant_reindex

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return 0
    return tenant_reindex(tenant=tenant, actor=INDEX_ACTOR, only_stale=only_stale)


@app.periodic(cron="7 3 * * *", periodic_id="ai_reindex_stale")
@app.task(
    name="ai.reindex_stale_all",
    queue="ai",
    queueing_lock="ai_reindex_stale_all",
    pass_context=False,
)
def reindex_stale_all(timestamp: int) -> int:
    """Nightly: re-embed the chunks of every tenant whose chunks were embedded by another
    model than the configured one (the embedding setting changed)."""
    from autocrm.ai.models import Chunk, SourceType
    from autocrm.ai.providers.embeddings import embedding_provider

    model_id = embedding_provider().model_id
    with system_context("ai_reindex_stale: find tenants with chunks of another model") as db:
        tenant_ids = list(
            Chunk.objects.using(db)
            .exclude(source_type=SourceType.DOCUMENT)
            .exclude(embedding_model=model_id)
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    for tenant_id in tenant_ids:
        reindex.defer(tenant_id=tenant_id)
    return len(tenant_ids)


@app.periodic(cron="29 * * * *", periodic_id="ai_handoff_expire")
@app.task(
    name="ai.handoffs_expire_all",
    queue="maintenance",
    queueing_lock="ai_handoffs_expire_all",
    pass_context=False,
)
def handoffs_expire_all(timestamp: int) -> int:
    """Hourly: delete visitors' hand-offs nobody confirmed within the link's lifetime, in
    every tenant (a help centre nobody asks again would otherwise keep them forever)."""
    from autocrm.ai import handoff

    return handoff.handoffs_expire_all()


@app.task(name="ai.handoff_confirmation_send", queue="email", pass_context=False)
def handoff_confirmation_send(*, tenant_id: int, handoff_id: int) -> None:
    """Mail a visitor's hand-off confirmation link (retried by the queue until SMTP takes
    it); nothing when the request is gone or confirmed already."""
    from django.core.mail import send_mail

    from autocrm.ai.handoff import confirmation_mail
    from autocrm.ai.models import PendingHandoff

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    with tenant_context(tenant):
        handoff = PendingHandoff.objects.filter(pk=handoff_id, confirmed_at__isnull=True).first()
        if handoff is None:
            return
        subject, body, sender = confirmation_mail(tenant, handoff)
    send_mail(subject, body, sender, [handoff.email])
