"""Moving an SLA policy, trigger or automation one place up or down in its list.

The order is ``position`` then id, and positions set through the API may repeat or leave
gaps, so a move renumbers the whole list in steps of ten (room for an API client to slot a
rule in between) after swapping the rule with its neighbour. Each row whose position
changed gets its ``*.updated`` event, as a PATCH of ``position`` would."""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import ValidationError
from django.db import transaction

from autocrm.core.actors import Actor
from autocrm.core.config_cache import tenant_config_changed
from autocrm.core.models import Tenant
from autocrm.routing import events
from autocrm.routing.models import Automation, SlaPolicy, Trigger
from autocrm.routing.services.common import emit, require_admin

OrderedRule = SlaPolicy | Trigger | Automation
UPDATED = {
    SlaPolicy: events.SLA_POLICY_UPDATED,
    Trigger: events.TRIGGER_UPDATED,
    Automation: events.AUTOMATION_UPDATED,
}
STEP = 10


@transaction.atomic
def rule_move(
    *, tenant: Tenant, actor: Actor, rule: OrderedRule, direction: Literal["up", "down"]
) -> OrderedRule:
    """``rule`` one place earlier (``up``) or later (``down``); at either end, nothing moves."""
    require_admin(actor)
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Use up or down."})
    model = type(rule)
    # Locking the whole list keeps two concurrent moves from interleaving their renumbering.
    rows: list[OrderedRule] = list(
        model.objects.select_for_update().filter(tenant=tenant).order_by("position", "id")
    )
    at = next((i for i, row in enumerate(rows) if row.pk == rule.pk), None)
    if at is None:
        raise ValidationError({"rule": "It was deleted meanwhile."})
    to = at - 1 if direction == "up" else at + 1
    if not 0 <= to < len(rows):
        return rows[at]
    rows[at], rows[to] = rows[to], rows[at]
    changed = []
    for i, row in enumerate(rows, start=1):
        position = i * STEP
        if row.position != position:
            emit(tenant, actor, UPDATED[model], row, {
                "name": row.name, "changes": {"position": {"from": row.position, "to": position}},
            })  # fmt: skip
            row.position = position
            changed.append(row)
    model.objects.bulk_update(changed, ["position"])  # type: ignore[arg-type]
    tenant_config_changed(tenant=tenant)
    return rows[to]
