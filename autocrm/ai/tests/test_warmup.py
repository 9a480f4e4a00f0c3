from __future__ import annotations

import pytest

from autocrm.ai.services.triage import load_classifiers, triage_model_train
from autocrm.ai.tests.factories import category_field, solved_history
from autocrm.ai.warmup import is_worker_process, warm_up
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets.tests.factories import SYSTEM


def test_only_the_worker_warms_up() -> None:
    assert is_worker_process(["manage.py", "procrastinate", "worker"])
    assert is_worker_process(["manage.py", "procrastinate", "worker", "--queues", "events"])
    assert not is_worker_process(["manage.py", "procrastinate", "defer", "x"])
    assert not is_worker_process(["manage.py", "runserver"])
    assert not is_worker_process(["uvicorn", "config.asgi:application"])


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_warm_up_loads_every_active_triage_model(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        category_field(tenant_a)
        solved_history(tenant_a)
        model = triage_model_train(tenant=tenant_a, actor=SYSTEM)
    assert model is not None
    load_classifiers.cache_clear()
    assert warm_up() == 1
    assert load_classifiers.cache_info().currsize == 1
    # The triage of the first ticket then finds the classifiers in memory.
    before = load_classifiers.cache_info().hits
    load_classifiers(model.artifact)
    assert load_classifiers.cache_info().hits == before + 1
