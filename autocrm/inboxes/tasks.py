"""Worker jobs of the email channel: one send attempt, the sweeper of lost ones, and the
IMAP fetch with its every-minute poller."""

from __future__ import annotations

from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import system_context, tenant_context
from autocrm.inboxes import imap, outbound
from autocrm.inboxes.models import DeliveryState, Inbox, OutboundEmail

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


@app.task(name="inboxes.imap_fetch", queue="email", pass_context=False)
def imap_fetch(*, tenant_id: int, inbox_id: int) -> int:
    """Fetch one inbox's IMAP mailbox (the poller's job, also deferred on an IDLE push).
    Deferred with a queueing lock per inbox, so pushes and polls never pile up."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return 0
    report = imap.imap_fetch(tenant=tenant, actor=imap.FETCH, inbox_id=inbox_id)
    return report.imported


def imap_fetch_defer(*, tenant_id: int, inbox_id: int) -> bool:
    """Queue a fetch unless one is waiting already (a running one does not count: mail that
    arrived after it listed the folder needs the next)."""
    try:
        imap_fetch.configure(
            queueing_lock=f"imap_fetch:{inbox_id}", lock=f"imap_fetch:{inbox_id}"
        ).defer(tenant_id=tenant_id, inbox_id=inbox_id)
    except AlreadyEnqueued:
        return False
    return True


def imap_inboxes() -> list[tuple[int, int]]:
    """(tenant id, inbox id) of every inbox that fetches by IMAP."""
    with system_context("imap_poll: list the inboxes that fetch by IMAP") as db:
        return list(
            Inbox.objects.using(db)
            .filter(imap_enabled=True)
            .order_by("pk")
            .values_list("tenant_id", "pk")
        )


@app.periodic(cron="* * * * *", periodic_id="imap_poll")
@app.task(name="inboxes.imap_poll", queue="email", queueing_lock="imap_poll", pass_context=False)
def imap_poll(timestamp: int) -> int:
    """Every minute, a fetch for every IMAP inbox: the schedule for servers without IDLE and
    the safety net for those with it (a push missed while the watcher reconnected)."""
    return sum(
        imap_fetch_defer(tenant_id=tenant_id, inbox_id=inbox_id)
        for tenant_id, inbox_id in imap_inboxes()
    )
