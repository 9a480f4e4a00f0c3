"""Lead scoring: a score of 0-100 for every open lead and deal, with its reasons.

score = (the model's chance of winning, in percent, when a model is trained) + the points
of every active rule that matches, clamped to 0-100. Each rule that matched and the
model's three strongest features are the reasons shown beside the score.

The model is a logistic regression (scikit-learn) trained on the tenant's closed deals,
won against lost, over features every deal has from its first day (amount, links,
activities, the close date's distance). It is stored as numbers (``ScoringModel``) and
applied here with plain arithmetic, so scoring a deal on every write costs no model load.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.crm import access, events
from autocrm.crm.models import (
    Activity,
    Deal,
    DealKind,
    DealStatus,
    ScoringModel,
    ScoringRule,
    ScoringRuleKind,
)

MIN_SAMPLES = 10
MIN_PER_CLASS = 3
TRAIN_LIMIT = 50_000  # the newest closed deals a model learns from
FEATURES = (
    "log_amount",
    "has_contact",
    "has_company",
    "log_activities",
    "contact_consent_email",
    "has_close_date",
    "log_days_to_close",
    "is_lead",
)
FEATURE_WORDS = {
    "log_amount": ("a larger amount", "a smaller amount"),
    "has_contact": ("a linked contact", "no linked contact"),
    "has_company": ("a linked company", "no linked company"),
    "log_activities": ("more activities", "few activities"),
    "contact_consent_email": ("e-mail consent", "no e-mail consent"),
    "has_close_date": ("an expected close date", "no expected close date"),
    "log_days_to_close": ("a later close date", "an early close date"),
    "is_lead": ("being a lead", "being a qualified deal"),
}


@dataclass(frozen=True)
class Reason:
    source: str  # "rule" or "model"
    points: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "points": self.points, "text": self.text}


def features_of(deal: Deal, activities: int) -> list[float]:
    created = deal.created_at or timezone.now()
    days = 0.0
    if deal.expected_close_date is not None:
        days = max(0.0, float((deal.expected_close_date - created.date()).days))
    return [
        math.log1p(float(deal.amount)),
        1.0 if deal.contact_id else 0.0,
        1.0 if deal.company_id else 0.0,
        math.log1p(activities),
        1.0 if deal.contact_id and deal.contact and deal.contact.consent_email else 0.0,
        1.0 if deal.expected_close_date else 0.0,
        math.log1p(days),
        1.0 if deal.kind == DealKind.LEAD else 0.0,
    ]


def _rule_matches(rule: ScoringRule, deal: Deal, activities_recent: int | None) -> bool:
    kind = rule.kind
    if kind == ScoringRuleKind.AMOUNT_AT_LEAST:
        try:
            return float(deal.amount) >= float(rule.value or 0)
        except ValueError:
            return False
    if kind == ScoringRuleKind.HAS_COMPANY:
        return deal.company_id is not None
    if kind == ScoringRuleKind.HAS_CONTACT:
        return deal.contact_id is not None
    if kind == ScoringRuleKind.CONTACT_TAG:
        return bool(deal.contact_id and deal.contact and rule.value.lower() in deal.contact.tags)
    if kind == ScoringRuleKind.CONTACT_CONSENT_EMAIL:
        return bool(deal.contact_id and deal.contact and deal.contact.consent_email)
    if kind == ScoringRuleKind.STAGE_PROBABILITY_AT_LEAST:
        return deal.stage.probability >= float(rule.value or 0)
    if kind == ScoringRuleKind.RECENT_ACTIVITY:
        return bool(activities_recent)
    return False


def rule_text(rule: ScoringRule) -> str:
    label = ScoringRuleKind(rule.kind).label
    return f"{label} {rule.value}".strip()


def _recent_activities(tenant: Tenant, deal: Deal, rules: list[ScoringRule]) -> int | None:
    days = [float(r.value or 0) for r in rules if r.kind == ScoringRuleKind.RECENT_ACTIVITY]
    if not days or deal.pk is None:
        return None
    since = timezone.now() - dt.timedelta(days=max(days))
    return Activity.objects.filter(tenant=tenant, deal=deal, created_at__gte=since).count()


def latest_model(tenant: Tenant) -> ScoringModel | None:
    return ScoringModel.objects.filter(tenant=tenant).order_by("-trained_at", "-id").first()


def model_probability(model: ScoringModel, x: list[float]) -> tuple[float, list[Reason]]:
    """P(won) and the three features that pushed it most (by their share of the logit)."""
    contributions = []
    z = model.intercept
    for name, value, mean, scale, coef in zip(
        model.features, x, model.means, model.scales, model.coefficients, strict=True
    ):
        c = coef * (value - mean) / (scale or 1.0)
        z += c
        contributions.append((c, name))
    p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
    reasons = []
    for c, name in sorted(contributions, key=lambda t: -abs(t[0]))[:3]:
        if abs(c) < 0.05:
            continue
        up, down = FEATURE_WORDS.get(name, (name, name))
        word = up if c > 0 else down
        reasons.append(Reason("model", 0, f"{word} {'raises' if c > 0 else 'lowers'} the chance"))
    return p, reasons


def deal_score(
    *, tenant: Tenant, deal: Deal, rules: list[ScoringRule] | None = None, model: Any = ...
) -> tuple[int, list[Reason]]:
    """The score of one deal and why (nothing is written)."""
    if rules is None:
        rules = list(ScoringRule.objects.filter(tenant=tenant, active=True).order_by("id"))
    if model is ...:
        model = latest_model(tenant)
    reasons: list[Reason] = []
    total = 0.0
    if model is not None:
        activities = Activity.objects.filter(tenant=tenant, deal=deal).count() if deal.pk else 0
        p, why = model_probability(model, features_of(deal, activities))
        points = round(100 * p)
        total += points
        reasons.append(
            Reason(
                "model",
                points,
                f"Model: {points}% chance to win, from {model.samples} closed deals",
            )
        )
        reasons.extend(why)
    recent = _recent_activities(tenant, deal, rules)
    for rule in rules:
        if _rule_matches(rule, deal, recent):
            total += rule.points
            reasons.append(Reason("rule", rule.points, rule_text(rule)))
    return max(0, min(100, round(total))), reasons


def deal_rescore(*, tenant: Tenant, deal: Deal) -> None:
    """Recompute and store an open deal's score (closed deals keep the score they closed
    with). Called by the deal services inside their transaction; the score is derived, so
    the service's own event records the change that caused it."""
    if deal.status != DealStatus.OPEN:
        return
    rules = list(ScoringRule.objects.filter(tenant=tenant, active=True).order_by("id"))
    model = latest_model(tenant)
    if not rules and model is None:
        # Nothing to score by: no score rather than a meaningless 0 on every card.
        deal.score, deal.score_reasons = None, []
    else:
        score, reasons = deal_score(tenant=tenant, deal=deal, rules=rules, model=model)
        deal.score, deal.score_reasons = score, [r.as_dict() for r in reasons]
    Deal.objects.filter(tenant=tenant, pk=deal.pk).update(
        score=deal.score, score_reasons=deal.score_reasons
    )


def _with_activity_counts(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    return deals.select_related("contact", "stage").annotate(activity_count=Count("activities"))


@transaction.atomic
def scoring_model_train(*, tenant: Tenant, actor: Actor) -> ScoringModel:
    """Train on the newest closed deals, store the model, rescore every open deal."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    access.require_admin(actor)
    closed = _with_activity_counts(
        Deal.objects.filter(tenant=tenant, status__in=[DealStatus.WON, DealStatus.LOST])
    ).order_by("-closed_at", "-id")[:TRAIN_LIMIT]
    rows = list(closed)
    x = [features_of(d, d.activity_count) for d in rows]  # type: ignore[attr-defined]
    y = [1 if d.status == DealStatus.WON else 0 for d in rows]
    won = sum(y)
    if len(rows) < MIN_SAMPLES or min(won, len(y) - won) < MIN_PER_CLASS:
        raise ValidationError(
            {
                "deals": f"Training needs at least {MIN_SAMPLES} closed deals, "
                f"{MIN_PER_CLASS} won and {MIN_PER_CLASS} lost "
                f"(have {won} won, {len(y) - won} lost)."
            }
        )
    pipe = make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000, class_weight="balanced")
    )
    folds = min(5, won, len(y) - won)
    accuracy = float(cross_val_score(pipe, x, y, cv=folds).mean()) if folds >= 2 else None
    pipe.fit(x, y)
    scaler, logistic = pipe[0], pipe[1]
    model = ScoringModel.objects.create(
        tenant=tenant,
        trained_at=timezone.now(),
        samples=len(rows),
        won=won,
        features=list(FEATURES),
        means=[float(v) for v in scaler.mean_],
        scales=[float(v) for v in scaler.scale_],
        coefficients=[float(v) for v in logistic.coef_[0]],
        intercept=float(logistic.intercept_[0]),
        accuracy=accuracy,
    )
    rescored = deals_rescore_all(tenant=tenant, model=model)
    event_append(
        tenant=tenant,
        type=events.SCORING_MODEL_TRAINED,
        subject=model,
        actor=actor,
        payload={"samples": len(rows), "won": won, "accuracy": accuracy, "rescored": rescored},
    )
    return model


def deals_rescore_all(*, tenant: Tenant, model: ScoringModel | None) -> int:
    """Rescore every open deal of the tenant (after training or a change of rules)."""
    rules = list(ScoringRule.objects.filter(tenant=tenant, active=True).order_by("id"))
    changed = []
    if not rules and model is None:
        return Deal.objects.filter(tenant=tenant, status=DealStatus.OPEN).update(
            score=None, score_reasons=[]
        )
    for deal in _with_activity_counts(
        Deal.objects.filter(tenant=tenant, status=DealStatus.OPEN)
    ).iterator(chunk_size=2000):
        score, reasons = deal_score(tenant=tenant, deal=deal, rules=rules, model=model)
        deal.score, deal.score_reasons = score, [r.as_dict() for r in reasons]
        changed.append(deal)
    Deal.objects.bulk_update(changed, ["score", "score_reasons"], batch_size=1000)
    return len(changed)


@transaction.atomic
def scoring_rules_set(
    *, tenant: Tenant, actor: Actor, rules: list[dict[str, Any]]
) -> list[ScoringRule]:
    """Replace the tenant's scoring rules (``[{"kind", "value", "points"}]``), then rescore."""
    access.require_admin(actor)
    cleaned = []
    for i, r in enumerate(rules):
        kind = r.get("kind")
        if kind not in ScoringRuleKind.values:
            raise ValidationError({"rules": f"Rule {i + 1}: unknown kind {kind!r}."})
        value = str(r.get("value") or "").strip()[:100]
        if kind in (
            ScoringRuleKind.AMOUNT_AT_LEAST,
            ScoringRuleKind.STAGE_PROBABILITY_AT_LEAST,
            ScoringRuleKind.RECENT_ACTIVITY,
        ):
            try:
                if float(value) < 0:
                    raise ValueError
            except ValueError:
                raise ValidationError(
                    {"rules": f"Rule {i + 1}: the value is a number ≥ 0."}
                ) from None
        if kind == ScoringRuleKind.CONTACT_TAG and not value:
            raise ValidationError({"rules": f"Rule {i + 1}: name the tag."})
        points = int(r.get("points") or 0)
        if not -100 <= points <= 100:
            raise ValidationError({"rules": f"Rule {i + 1}: points are -100 to 100."})
        cleaned.append(ScoringRule(tenant=tenant, kind=kind, value=value.lower(), points=points))
    before = [
        {"kind": r.kind, "value": r.value, "points": r.points}
        for r in ScoringRule.objects.filter(tenant=tenant).order_by("id")
    ]
    ScoringRule.objects.filter(tenant=tenant).delete()
    saved = ScoringRule.objects.bulk_create(cleaned)
    after = [{"kind": r.kind, "value": r.value, "points": r.points} for r in saved]
    if before != after:
        deals_rescore_all(tenant=tenant, model=latest_model(tenant))
        event_append(
            tenant=tenant,
            type=events.SCORING_RULES_UPDATED,
            subject=("crm.scoringrule", tenant.pk),
            actor=actor,
            payload={"changes": {"rules": {"from": before, "to": after}}},
        )
    return saved
