"""Triggers (on ticket events) and automations (on time), their validation, their dry-run
preview, and running them.

Loop guard, in three layers: a trigger on updates whose actions would leave its own
conditions true is refused when saved (``rules.would_loop``, a 422); at run time a trigger
never fires on the change made by its own actor (``system:trigger:<id>``); and a ticket that
rules changed ``CHAIN_LIMIT`` times in ``CHAIN_WINDOW`` is left alone (two triggers that
feed each other stop there). Automations fire at most once per ticket until someone else
changes the ticket (``RuleRun.ticket_version``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.config_cache import tenant_config_cached, tenant_config_changed
from autocrm.core.models import Event, Tenant
from autocrm.routing import events
from autocrm.routing.models import Automation, RuleKind, RuleRun, Team, Trigger
from autocrm.routing.rules import (
    EVENTS,
    TIME_FIELDS,
    Facts,
    actions_clean,
    compile_conditions,
    conditions_clean,
    would_loop,
)
from autocrm.routing.services.actions import actions_run
from autocrm.routing.services.common import (
    as_validation_errors,
    diff_apply,
    emit,
    require_admin,
    staff_user_id,
)
from autocrm.routing.services.facts import facts_of
from autocrm.tickets.models import Macro, Message, Status, Ticket

logger = structlog.get_logger(__name__)
CHAIN_LIMIT = 20
CHAIN_WINDOW = dt.timedelta(minutes=1)
PREVIEW_LIMIT = 2000  # most recently updated open tickets a dry run looks at
RULE_FIELDS = {"name", "position", "active", "match", "conditions", "actions", "on"}


def _check_references(tenant: Tenant, actions: list[dict[str, Any]]) -> None:
    for i, a in enumerate(actions):
        at = f"actions.{i}"
        if a["type"] == "macro":
            if not Macro.objects.filter(
                tenant=tenant, pk=a["value"], active=True, owner=None
            ).exists():
                raise ValidationError({f"{at}.value": "No active shared macro with this id."})
        elif a["type"] == "assign" and a["value"] != "auto":
            staff_user_id(tenant, a["value"], f"{at}.value")
        elif a["type"] == "set" and a["field"] == "team_id" and a["value"] is not None:
            if not Team.objects.filter(tenant=tenant, pk=a["value"]).exists():
                raise ValidationError({f"{at}.value": "No team with this id."})
        elif a["type"] == "set" and a["field"] == "assignee_id" and a["value"] is not None:
            staff_user_id(tenant, a["value"], f"{at}.value")


def _rule_values(
    tenant: Tenant, values: dict[str, Any], current: Trigger | Automation | None, *, trigger: bool
) -> dict[str, Any]:
    allowed = RULE_FIELDS if trigger else RULE_FIELDS - {"on"}
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError({name: "Unknown field." for name in unknown})
    clean = dict(values)
    if "name" in clean and not str(clean["name"] or "").strip():
        raise ValidationError({"name": "A name is required."})
    if "match" in clean and clean["match"] not in {"all", "any"}:
        raise ValidationError({"match": "Use all or any."})
    with as_validation_errors():
        if "conditions" in clean:
            clean["conditions"] = conditions_clean(clean["conditions"])
        if "actions" in clean:
            clean["actions"] = actions_clean(clean["actions"])
    if "actions" in clean:
        _check_references(tenant, clean["actions"])
    merged = {
        name: clean.get(name, getattr(current, name, None))
        for name in ("on", "conditions", "match", "actions")
    }
    if trigger:
        on = merged["on"] or []
        if not on or not isinstance(on, list) or set(on) - set(EVENTS):
            raise ValidationError({"on": f"Give one or more of {', '.join(EVENTS)}."})
        loops = would_loop(
            on, merged["conditions"] or [], merged["match"] or "all", merged["actions"] or []
        )
        if loops:
            raise ValidationError(
                {
                    "actions": (
                        "These actions would fire this trigger again on its own change, "
                        "endlessly: add a condition the actions make false (e.g. tags "
                        "not_contains the tag it adds)."
                    )
                }
            )
    elif not any(c["field"] in TIME_FIELDS for c in merged["conditions"] or []):
        raise ValidationError(
            {
                "conditions": (
                    "An automation needs a time condition (hours_since_created or "
                    "hours_since_updated)."
                )
            }
        )
    return clean


@transaction.atomic
def trigger_create(*, tenant: Tenant, actor: Actor, name: str, **values: Any) -> Trigger:
    require_admin(actor)
    clean = _rule_values(tenant, {"name": name, **values}, None, trigger=True)
    trigger = Trigger.objects.create(tenant=tenant, **clean)
    tenant_config_changed(tenant=tenant)
    emit(tenant, actor, events.TRIGGER_CREATED, trigger, {"name": trigger.name})
    return trigger


@transaction.atomic
def trigger_update(
    *, tenant: Tenant, actor: Actor, trigger: Trigger, changes: dict[str, Any]
) -> Trigger:
    require_admin(actor)
    trigger = Trigger.objects.select_for_update().get(tenant=tenant, pk=trigger.pk)
    diff = diff_apply(trigger, _rule_values(tenant, changes, trigger, trigger=True))
    if diff:
        trigger.save()
        tenant_config_changed(tenant=tenant)
        emit(
            tenant, actor, events.TRIGGER_UPDATED, trigger, {"name": trigger.name, "changes": diff}
        )
    return trigger


@transaction.atomic
def trigger_delete(*, tenant: Tenant, actor: Actor, trigger: Trigger) -> None:
    require_admin(actor)
    emit(tenant, actor, events.TRIGGER_DELETED, trigger, {"name": trigger.name})
    trigger.delete()
    tenant_config_changed(tenant=tenant)


@transaction.atomic
def automation_create(*, tenant: Tenant, actor: Actor, name: str, **values: Any) -> Automation:
    require_admin(actor)
    clean = _rule_values(tenant, {"name": name, **values}, None, trigger=False)
    automation = Automation.objects.create(tenant=tenant, **clean)
    emit(tenant, actor, events.AUTOMATION_CREATED, automation, {"name": automation.name})
    return automation


@transaction.atomic
def automation_update(
    *, tenant: Tenant, actor: Actor, automation: Automation, changes: dict[str, Any]
) -> Automation:
    require_admin(actor)
    automation = Automation.objects.select_for_update().get(tenant=tenant, pk=automation.pk)
    diff = diff_apply(automation, _rule_values(tenant, changes, automation, trigger=False))
    if diff:
        automation.save()
        emit(
            tenant,
            actor,
            events.AUTOMATION_UPDATED,
            automation,
            {"name": automation.name, "changes": diff},
        )
    return automation


@transaction.atomic
def automation_delete(*, tenant: Tenant, actor: Actor, automation: Automation) -> None:
    require_admin(actor)
    emit(tenant, actor, events.AUTOMATION_DELETED, automation, {"name": automation.name})
    automation.delete()


# --- preview ------------------------------------------------------------------------------


def rule_preview(
    *, tenant: Tenant, actor: Actor, conditions: Any, match: str = "all"
) -> tuple[list[Ticket], int]:
    """Dry run: the open tickets (the most recently updated ``PREVIEW_LIMIT``) these
    conditions match now, and how many were looked at. Nothing is changed."""
    require_admin(actor)
    with as_validation_errors():
        clean = conditions_clean(conditions)
    if match not in {"all", "any"}:
        raise ValidationError({"match": "Use all or any."})
    test = compile_conditions(clean, match)
    now = timezone.now()
    tickets = list(
        Ticket.objects.filter(tenant=tenant)
        .exclude(status=Status.CLOSED)
        .select_related("requester")
        .order_by("-updated_at", "-id")[:PREVIEW_LIMIT]
    )
    return [t for t in tickets if test(facts_of(t, now=now))], len(tickets)


# --- running triggers ------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    on: frozenset[str]
    test: Callable[[Facts], bool]
    actions: list[dict[str, Any]]


def active_triggers(tenant: Tenant) -> list[CompiledRule]:
    """The tenant's active triggers in order, compiled once per configuration change
    (core.config_cache: the stamp comes with the tenant row, so a hit costs no query)."""

    def load() -> list[CompiledRule]:
        return [
            CompiledRule(
                t.pk, t.name, frozenset(t.on), compile_conditions(t.conditions, t.match), t.actions
            )
            for t in Trigger.objects.filter(tenant=tenant, active=True).order_by("position", "id")
        ]

    return tenant_config_cached(tenant, "routing.triggers", load)


def triggers_matching(
    rules: list[CompiledRule], event_type: str, facts: Facts, skip_id: int | None = None
) -> list[CompiledRule]:
    """The rules an event fires, in order (the hot path: the benchmark times it)."""
    return [r for r in rules if event_type in r.on and r.id != skip_id and r.test(facts)]


def _own_trigger(event: Event) -> int | None:
    prefix = "system:trigger:"
    if event.actor_label.startswith(prefix) and event.actor_label[len(prefix) :].isdigit():
        return int(event.actor_label[len(prefix) :])
    return None


def _event_facts(event: Event, ticket: Ticket) -> Facts:
    text, changed = "", ()
    message_id = event.subject_id if event.type == "message.created" else None
    if event.type == "ticket.created":
        message_id = event.payload.get("message_id")
    if message_id is not None:
        text = (
            Message.objects.filter(ticket_id=ticket.pk, pk=message_id)
            .values_list("body_text", flat=True)
            .first()
            or ""
        )
    elif event.type == "ticket.updated":
        changed = tuple((event.payload.get("changes") or {}).keys())
    return facts_of(ticket, text=text, changed=changed)


def triggers_run(*, tenant: Tenant, event: Event, ticket_id: int) -> list[RuleRun]:
    """Fire the triggers ``event`` matches on its ticket, in order; each later trigger sees
    the changes of the earlier ones."""
    ticket = Ticket.objects.select_related("requester").filter(tenant=tenant, pk=ticket_id).first()
    if ticket is None or ticket.status == Status.CLOSED:
        return []
    rules = active_triggers(tenant)
    if not rules:
        return []
    recent = RuleRun.objects.filter(
        tenant=tenant, ticket_id=ticket_id, created_at__gte=timezone.now() - CHAIN_WINDOW
    ).count()
    if recent >= CHAIN_LIMIT:
        logger.warning("triggers.chain_limit", ticket_id=ticket_id, runs=recent)
        return []
    runs: list[RuleRun] = []
    own = _own_trigger(event)
    facts = _event_facts(event, ticket)
    for rule in rules:
        if event.type not in rule.on or rule.id == own or not rule.test(facts):
            continue
        runs.append(
            actions_run(
                tenant=tenant,
                actor=Actor.system(f"trigger:{rule.id}"),
                ticket=ticket,
                actions=rule.actions,
                kind=RuleKind.TRIGGER,
                rule_id=rule.id,
                rule_name=rule.name,
                event_id=event.pk,
            )
        )
        # Later triggers see what this one changed.
        ticket = Ticket.objects.select_related("requester").get(pk=ticket_id)
        if ticket.status == Status.CLOSED:
            break
        facts = _event_facts(event, ticket)
    return runs


# --- running automations ------------------------------------------------------------------


def automations_run(*, tenant: Tenant, now: dt.datetime | None = None, batch: int = 5000) -> int:
    """One pass of every active automation over the tenant's open tickets; returns how many
    times one fired. Each firing is its own transaction."""
    now = now or timezone.now()
    fired = 0
    for automation in Automation.objects.filter(tenant=tenant, active=True).order_by(
        "position", "id"
    ):
        test = compile_conditions(automation.conditions, automation.match)
        last = dict(
            RuleRun.objects.filter(tenant=tenant, kind=RuleKind.AUTOMATION, rule_id=automation.pk)
            .values_list("ticket_id")
            .annotate(v=Max("ticket_version"))
        )
        tickets = (
            Ticket.objects.filter(tenant=tenant)
            .exclude(status=Status.CLOSED)
            .select_related("requester")
            .order_by("id")
        )
        for ticket in tickets.iterator(chunk_size=batch):
            if last.get(ticket.pk) == ticket.version or not test(facts_of(ticket, now=now)):
                continue
            with transaction.atomic():
                locked = (
                    Ticket.objects.select_for_update().select_related("requester").get(pk=ticket.pk)
                )
                if locked.version != ticket.version:
                    continue  # changed meanwhile: the next pass looks again
                actions_run(
                    tenant=tenant,
                    actor=Actor.system(f"automation:{automation.pk}"),
                    ticket=locked,
                    actions=automation.actions,
                    kind=RuleKind.AUTOMATION,
                    rule_id=automation.pk,
                    rule_name=automation.name,
                    event_id=None,
                )
            fired += 1
    return fired
