from __future__ import annotations

import pytest
from django.core.management import call_command

from autocrm.ai import event_handlers
from autocrm.ai.indexing import INDEX_ACTOR, stale_sources, tenant_reindex, ticket_index
from autocrm.ai.models import Chunk, SourceType, Visibility
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge import services as kb
from autocrm.knowledge.tests.factories import article
from autocrm.testing.worker import clear_jobs, run_worker_until_idle
from autocrm.tickets import services as tickets
from autocrm.tickets.tests.factories import SYSTEM, ticket


def _dispatch_last(tenant: Tenant, type_: str) -> None:
    """Run the AI handler of the newest event of ``type_`` (the worker does this)."""
    event = Event.objects.filter(tenant=tenant, type=type_).latest("pk")
    if type_.startswith("kb."):
        event_handlers.index_article(event)
    else:
        event_handlers.index_ticket(event)


def _chunks(tenant: Tenant, source_type: str, source_id: int) -> list[Chunk]:
    return list(
        Chunk.objects.filter(
            tenant=tenant, source_type=source_type, source_id=str(source_id)
        ).order_by("position")
    )


@pytest.mark.django_db
def test_an_article_is_indexed_when_published_and_dropped_when_archived(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        a = article(
            tenant_a,
            state="draft",
            body="## Reset\n\nOpen Settings and click Reset password.\n\n"
            "## Expiry\n\nLinks expire.",
        )
        _dispatch_last(tenant_a, "kb.article.created")
        assert _chunks(tenant_a, SourceType.ARTICLE, a.pk) == []

        kb.article_update(tenant=tenant_a, actor=SYSTEM, article=a, changes={"state": "published"})
        _dispatch_last(tenant_a, "kb.article.published")
        chunks = _chunks(tenant_a, SourceType.ARTICLE, a.pk)
        assert [c.text for c in chunks] == [
            "Reset\nOpen Settings and click Reset password.",
            "Expiry\nLinks expire.",
        ]
        assert chunks[0].visibility == Visibility.PUBLIC
        assert chunks[0].url == f"/acme/help/articles/{a.pk}-{a.slug}/"
        assert chunks[0].embedding_model == "local:all-MiniLM-L6-v2-int8"
        assert len(chunks[0].embedding) == 384

        kb.article_update(tenant=tenant_a, actor=SYSTEM, article=a, changes={"state": "archived"})
        _dispatch_last(tenant_a, "kb.article.archived")
        assert _chunks(tenant_a, SourceType.ARTICLE, a.pk) == []


@pytest.mark.django_db
def test_internal_articles_are_internal_and_unchanged_text_keeps_its_vector(
    tenant_a: Tenant,
) -> None:
    with tenant_context(tenant_a):
        a = article(tenant_a, visibility="internal", body="Escalate refunds over 500 EUR.")
        _dispatch_last(tenant_a, "kb.article.published")
        (before,) = _chunks(tenant_a, SourceType.ARTICLE, a.pk)
        assert before.visibility == Visibility.INTERNAL
        assert before.url == f"/acme/kb/{a.pk}/"
        # A change of tags re-indexes from the event, but the text and model are the same:
        # the stored vector is reused (nothing embedded), the row is rewritten.
        Chunk.objects.filter(pk=before.pk).update(embedding=[0.5] * 384)
        kb.article_update(tenant=tenant_a, actor=SYSTEM, article=a, changes={"tags": ["x"]})
        _dispatch_last(tenant_a, "kb.article.updated")
        (after,) = _chunks(tenant_a, SourceType.ARTICLE, a.pk)
        assert list(after.embedding[:2]) == [0.5, 0.5]


@pytest.mark.django_db
def test_a_solved_ticket_is_indexed_without_its_internal_notes(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        t = ticket(tenant_a, subject="Refund for order 17", body="Please refund my order.")
        tickets.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body="SECRET margin is 40%", public=False
        )
        tickets.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body="Refunded, 3 to 5 days."
        )
        assert ticket_index(tenant=tenant_a, actor=INDEX_ACTOR, ticket_id=t.pk) == 0
        tickets.ticket_update(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, changes={"status": "solved"}
        )
        _dispatch_last(tenant_a, "ticket.updated")
        chunks = _chunks(tenant_a, SourceType.TICKET, t.pk)
        assert len(chunks) == 1
        assert "Please refund my order." in chunks[0].text
        assert "Refunded, 3 to 5 days." in chunks[0].text
        assert "SECRET" not in chunks[0].text
        assert chunks[0].visibility == Visibility.INTERNAL
        assert chunks[0].title == f"#{t.number} Refund for order 17"

        tickets.ticket_update(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, changes={"status": "open"}
        )
        _dispatch_last(tenant_a, "ticket.updated")
        assert _chunks(tenant_a, SourceType.TICKET, t.pk) == []


@pytest.mark.django_db
def test_a_model_change_re_embeds_the_stale_sources(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        a = article(tenant_a)
        b = article(tenant_a, title="Shipping times", body="We ship in two days.")
        tenant_reindex(tenant=tenant_a, actor=INDEX_ACTOR)
        assert stale_sources(tenant_a) == set()
        Chunk.objects.filter(source_id=str(a.pk)).update(embedding_model="openai:old-model")
        assert stale_sources(tenant_a) == {(SourceType.ARTICLE, a.pk)}
        seen: list[int] = []
        tenant_reindex(tenant=tenant_a, actor=INDEX_ACTOR, only_stale=True, on_total=seen.append)
        assert seen == [1]
        assert stale_sources(tenant_a) == set()
        assert Chunk.objects.filter(source_id=str(b.pk)).exists()


@pytest.mark.django_db
def test_the_reindex_command_rebuilds_and_forgets_removed_sources(
    tenant_a: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    with tenant_context(tenant_a):
        a = article(tenant_a)
        Chunk.objects.filter(tenant=tenant_a).delete()
        gone = article(tenant_a, title="Old", body="Old text.")
        tenant_reindex(tenant=tenant_a, actor=INDEX_ACTOR)
        kb.article_delete(tenant=tenant_a, actor=SYSTEM, article=gone)
    call_command("ai_reindex", "--tenant", "acme")
    out = capsys.readouterr()
    assert "chunks indexed." in out.out
    assert "acme" in out.err and "100%" in out.err
    with tenant_context(tenant_a):
        assert set(Chunk.objects.values_list("source_id", flat=True)) == {str(a.pk)}


@pytest.mark.django_db(transaction=True)
def test_the_worker_indexes_a_published_article_from_the_event(tenant_a: Tenant) -> None:
    clear_jobs()
    with tenant_context(tenant_a):
        a = article(tenant_a, body="Our office is closed on public holidays.")
    run_worker_until_idle()
    with tenant_context(tenant_a):
        assert [c.text for c in _chunks(tenant_a, SourceType.ARTICLE, a.pk)] == [
            "Our office is closed on public holidays."
        ]


@pytest.mark.django_db
def test_a_ticket_created_solved_is_indexed_and_a_new_one_waits(tenant_a: Tenant) -> None:
    """History imported through the API arrives solved: it is indexed from its creation;
    an open ticket only once solved."""
    with tenant_context(tenant_a):
        old = ticket(
            tenant_a, subject="Invoice copy", body="Send last month's invoice.", status="solved"
        )
        _dispatch_last(tenant_a, "ticket.created")
        assert len(_chunks(tenant_a, SourceType.TICKET, old.pk)) == 1
        new = ticket(tenant_a, subject="Invoice copy", body="Send this month's invoice.")
        _dispatch_last(tenant_a, "ticket.created")
        assert _chunks(tenant_a, SourceType.TICKET, new.pk) == []
