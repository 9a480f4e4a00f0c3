"""Maintenance jobs of the core app, run by a real worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from autocrm.core.models import Tenant
from autocrm.testing.worker import clear_jobs, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_jobs() -> Iterator[None]:
    clear_jobs()
    yield
    clear_jobs()


def finished_days_ago(job_id: int, days: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_events SET at = at - make_interval(days => %s) WHERE job_id = %s",
            [days, job_id],
        )


def test_jobs_cleanup_deletes_old_finished_jobs_but_keeps_failures() -> None:
    # Real finished jobs: the dispatch of an event that does not exist succeeds (nothing to
    # do); a job of a task nobody knows fails for good.
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    dispatch = app.configure_task("core.events_dispatch", queue="t")
    old_done = dispatch.defer(tenant_id=tenant.pk, event_id=0)
    recent_done = dispatch.defer(tenant_id=tenant.pk, event_id=0)
    old_failed = app.configure_task("core.no_such_task", queue="t").defer()
    run_worker_until_idle(["t"])
    mine = [old_done, recent_done, old_failed]
    statuses = dict(ProcrastinateJob.objects.filter(id__in=mine).values_list("id", "status"))
    assert statuses == {old_done: "succeeded", recent_done: "succeeded", old_failed: "failed"}
    finished_days_ago(old_done, 15)
    finished_days_ago(old_failed, 15)
    finished_days_ago(recent_done, 13)

    app.configure_task("core.jobs_cleanup").defer(timestamp=0)
    run_worker_until_idle(["maintenance"])

    remaining = set(ProcrastinateJob.objects.filter(id__in=mine).values_list("id", flat=True))
    assert remaining == {recent_done, old_failed}
