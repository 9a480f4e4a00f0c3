"""The sweeper: a send a dead worker left mid-way fails visibly (never resent); a queued
send whose job was lost is queued again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.models import OutboundEmail
from autocrm.inboxes.tasks import email_sweep
from autocrm.inboxes.tests.factories import inbox
from autocrm.inboxes.tests.test_outbound import _reply, _send_jobs

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])


def test_a_send_left_mid_way_fails_and_a_lost_job_is_requeued(tenant_a: Tenant) -> None:
    box = inbox(tenant_a)
    _, stuck = _reply(tenant_a, box)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    with tenant_context(tenant_a):
        OutboundEmail.objects.filter(pk=stuck.pk).update(state="sending", claimed_at=long_ago)
    _, lost = _reply(tenant_a, box)
    with tenant_context(tenant_a):
        OutboundEmail.objects.filter(pk=lost.pk).update(next_attempt_at=long_ago)
    jobs_before = len(_send_jobs(lost))

    assert email_sweep(0) == 2
    with tenant_context(tenant_a):
        stuck.refresh_from_db()
        assert stuck.message is not None and stuck.message.delivery_state == "failed"
    assert stuck.state == "failed" and "not retried" in stuck.last_error
    assert len(_send_jobs(lost)) == jobs_before + 1
    assert len(_send_jobs(stuck)) == 1  # the original job only: never a second send
