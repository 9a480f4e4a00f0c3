"""team_names is cached per process until the tenant's configuration changes: every team
service that changes a name or the set of teams makes the next read see it."""

from __future__ import annotations

import pytest

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing.selectors import team_names
from autocrm.routing.services import teams

pytestmark = pytest.mark.django_db


def test_team_changes_reach_the_cached_names(tenant_a: Tenant, tenant_b: Tenant) -> None:
    with tenant_context(tenant_a):
        admin = actor_of(tenant_a, member(tenant_a, "admin"))
        assert team_names(tenant=tenant_a, actor=admin) == []
        billing = teams.team_create(tenant=tenant_a, actor=admin, name="Billing")
        support = teams.team_create(tenant=tenant_a, actor=admin, name="Support")
        assert team_names(tenant=tenant_a, actor=admin) == [
            (billing.pk, "Billing"),
            (support.pk, "Support"),
        ]
        teams.team_update(tenant=tenant_a, actor=admin, team=support, changes={"name": "Aardvark"})
        assert team_names(tenant=tenant_a, actor=admin) == [
            (support.pk, "Aardvark"),
            (billing.pk, "Billing"),
        ]
        teams.team_delete(tenant=tenant_a, actor=admin, team=billing)
        assert team_names(tenant=tenant_a, actor=admin) == [(support.pk, "Aardvark")]
    with tenant_context(tenant_b):  # another tenant's cache is its own
        other = actor_of(tenant_b, member(tenant_b, "admin"))
        assert team_names(tenant=tenant_b, actor=other) == []


def test_another_process_sees_a_change_by_the_stamp(tenant_a: Tenant) -> None:
    """A change made elsewhere (another process) arrives with the tenant row's stamp."""
    with tenant_context(tenant_a):
        admin = actor_of(tenant_a, member(tenant_a, "admin"))
        assert team_names(tenant=tenant_a, actor=admin) == []
        elsewhere = Tenant.objects.get(pk=tenant_a.pk)  # that process's copy of the tenant
        team = teams.team_create(tenant=elsewhere, actor=admin, name="Billing")
        assert team_names(tenant=tenant_a, actor=admin) == []  # this request's stale row
        fresh = Tenant.objects.get(pk=tenant_a.pk)  # the next request loads the tenant
        assert team_names(tenant=fresh, actor=admin) == [(team.pk, "Billing")]
