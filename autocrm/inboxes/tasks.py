"""Worker jobs of the email channel: one send attempt, and the sweeper of lost ones."""

from __future__ import annotations

from django.utils import timezone
from procrastinate.contrib.django import app

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import system_context, tenant_context
from autocrm.inboxes import outbound
from autocrm.inboxes.models import DeliveryState, OutboundEmail

SEND = Actor.system("email_send")
SWEEP_BATCH = 500


@app.task(name="inboxes.email_send", queue="email", pass_context=False)
def email_send(*, tenant_id: int, outbound_id: int) -> None:
    """One attempt. Retries are new jobs scheduled by the service with backoff; a duplicate
    or late job finds the row claimed or done and does nothing."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    # Not inside a tenant context here: the claim and the record each enter their own
    # transaction, so the SMTP conversation between them holds none open.
    outbound.outbound_send(tenant=tenant, actor=SEND, outbound_id=outbound_id)


@app.periodic(cron="*/5 * * * *", periodic_id="email_sweep")
@app.task(
    name="inboxes.email_sweep", queue="email", queueing_lock="email_sweep", pass_context=False
)
def email_sweep(timestamp: int) -> int:
    """Queue again the sends whose job was lost; fail the ones a dead worker left mid-send."""
    now = timezone.now()
    with system_context("email_sweep: requeue lost sends, fail abandoned ones") as db:
        due = list(
            OutboundEmail.objects.using(db)
            .filter(
                state__in=[DeliveryState.QUEUED, DeliveryState.DEFERRED],
                next_attempt_at__lt=now - outbound.STALE_CLAIM,
            )
            .values_list("tenant_id", "pk")[:SWEEP_BATCH]
        )
        stale = list(
            OutboundEmail.objects.using(db)
            .filter(state=DeliveryState.SENDING, claimed_at__lt=now - outbound.STALE_CLAIM)
            .values_list("tenant_id", "pk")[:SWEEP_BATCH]
        )
    for tenant_id, outbound_id in due:
        email_send.defer(tenant_id=tenant_id, outbound_id=outbound_id)
    for tenant_id, outbound_id in stale:
        tenant = Tenant.objects.get(pk=tenant_id)
        with tenant_context(tenant):
            outbound.outbound_abandon_stale(tenant=tenant, actor=SEND, outbound_id=outbound_id)
    return len(due) + len(stale)
