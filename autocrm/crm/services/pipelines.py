"""Writes of pipelines and their stages. Owners and admins shape pipelines; agents move
deals through them (services/deals.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.crm import access, events
from autocrm.crm.models import Deal, Pipeline, Stage
from autocrm.crm.services.common import field_error

MAX_STAGES = 30
DEFAULT_STAGES = (
    ("Qualified", 10),
    ("Meeting booked", 25),
    ("Proposal sent", 50),
    ("Negotiation", 75),
    ("Verbal yes", 90),
)


@dataclass(frozen=True)
class StageInput:
    name: str
    probability: int = 0
    id: int | None = None  # an existing stage of the pipeline (changed, kept), or new


def _clean_name(value: str, field: str) -> str:
    name = " ".join(str(value).split())[:100]
    if not name:
        raise field_error(field, "A name is required.")
    return name


def _clean_stages(stages: Sequence[StageInput]) -> list[StageInput]:
    if not stages:
        raise field_error("stages", "A pipeline needs at least one stage.")
    if len(stages) > MAX_STAGES:
        raise field_error("stages", f"At most {MAX_STAGES} stages.")
    out: list[StageInput] = []
    seen: set[str] = set()
    for s in stages:
        name = _clean_name(s.name, "stages")
        if name.lower() in seen:
            raise field_error("stages", f"Two stages are named {name!r}.")
        seen.add(name.lower())
        if not 0 <= int(s.probability) <= 100:
            raise field_error("stages", f"{name}: the probability is a percentage, 0 to 100.")
        out.append(StageInput(name=name, probability=int(s.probability), id=s.id))
    return out


def _stages_snapshot(pipeline: Pipeline) -> list[dict[str, Any]]:
    return [
        {"id": s.pk, "name": s.name, "probability": s.probability}
        for s in pipeline.stages.order_by("position", "id")
    ]


def _name_free(tenant: Tenant, name: str, pipeline: Pipeline | None = None) -> None:
    taken = Pipeline.objects.filter(tenant=tenant, name__iexact=name)
    if pipeline is not None:
        taken = taken.exclude(pk=pipeline.pk)
    if taken.exists():
        raise field_error("name", f"A pipeline named {name!r} exists.")


@transaction.atomic
def pipeline_create(
    *, tenant: Tenant, actor: Actor, name: str, stages: Sequence[StageInput] = ()
) -> Pipeline:
    """A new pipeline, last in order; without stages it gets the usual five."""
    access.require_admin(actor)
    name = _clean_name(name, "name")
    _name_free(tenant, name)
    cleaned = _clean_stages(stages or [StageInput(n, p) for n, p in DEFAULT_STAGES])
    last = Pipeline.objects.filter(tenant=tenant).aggregate(m=Max("position"))["m"]
    pipeline = Pipeline.objects.create(
        tenant=tenant, name=name, position=0 if last is None else last + 1
    )
    Stage.objects.bulk_create(
        [
            Stage(
                tenant=tenant, pipeline=pipeline, name=s.name, probability=s.probability, position=i
            )
            for i, s in enumerate(cleaned)
        ]
    )
    event_append(
        tenant=tenant,
        type=events.PIPELINE_CREATED,
        subject=pipeline,
        actor=actor,
        payload={"name": name, "stages": _stages_snapshot(pipeline)},
    )
    return pipeline


def _stages_set(tenant: Tenant, pipeline: Pipeline, stages: list[StageInput]) -> None:
    """The pipeline's stages become exactly ``stages`` in that order: an ``id`` keeps (and
    renames) a stage, a new entry adds one, a stage left out is removed unless deals are
    in it (move them first)."""
    existing = {
        s.pk: s for s in Stage.objects.select_for_update().filter(tenant=tenant, pipeline=pipeline)
    }
    unknown = [s.id for s in stages if s.id is not None and s.id not in existing]
    if unknown:
        raise field_error("stages", f"No stage {unknown[0]} in this pipeline.")
    keep = {s.id for s in stages if s.id is not None}
    dropped = [pk for pk in existing if pk not in keep]
    busy = (
        Deal.objects.filter(tenant=tenant, stage_id__in=dropped)
        .values_list("stage__name", flat=True)
        .first()
    )
    if busy:
        raise field_error("stages", f"Deals are in {busy!r}; move them before removing it.")
    Stage.objects.filter(tenant=tenant, pk__in=dropped).delete()
    # Names are unique per pipeline: park every kept stage on a temporary name first so a
    # swap of two names does not collide halfway.
    for stage in existing.values():
        if stage.pk in keep:
            stage.name = f"\x01{stage.pk}"
            stage.save(update_fields=["name"])
    for position, s in enumerate(stages):
        if s.id is not None:
            stage = existing[s.id]
            stage.name, stage.probability, stage.position = s.name, s.probability, position
            stage.save(update_fields=["name", "probability", "position"])
        else:
            Stage.objects.create(
                tenant=tenant,
                pipeline=pipeline,
                name=s.name,
                probability=s.probability,
                position=position,
            )


@transaction.atomic
def pipeline_update(
    *, tenant: Tenant, actor: Actor, pipeline: Pipeline, changes: dict[str, Any]
) -> Pipeline:
    """Change ``name``, ``position`` and/or ``stages`` (the whole ordered list)."""
    access.require_admin(actor)
    pipeline = Pipeline.objects.select_for_update().get(tenant=tenant, pk=pipeline.pk)
    before = {
        "name": pipeline.name,
        "position": pipeline.position,
        "stages": _stages_snapshot(pipeline),
    }
    if "name" in changes:
        pipeline.name = _clean_name(changes["name"], "name")
        _name_free(tenant, pipeline.name, pipeline)
    if "position" in changes:
        pipeline.position = int(changes["position"])
    pipeline.save()
    if "stages" in changes:
        _stages_set(tenant, pipeline, _clean_stages(changes["stages"]))
    after = {
        "name": pipeline.name,
        "position": pipeline.position,
        "stages": _stages_snapshot(pipeline),
    }
    diff = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if diff:
        event_append(
            tenant=tenant,
            type=events.PIPELINE_UPDATED,
            subject=pipeline,
            actor=actor,
            payload={"changes": diff},
        )
    return pipeline


@transaction.atomic
def pipeline_delete(*, tenant: Tenant, actor: Actor, pipeline: Pipeline) -> None:
    """Delete a pipeline that holds no lead or deal (a deal's history names its pipeline)."""
    access.require_admin(actor)
    if Deal.objects.filter(tenant=tenant, pipeline=pipeline).exists():
        raise ValidationError(
            {"pipeline": "Leads or deals are in this pipeline; move or delete them first."}
        )
    event_append(
        tenant=tenant,
        type=events.PIPELINE_DELETED,
        subject=pipeline,
        actor=actor,
        payload={"name": pipeline.name, "stages": _stages_snapshot(pipeline)},
    )
    pipeline.delete()
