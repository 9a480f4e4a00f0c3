"""Pipelines, leads and deals: services, their events, assignment rules, the forecast's
arithmetic and lead scoring (rules and the model trained on won/lost history)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from autocrm.accounts.tests.factories import SYSTEM, actor_of, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import scoring, selectors_deals, services
from autocrm.crm.models import Deal, DealAssignmentRule, Stage
from autocrm.crm.services import StageInput
from autocrm.crm.tests.factories import activity, company, contact, deal, pipeline

pytestmark = pytest.mark.django_db


def _events(tenant: Tenant, deal_id: int) -> list[tuple[str, dict]]:
    with tenant_context(tenant):
        rows = Event.objects.filter(subject_type="crm.deal", subject_id=str(deal_id)).order_by("id")
        return [(e.type, e.payload) for e in rows]


def _stages(p) -> list[Stage]:  # type: ignore[no-untyped-def]
    with tenant_context(p.tenant):
        return list(p.stages.order_by("position"))


def test_a_pipeline_gets_the_usual_stages_and_a_deal_starts_in_the_first(tenant_a: Tenant) -> None:
    sales = pipeline(tenant_a, name="Sales")
    stages = _stages(sales)
    assert [(s.name, s.probability) for s in stages][:2] == [
        ("Qualified", 10),
        ("Meeting booked", 25),
    ]
    acme = company(tenant_a, name="Acme", domains=["acme.test"])
    pat = contact(tenant_a, email="pat@acme.test")
    d = deal(tenant_a, title="Acme renewal", amount="1200.5", currency="eur", contact_id=pat.pk)
    assert (d.pipeline_id, d.stage_id, d.company_id) == (sales.pk, stages[0].pk, acme.pk)
    assert (d.amount, d.currency, d.status, d.kind) == (Decimal("1200.50"), "EUR", "open", "deal")
    ((type_, payload),) = _events(tenant_a, d.pk)
    assert type_ == "deal.created" and payload["amount"] == "1200.50"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"currency": "EURO"}, "currency"),
        ({"title": "  "}, "title"),
        ({"stage_id": 2_000_000_000}, "stage_id"),
        ({"contact_id": 2_000_000_000}, "contact_id"),
        ({"owner_id": 2_000_000_000}, "owner_id"),
        ({"kind": "opportunity"}, "kind"),
        ({"expected_close_date": "31/12/2026"}, "expected_close_date"),
    ],
)
def test_bad_deal_input_names_its_field(tenant_a: Tenant, values: dict, field: str) -> None:
    pipeline(tenant_a)
    with pytest.raises(ValidationError) as exc:
        deal(tenant_a, **values)
    assert field in exc.value.message_dict


def test_no_pipeline_is_a_clear_error_and_customers_cannot_write(tenant_a: Tenant) -> None:
    with pytest.raises(ValidationError) as exc:
        deal(tenant_a)
    assert "pipeline" in str(exc.value)
    pipeline(tenant_a)
    light = member(tenant_a, "light_agent")
    with tenant_context(tenant_a), pytest.raises(PermissionDenied):
        services.deal_create(tenant=tenant_a, actor=actor_of(tenant_a, light), title="x")


def test_moving_a_card_orders_the_column_and_appends_one_event_per_change(tenant_a: Tenant) -> None:
    sales = pipeline(tenant_a)
    first, second = _stages(sales)[:2]
    a, b, c = (deal(tenant_a, title=t) for t in "abc")
    with tenant_context(tenant_a):
        services.deal_move(tenant=tenant_a, actor=SYSTEM, deal=a, stage_id=second.pk)
        services.deal_move(
            tenant=tenant_a, actor=SYSTEM, deal=c, stage_id=second.pk, before_id=a.pk
        )
        services.deal_move(tenant=tenant_a, actor=SYSTEM, deal=b, stage_id=first.pk)  # no-op
        column = list(
            Deal.objects.filter(stage=second)
            .order_by("position", "id")
            .values_list("title", flat=True)
        )
    assert column == ["c", "a"]
    moved = [p for t, p in _events(tenant_a, c.pk) if t == "deal.stage_changed"]
    assert moved == [
        {
            "changes": {"stage_id": {"from": first.pk, "to": second.pk}},
            "from_stage": first.name,
            "to_stage": second.name,
        }
    ]
    assert [t for t, _ in _events(tenant_a, b.pk)] == ["deal.created"]
    other = pipeline(tenant_a, name="Other")
    with tenant_context(tenant_a), pytest.raises(ValidationError):
        services.deal_move(tenant=tenant_a, actor=SYSTEM, deal=a, stage_id=_stages(other)[0].pk)


def test_win_lose_reopen_and_convert(tenant_a: Tenant) -> None:
    pipeline(tenant_a)
    lead = deal(tenant_a, kind="lead", amount=500)
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as exc:
            services.deal_close(tenant=tenant_a, actor=SYSTEM, deal=lead, status="lost")
        assert "reason" in exc.value.message_dict
        services.deal_convert(tenant=tenant_a, actor=SYSTEM, deal=lead)
        services.deal_close(
            tenant=tenant_a, actor=SYSTEM, deal=lead, status="lost", reason="Went with a rival"
        )
        lost = Deal.objects.get(pk=lead.pk)
        assert (lost.kind, lost.status, lost.close_reason) == ("deal", "lost", "Went with a rival")
        assert lost.closed_at is not None
        services.deal_close(tenant=tenant_a, actor=SYSTEM, deal=lost, status="open")
        services.deal_close(tenant=tenant_a, actor=SYSTEM, deal=lost, status="won")
        won = Deal.objects.get(pk=lead.pk)
        assert (won.status, won.close_reason) == ("won", "")
    types = [t for t, _ in _events(tenant_a, lead.pk)]
    assert types == ["deal.created", "deal.converted", "deal.lost", "deal.reopened", "deal.won"]


def test_update_records_from_and_to_and_a_stage_change_separately(tenant_a: Tenant) -> None:
    sales = pipeline(tenant_a)
    d = deal(tenant_a, amount=100)
    with tenant_context(tenant_a):
        services.deal_update(
            tenant=tenant_a,
            actor=SYSTEM,
            deal=d,
            changes={
                "amount": "250",
                "stage_id": _stages(sales)[2].pk,
                "expected_close_date": None,
            },
        )
    (updated,) = [p for t, p in _events(tenant_a, d.pk) if t == "deal.updated"]
    assert updated["changes"] == {"amount": {"from": "100.00", "to": "250.00"}}
    assert [t for t, _ in _events(tenant_a, d.pk)][-2:] == ["deal.stage_changed", "deal.updated"]


def test_stages_can_be_renamed_swapped_added_and_removed_when_empty(tenant_a: Tenant) -> None:
    p = pipeline(tenant_a, stages=[StageInput("A", 10), StageInput("B", 50)])
    a, b = _stages(p)
    d = deal(tenant_a, stage_id=b.pk)
    with tenant_context(tenant_a):
        services.pipeline_update(
            tenant=tenant_a,
            actor=SYSTEM,
            pipeline=p,
            changes={
                "stages": [
                    StageInput("A", 20, id=b.pk),
                    StageInput("B", 60, id=a.pk),
                    StageInput("C", 90),
                ]
            },
        )
        assert [(s.pk, s.name, s.probability) for s in _stages(p)][:2] == [
            (b.pk, "A", 20),
            (a.pk, "B", 60),
        ]
        with pytest.raises(ValidationError, match="move them"):
            services.pipeline_update(
                tenant=tenant_a, actor=SYSTEM, pipeline=p, changes={"stages": [StageInput("X", 1)]}
            )
        with pytest.raises(ValidationError):
            services.pipeline_delete(tenant=tenant_a, actor=SYSTEM, pipeline=p)
        services.deal_delete(tenant=tenant_a, actor=SYSTEM, deal=d)
        services.pipeline_delete(tenant=tenant_a, actor=SYSTEM, pipeline=p)
    agent = member(tenant_a, "agent")
    with tenant_context(tenant_a), pytest.raises(PermissionDenied):
        services.pipeline_create(tenant=tenant_a, actor=actor_of(tenant_a, agent), name="Mine")


def test_assignment_rules_take_turns_and_skip_people_who_left(tenant_a: Tenant) -> None:
    sales = pipeline(tenant_a)
    kim, lee, gone = (
        member(tenant_a, "agent", email=f"{n}@acme.test") for n in ("kim", "lee", "gone")
    )
    big = member(tenant_a, "agent", email="big@acme.test")
    with tenant_context(tenant_a):
        DealAssignmentRule.objects.create(
            tenant=tenant_a, name="Big deals", position=0, min_amount=10_000, user_ids=[big.pk]
        )
        DealAssignmentRule.objects.create(
            tenant=tenant_a,
            name="Everyone",
            position=1,
            pipeline=sales,
            user_ids=[kim.pk, gone.pk, lee.pk],
        )
        from autocrm.accounts.models import Membership

        Membership.objects.filter(tenant=tenant_a, user=gone).update(role="customer")
    made = [deal(tenant_a, amount=a) for a in (100, 100, 50_000, 100)]
    assert [d.owner_id for d in made] == [kim.pk, lee.pk, big.pk, kim.pk]
    chosen = deal(tenant_a, owner_id=lee.pk, amount=50_000)
    assert chosen.owner_id == lee.pk
    created = dict(_events(tenant_a, made[0].pk))
    assert created["deal.created"]["assigned_by_rule"] == "Everyone"


def test_forecast_weights_open_deals_by_stage_per_month_owner_and_currency(
    tenant_a: Tenant,
) -> None:
    sales = pipeline(tenant_a, stages=[StageInput("Early", 10), StageInput("Late", 75)])
    early, late = _stages(sales)
    kim = member(tenant_a, "agent", email="kim@acme.test", name="Kim")
    jan, feb = dt.date(2027, 1, 15), dt.date(2027, 2, 3)
    deal(
        tenant_a,
        amount="1000",
        currency="EUR",
        stage_id=early.pk,
        owner_id=kim.pk,
        expected_close_date=jan,
    )
    deal(
        tenant_a,
        amount="333.33",
        currency="EUR",
        stage_id=late.pk,
        owner_id=kim.pk,
        expected_close_date=jan,
    )
    deal(
        tenant_a,
        amount="2000",
        currency="USD",
        stage_id=late.pk,
        owner_id=kim.pk,
        expected_close_date=jan,
    )
    deal(tenant_a, amount="400", currency="EUR", stage_id=late.pk, expected_close_date=feb)
    deal(tenant_a, amount="999", currency="EUR", stage_id=late.pk)  # no date: no month
    deal(tenant_a, amount="5000", currency="EUR", expected_close_date=dt.date(2027, 9, 1))  # later
    lost = deal(tenant_a, amount="7000", currency="EUR", expected_close_date=jan)
    won = deal(tenant_a, amount="800", currency="EUR", owner_id=kim.pk, expected_close_date=jan)
    with tenant_context(tenant_a):
        services.deal_close(tenant=tenant_a, actor=SYSTEM, deal=lost, status="lost", reason="no")
        services.deal_close(tenant=tenant_a, actor=SYSTEM, deal=won, status="won")
        Deal.objects.filter(pk=won.pk).update(closed_at=dt.datetime(2027, 2, 10, 12, tzinfo=dt.UTC))
        result = selectors_deals.forecast(tenant=tenant_a, actor=SYSTEM, start=jan, months=3)
    got = {
        (r.month, r.owner_name, r.currency): (
            r.open_amount,
            r.weighted_amount,
            r.won_amount,
            r.deals,
        )
        for r in result.rows
    }
    assert got == {
        # 1000 x 10% + 333.33 x 75% (249.9975 -> 250.00 by the cent per deal)
        (dt.date(2027, 1, 1), "Kim", "EUR"): (Decimal("1333.33"), Decimal("350.00"), 0, 2),
        (dt.date(2027, 1, 1), "Kim", "USD"): (Decimal("2000"), Decimal("1500.00"), 0, 1),
        (dt.date(2027, 2, 1), "Kim", "EUR"): (0, 0, Decimal("800"), 1),
        (dt.date(2027, 2, 1), "Unassigned", "EUR"): (Decimal("400"), Decimal("300.00"), 0, 1),
    }
    assert result.months == [dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 3, 1)]
    assert result.totals["EUR"] == {
        "open": Decimal("1733.33"),
        "weighted": Decimal("650.00"),
        "won": Decimal("800"),
    }
    with tenant_context(tenant_a):
        mine = selectors_deals.forecast(
            tenant=tenant_a, actor=actor_of(tenant_a, kim), start=jan, months=1, owner="me"
        )
    assert {r.currency for r in mine.rows} == {"EUR", "USD"}


def test_rules_score_a_deal_and_say_why(tenant_a: Tenant) -> None:
    pipeline(tenant_a)
    vip = contact(tenant_a, email="vip@acme.test", tags=["vip"], consent_email=True)
    with tenant_context(tenant_a):
        scoring.scoring_rules_set(
            tenant=tenant_a,
            actor=SYSTEM,
            rules=[
                {"kind": "amount_at_least", "value": "10000", "points": 30},
                {"kind": "contact_tag", "value": "VIP", "points": 25},
                {"kind": "has_company", "points": 10},
                {"kind": "recent_activity", "value": "7", "points": 15},
            ],
        )
    d = deal(tenant_a, amount=20_000, contact_id=vip.pk)
    assert d.score == 55
    assert [(r["points"], r["text"]) for r in d.score_reasons] == [
        (30, "Amount at least 10000"),
        (25, "Contact has tag vip"),
    ]
    activity(tenant_a, deal_id=d.pk)
    with tenant_context(tenant_a):
        services.deal_update(tenant=tenant_a, actor=SYSTEM, deal=d, changes={"title": "Bigger"})
        assert Deal.objects.get(pk=d.pk).score == 70
        with pytest.raises(ValidationError):
            scoring.scoring_rules_set(
                tenant=tenant_a,
                actor=SYSTEM,
                rules=[{"kind": "amount_at_least", "value": "x", "points": 1}],
            )


def test_the_model_learns_from_won_and_lost_deals(tenant_a: Tenant) -> None:
    pipeline(tenant_a)
    with tenant_context(tenant_a), pytest.raises(ValidationError, match="at least"):
        scoring.scoring_model_train(tenant=tenant_a, actor=SYSTEM)
    firm = company(tenant_a, name="Firm")
    # History: deals with a company and a large amount were won, the others lost.
    for i in range(24):
        good = i % 2 == 0
        d = deal(
            tenant_a,
            amount=50_000 + i if good else 500 + i,
            company_id=firm.pk if good else None,
        )
        with tenant_context(tenant_a):
            services.deal_close(
                tenant=tenant_a, actor=SYSTEM, deal=d, status="won" if good else "lost", reason="r"
            )
    likely = deal(tenant_a, amount=60_000, company_id=firm.pk)
    unlikely = deal(tenant_a, amount=300)
    with tenant_context(tenant_a):
        model = scoring.scoring_model_train(tenant=tenant_a, actor=SYSTEM)
        likely.refresh_from_db()
        unlikely.refresh_from_db()
    assert (model.samples, model.won) == (24, 12)
    assert model.accuracy is not None and model.accuracy > 0.9
    assert likely.score is not None and unlikely.score is not None
    assert likely.score > 80 > 20 > unlikely.score
    texts = [r["text"] for r in likely.score_reasons]
    assert texts[0].startswith("Model: ") and "from 24 closed deals" in texts[0]
    assert any("larger amount raises" in t or "linked company raises" in t for t in texts[1:])
    with tenant_context(tenant_a):
        assert Event.objects.filter(type="deal.scoring_model_trained").count() == 1
    assert timezone.now() >= model.trained_at


def test_deal_search_finds_words_and_typos_and_sorts_by_every_ordering(tenant_a: Tenant) -> None:
    pipeline(tenant_a)
    acme = deal(tenant_a, title="Acme renewal", amount=300)
    globex = deal(tenant_a, title="Globex expansion", amount=100)

    def found(q: str, sort: str = "-created_at") -> list[int]:
        with tenant_context(tenant_a):
            rows = selectors_deals.deal_list(
                tenant=tenant_a, actor=SYSTEM, filters=selectors_deals.DealFilters(q=q)
            )
            return [d.pk for d in rows.order_by(*selectors_deals.DEAL_ORDERINGS[sort])]

    assert found("renewal") == [acme.pk]
    assert found("renewl") == [acme.pk]  # one letter missing
    assert found("GLOBEX") == [globex.pk]
    assert found("nothing like it") == []
    assert found("", "title") == [acme.pk, globex.pk]
    assert found("", "-amount") == [acme.pk, globex.pk]
