"""Writes of leads and deals: create (assigned by the rules when no owner is given), change,
move on the board, win, lose, reopen, convert a lead, delete. Each appends its event; the
lead score is recomputed in the same transaction (crm.scoring)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from autocrm.accounts.models import STAFF_ROLES, Membership
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.crm import access, events, scoring
from autocrm.crm.models import (
    Company,
    Contact,
    Deal,
    DealAssignmentRule,
    DealKind,
    DealStatus,
    Pipeline,
    Stage,
)
from autocrm.crm.services.common import clean_owner, field_error

MAX_AMOUNT = Decimal("999999999999.99")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
TRACKED = (
    "kind",
    "title",
    "pipeline_id",
    "stage_id",
    "amount",
    "currency",
    "expected_close_date",
    "owner_id",
    "contact_id",
    "company_id",
    "status",
    "close_reason",
)


def _snapshot(deal: Deal) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in TRACKED:
        value = getattr(deal, name)
        if isinstance(value, Decimal):
            value = str(value.quantize(Decimal("0.01")))
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[name] = value
    return out


def clean_amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise field_error("amount", "The amount is a number such as 1200.50.") from exc
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise field_error("amount", f"The amount is between 0 and {MAX_AMOUNT}.")
    return amount


def clean_currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if not _CURRENCY.match(code):
        raise field_error("currency", "The currency is a three-letter ISO 4217 code such as EUR.")
    return code


def _clean_title(value: Any) -> str:
    title = " ".join(str(value or "").split())[:200]
    if not title:
        raise field_error("title", "A title is required.")
    return title


def _pipeline_and_stage(
    tenant: Tenant, pipeline_id: int | None, stage_id: int | None
) -> tuple[Pipeline, Stage]:
    if stage_id is not None:
        stage = Stage.objects.filter(tenant=tenant, pk=stage_id).select_related("pipeline").first()
        if stage is None:
            raise field_error("stage_id", f"No stage with id {stage_id}.")
        if pipeline_id is not None and stage.pipeline_id != pipeline_id:
            raise field_error("stage_id", "This stage belongs to another pipeline.")
        return stage.pipeline, stage
    pipelines = Pipeline.objects.filter(tenant=tenant)
    if pipeline_id is not None:
        pipelines = pipelines.filter(pk=pipeline_id)
    pipeline = pipelines.order_by("position", "id").first()
    if pipeline is None:
        if pipeline_id is not None:
            raise field_error("pipeline_id", f"No pipeline with id {pipeline_id}.")
        raise field_error("pipeline_id", "Create a pipeline first.")
    first = (
        Stage.objects.filter(tenant=tenant, pipeline=pipeline).order_by("position", "id").first()
    )
    if first is None:
        raise field_error("pipeline_id", "This pipeline has no stage.")
    return pipeline, first


def _link(tenant: Tenant, model: type[Contact] | type[Company], pk: int | None, field: str) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(tenant=tenant, pk=pk).first()
    if found is None:
        raise field_error(field, f"No {model._meta.verbose_name} with id {pk}.")
    return found


def _clean_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise field_error("expected_close_date", "Use a date such as 2026-12-31.") from exc


def _end_of_column(tenant: Tenant, stage: Stage) -> int:
    last = Deal.objects.filter(tenant=tenant, stage=stage).aggregate(m=Max("position"))["m"]
    return 0 if last is None else last + 1


def _assign(tenant: Tenant, deal: Deal, contact_tags: list[str]) -> str:
    """The first active rule (by position) whose conditions hold gives the record to its
    next user in turn. The rule row is locked, so concurrent creations take turns."""
    rules = DealAssignmentRule.objects.filter(tenant=tenant, active=True).order_by("position", "id")
    for rule in rules:
        if rule.pipeline_id and rule.pipeline_id != deal.pipeline_id:
            continue
        if rule.kind and rule.kind != deal.kind:
            continue
        if rule.min_amount is not None and deal.amount < rule.min_amount:
            continue
        if rule.contact_tag and rule.contact_tag not in contact_tags:
            continue
        locked = DealAssignmentRule.objects.select_for_update().get(pk=rule.pk)
        # Only people still on the staff: a rule outlives a member who left.
        staff = set(
            Membership.objects.filter(
                tenant=tenant, user_id__in=locked.user_ids, role__in=STAFF_ROLES
            ).values_list("user_id", flat=True)
        )
        users = [int(u) for u in locked.user_ids if int(u) in staff]
        if not users:
            continue
        index = (locked.last_index + 1) % len(users)
        DealAssignmentRule.objects.filter(pk=rule.pk).update(last_index=index)
        deal.owner_id = users[index]
        return rule.name
    return ""


@transaction.atomic
def deal_create(
    *,
    tenant: Tenant,
    actor: Actor,
    title: str,
    kind: str = DealKind.DEAL,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    amount: Any = 0,
    currency: str = "",
    expected_close_date: Any = None,
    owner_id: int | None = None,
    contact_id: int | None = None,
    company_id: int | None = None,
) -> Deal:
    """A new lead or deal at the end of its stage's column (the pipeline's first stage
    unless named). Without an owner, the assignment rules pick one."""
    access.require_edit(actor)
    if kind not in DealKind.values:
        raise field_error("kind", "Use lead or deal.")
    pipeline, stage = _pipeline_and_stage(tenant, pipeline_id, stage_id)
    contact = _link(tenant, Contact, contact_id, "contact_id")
    company = _link(tenant, Company, company_id, "company_id")
    if company is None and contact is not None:
        company = contact.company
    deal = Deal(
        tenant=tenant,
        kind=kind,
        title=_clean_title(title),
        pipeline=pipeline,
        stage=stage,
        position=_end_of_column(tenant, stage),
        amount=clean_amount(amount),
        currency=clean_currency(currency or tenant.settings.get("currency") or "USD"),
        expected_close_date=_clean_date(expected_close_date),
        owner=clean_owner(tenant, owner_id),
        contact=contact,
        company=company,
    )
    rule = ""
    if deal.owner_id is None:
        rule = _assign(tenant, deal, list(contact.tags) if contact else [])
    deal.save()
    scoring.deal_rescore(tenant=tenant, deal=deal)
    payload = _snapshot(deal)
    if rule:
        payload["assigned_by_rule"] = rule
    event_append(
        tenant=tenant, type=events.DEAL_CREATED, subject=deal, actor=actor, payload=payload
    )
    return deal


def _locked(tenant: Tenant, deal: Deal) -> Deal:
    return Deal.objects.select_for_update().get(tenant=tenant, pk=deal.pk)


def _record_changes(tenant: Tenant, actor: Actor, deal: Deal, before: dict[str, Any]) -> None:
    """deal.stage_changed for a move, deal.updated for the rest, each with from/to."""
    after = _snapshot(deal)
    diff = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    moved = {k: diff.pop(k) for k in ("pipeline_id", "stage_id") if k in diff}
    if moved:
        names = dict(
            Stage.objects.filter(
                tenant=tenant, pk__in=[before["stage_id"], after["stage_id"]]
            ).values_list("pk", "name")
        )
        event_append(
            tenant=tenant,
            type=events.DEAL_STAGE_CHANGED,
            subject=deal,
            actor=actor,
            payload={
                "changes": moved,
                "from_stage": names.get(before["stage_id"], ""),
                "to_stage": names.get(after["stage_id"], ""),
            },
        )
    if diff:
        event_append(
            tenant=tenant,
            type=events.DEAL_UPDATED,
            subject=deal,
            actor=actor,
            payload={"changes": diff},
        )


@transaction.atomic
def deal_update(*, tenant: Tenant, actor: Actor, deal: Deal, changes: dict[str, Any]) -> Deal:
    """Change what ``changes`` names (the keys of ``deal_create``; ``null`` clears
    ``owner_id``, ``contact_id``, ``company_id``, ``expected_close_date``). A new stage (or
    pipeline) moves the deal to the end of that column."""
    access.require_edit(actor)
    deal = _locked(tenant, deal)
    before = _snapshot(deal)
    if "title" in changes:
        deal.title = _clean_title(changes["title"])
    if "kind" in changes:
        if changes["kind"] not in DealKind.values:
            raise field_error("kind", "Use lead or deal.")
        deal.kind = changes["kind"]
    if "amount" in changes:
        deal.amount = clean_amount(changes["amount"])
    if "currency" in changes:
        deal.currency = clean_currency(changes["currency"])
    if "expected_close_date" in changes:
        deal.expected_close_date = _clean_date(changes["expected_close_date"])
    if "owner_id" in changes:
        deal.owner = clean_owner(tenant, changes["owner_id"])
    if "contact_id" in changes:
        deal.contact = _link(tenant, Contact, changes["contact_id"], "contact_id")
    if "company_id" in changes:
        deal.company = _link(tenant, Company, changes["company_id"], "company_id")
    if "stage_id" in changes or "pipeline_id" in changes:
        pipeline, stage = _pipeline_and_stage(
            tenant, changes.get("pipeline_id"), changes.get("stage_id")
        )
        if stage.pk != deal.stage_id:
            deal.pipeline, deal.stage = pipeline, stage
            deal.position = _end_of_column(tenant, stage)
    deal.save()
    scoring.deal_rescore(tenant=tenant, deal=deal)
    _record_changes(tenant, actor, deal, before)
    return deal


@transaction.atomic
def deal_move(
    *, tenant: Tenant, actor: Actor, deal: Deal, stage_id: int, before_id: int | None = None
) -> Deal:
    """The board's drag and drop (and its keyboard moves): put the deal in ``stage_id``,
    just above the card ``before_id`` (or at the end of the column)."""
    access.require_edit(actor)
    deal = _locked(tenant, deal)
    stage = Stage.objects.filter(tenant=tenant, pk=stage_id).first()
    if stage is None:
        raise field_error("stage_id", f"No stage with id {stage_id}.")
    if stage.pipeline_id != deal.pipeline_id:
        raise field_error("stage_id", "This stage belongs to another pipeline.")
    before = _snapshot(deal)
    before_position = deal.position
    if before_id is not None:
        anchor = Deal.objects.filter(tenant=tenant, pk=before_id, stage=stage).first()
        if anchor is None:
            raise field_error("before_id", "That card is not in this stage.")
        # Make room: every card from the anchor down shifts by one.
        Deal.objects.filter(tenant=tenant, stage=stage, position__gte=anchor.position).exclude(
            pk=deal.pk
        ).update(position=F("position") + 1)
        deal.position = anchor.position
    elif stage.pk != deal.stage_id:
        deal.position = _end_of_column(tenant, stage)
    deal.stage = stage
    deal.save(update_fields=["stage", "position", "updated_at"])
    if stage.pk == before["stage_id"] and deal.position != before_position:
        event_append(
            tenant=tenant,
            type=events.DEAL_UPDATED,
            subject=deal,
            actor=actor,
            payload={"changes": {"position": {"from": before_position, "to": deal.position}}},
        )
    scoring.deal_rescore(tenant=tenant, deal=deal)
    _record_changes(tenant, actor, deal, before)
    return deal


@transaction.atomic
def deal_close(*, tenant: Tenant, actor: Actor, deal: Deal, status: str, reason: str = "") -> Deal:
    """Mark a deal won or lost (lost needs a reason), or reopen it (``status="open"``)."""
    access.require_edit(actor)
    deal = _locked(tenant, deal)
    reason = " ".join(str(reason or "").split())[:300]
    if status not in DealStatus.values:
        raise field_error("status", "Use open, won or lost.")
    if status == deal.status:
        raise field_error("status", f"The deal is already {status}.")
    if status == DealStatus.LOST and not reason:
        raise field_error("reason", "Say why the deal was lost.")
    before = _snapshot(deal)
    deal.status = status
    deal.close_reason = "" if status == DealStatus.OPEN else reason
    deal.closed_at = None if status == DealStatus.OPEN else timezone.now()
    if status == DealStatus.WON:
        deal.kind = DealKind.DEAL
    deal.save()
    scoring.deal_rescore(tenant=tenant, deal=deal)
    type_ = {
        DealStatus.WON: events.DEAL_WON,
        DealStatus.LOST: events.DEAL_LOST,
        DealStatus.OPEN: events.DEAL_REOPENED,
    }[DealStatus(status)]
    after = _snapshot(deal)
    event_append(
        tenant=tenant,
        type=type_,
        subject=deal,
        actor=actor,
        payload={
            "reason": deal.close_reason,
            "amount": after["amount"],
            "currency": deal.currency,
            "changes": {
                k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]
            },
        },
    )
    return deal


@transaction.atomic
def deal_convert(*, tenant: Tenant, actor: Actor, deal: Deal) -> Deal:
    """A lead becomes a deal: the same row, so its activities, history and links stay."""
    access.require_edit(actor)
    deal = _locked(tenant, deal)
    if deal.kind != DealKind.LEAD:
        raise field_error("kind", "This is a deal already.")
    deal.kind = DealKind.DEAL
    deal.save(update_fields=["kind", "updated_at"])
    event_append(
        tenant=tenant,
        type=events.DEAL_CONVERTED,
        subject=deal,
        actor=actor,
        payload={"changes": {"kind": {"from": DealKind.LEAD, "to": DealKind.DEAL}}},
    )
    return deal


@transaction.atomic
def deal_delete(*, tenant: Tenant, actor: Actor, deal: Deal) -> None:
    access.require_admin(actor)
    event_append(
        tenant=tenant, type=events.DEAL_DELETED, subject=deal, actor=actor, payload=_snapshot(deal)
    )
    deal.delete()
