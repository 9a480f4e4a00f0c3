"""The demo's triage history (``manage.py seed_demo``): a trained model, once."""

from __future__ import annotations

import pytest

from autocrm.ai.demo import HISTORY
from autocrm.ai.models import TriageModel
from autocrm.core.tenancy import tenant_context
from autocrm.testing.demo import seeded_demo_tenant
from autocrm.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_the_demo_trains_triage_on_its_solved_history_once() -> None:
    tenant = seeded_demo_tenant()
    with tenant_context(tenant):
        model = TriageModel.objects.get(active=True)
        assert TriageModel.objects.count() == 1
        assert sorted(model.fields["category"]["labels"]) == sorted(HISTORY)
        history = Ticket.objects.filter(status="solved", custom_fields__has_key="category")
        assert history.count() == sum(len(v) for v in HISTORY.values())
