"""Writes of deal assignment rules (owners and admins). The rules themselves are applied by
``deal_create`` (services/deals.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from autocrm.accounts.models import STAFF_ROLES, Membership
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.crm import access, events
from autocrm.crm.models import DealAssignmentRule, DealKind, Pipeline
from autocrm.crm.services.common import field_error
from autocrm.crm.services.deals import clean_amount

FIELDS = (
    "name",
    "position",
    "active",
    "pipeline_id",
    "kind",
    "min_amount",
    "contact_tag",
    "user_ids",
)


def _snapshot(rule: DealAssignmentRule) -> dict[str, Any]:
    out = {f: getattr(rule, f) for f in FIELDS}
    if isinstance(out["min_amount"], Decimal):
        out["min_amount"] = str(out["min_amount"])
    return out


def _clean(tenant: Tenant, values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in values:
        name = " ".join(str(values["name"] or "").split())[:100]
        if not name:
            raise field_error("name", "A name is required.")
        out["name"] = name
    if "position" in values:
        out["position"] = max(0, int(values["position"] or 0))
    if "active" in values:
        out["active"] = bool(values["active"])
    if "pipeline_id" in values:
        pk = values["pipeline_id"]
        if pk is not None and not Pipeline.objects.filter(tenant=tenant, pk=pk).exists():
            raise field_error("pipeline_id", f"No pipeline with id {pk}.")
        out["pipeline_id"] = pk
    if "kind" in values:
        kind = values["kind"] or ""
        if kind and kind not in DealKind.values:
            raise field_error("kind", "Use lead, deal, or leave it empty for both.")
        out["kind"] = kind
    if "min_amount" in values:
        v = values["min_amount"]
        try:
            out["min_amount"] = None if v is None else clean_amount(v)
        except ValidationError as exc:  # clean_amount names its field "amount"
            raise field_error("min_amount", exc.messages[0]) from None
    if "contact_tag" in values:
        out["contact_tag"] = str(values["contact_tag"] or "").strip().lower()[:50]
    if "user_ids" in values:
        ids = list(dict.fromkeys(int(u) for u in values["user_ids"]))
        if not ids:
            raise field_error("user_ids", "Name at least one staff member.")
        staff = set(
            Membership.objects.filter(
                tenant=tenant, user_id__in=ids, role__in=STAFF_ROLES
            ).values_list("user_id", flat=True)
        )
        missing = [i for i in ids if i not in staff]
        if missing:
            raise field_error("user_ids", f"No staff member with user id {missing[0]}.")
        out["user_ids"] = ids
    return out


@transaction.atomic
def deal_assignment_rule_create(
    *, tenant: Tenant, actor: Actor, **values: Any
) -> DealAssignmentRule:
    access.require_admin(actor)
    cleaned = _clean(tenant, values)
    for required in ("name", "user_ids"):
        if required not in cleaned:
            raise field_error(required, "This is required.")
    if "position" not in cleaned:  # a new rule without a place is tried last
        last = DealAssignmentRule.objects.filter(tenant=tenant).aggregate(m=Max("position"))["m"]
        cleaned["position"] = 0 if last is None else last + 1
    rule = DealAssignmentRule.objects.create(tenant=tenant, **cleaned)
    event_append(
        tenant=tenant,
        type=events.DEAL_ASSIGNMENT_RULE_CREATED,
        subject=rule,
        actor=actor,
        payload=_snapshot(rule),
    )
    return rule


@transaction.atomic
def deal_assignment_rule_update(
    *, tenant: Tenant, actor: Actor, rule: DealAssignmentRule, changes: dict[str, Any]
) -> DealAssignmentRule:
    access.require_admin(actor)
    rule = DealAssignmentRule.objects.select_for_update().get(tenant=tenant, pk=rule.pk)
    before = _snapshot(rule)
    for field, value in _clean(tenant, changes).items():
        setattr(rule, field, value)
    if "user_ids" in changes:
        rule.last_index = -1  # a new list starts its turns from the first person
    rule.save()
    after = _snapshot(rule)
    diff = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if diff:
        event_append(
            tenant=tenant,
            type=events.DEAL_ASSIGNMENT_RULE_UPDATED,
            subject=rule,
            actor=actor,
            payload={"changes": diff},
        )
    return rule


@transaction.atomic
def deal_assignment_rule_delete(*, tenant: Tenant, actor: Actor, rule: DealAssignmentRule) -> None:
    access.require_admin(actor)
    event_append(
        tenant=tenant,
        type=events.DEAL_ASSIGNMENT_RULE_DELETED,
        subject=rule,
        actor=actor,
        payload=_snapshot(rule),
    )
    rule.delete()


@transaction.atomic
def deal_assignment_rules_reorder(
    *, tenant: Tenant, actor: Actor, rule_ids: list[int]
) -> list[DealAssignmentRule]:
    """Put the rules in the order of ``rule_ids`` (positions 0, 1, 2...; rules not named keep
    their order after them). Each rule whose position changes gets its update event."""
    access.require_admin(actor)
    rules = list(
        DealAssignmentRule.objects.select_for_update()
        .filter(tenant=tenant)
        .order_by("position", "id")
    )
    by_id = {r.pk: r for r in rules}
    wanted = [by_id[i] for i in dict.fromkeys(rule_ids) if i in by_id]
    if len(wanted) != len(set(rule_ids)):
        raise field_error("rule_ids", "Name only this workspace's assignment rules.")
    ordered = wanted + [r for r in rules if r not in wanted]
    for position, rule in enumerate(ordered):
        if rule.position != position:
            deal_assignment_rule_update(
                tenant=tenant, actor=actor, rule=rule, changes={"position": position}
            )
            rule.position = position
    return ordered
