"""Keep the retrieval index (``ai.Chunk``) in step with the knowledge base and solved tickets.

Run by worker jobs from the events spine (``autocrm/ai/event_handlers.py``) and by
``manage.py ai_reindex``. Each function looks at the source's *current* row and makes its
chunks match it, so a redelivered or out-of-order event is harmless:

- a published article is indexed (``public`` when its visibility is public, ``internal``
  otherwise); a draft, archived or deleted one has no chunks;
- a solved or closed ticket (not merged away) is indexed from its public messages only —
  internal notes never enter the index, so no answer can quote one; its chunks are
  ``internal`` (staff only): a customer never retrieves any ticket, theirs or another's.

Chunks are derived data, like a search vector: writing them appends no event. A chunk whose
text and embedding model are unchanged keeps its vector (an article's metadata edit embeds
nothing); every chunk records the model that embedded it, and chunks of another model are
re-embedded by ``tenant_reindex(only_stale=True)`` (the nightly job and the command).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from autocrm.ai.chunking import Passage, chunk_conversation, chunk_markdown
from autocrm.ai.models import Chunk, SourceType, Visibility
from autocrm.ai.providers.embeddings import embedding_provider
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge.models import Article, State
from autocrm.knowledge.models import Visibility as ArticleVisibility
from autocrm.knowledge.search import config_for
from autocrm.tickets.models import Message, Status, Ticket

INDEX_ACTOR = Actor.system("ai_index")
INDEXED_TICKET_STATES = (Status.SOLVED, Status.CLOSED)
TICKET_TEXT_LIMIT = 20_000  # characters of a conversation indexed (long threads: the start)

# Title (weight A) and passage (weight B) in the chunk's own language configuration.
_SEARCH_VECTOR_SQL = """
UPDATE ai_chunk SET search_vector =
    setweight(to_tsvector(%(config)s::regconfig, title), 'A')
    || setweight(to_tsvector(%(config)s::regconfig, text), 'B')
WHERE tenant_id = %(tenant)s AND source_type = %(type)s AND source_id = %(id)s
"""


@dataclass(frozen=True)
class Document:
    """What one source contributes to the index."""

    source_type: str
    source_id: str
    title: str
    url: str
    visibility: str
    locale: str
    passages: list[Passage]


def _require_system_or_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise PermissionError("Only staff and system jobs maintain the AI index.")


def _passage_text(passage: Passage) -> str:
    if passage.heading and passage.heading != passage.text:
        return f"{passage.heading}\n{passage.text}"
    return passage.text


def _embed_input(title: str, text: str) -> str:
    # The title tells the model what a short passage is about ("It takes 3 days" alone
    # matches nothing).
    return f"{title}\n{text}"


def _content_hash(title: str, text: str) -> str:
    return hashlib.sha256(_embed_input(title, text).encode()).hexdigest()


def document_store(*, tenant: Tenant, actor: Actor, document: Document) -> int:
    """Replace a source's chunks by ``document``'s passages; returns how many there are.
    Unchanged passages (same text, same model) keep their stored vector."""
    _require_system_or_staff(actor)
    provider = embedding_provider()
    texts = [_passage_text(p) for p in document.passages]
    hashes = [_content_hash(document.title, t) for t in texts]
    with transaction.atomic():
        existing = Chunk.objects.filter(
            tenant=tenant, source_type=document.source_type, source_id=document.source_id
        )
        known = {
            h: np.asarray(v, dtype=np.float32)
            for h, v in existing.filter(embedding_model=provider.model_id).values_list(
                "content_hash", "embedding"
            )
        }
        missing = [i for i, h in enumerate(hashes) if h not in known]
        if missing:
            vectors = provider.embed([_embed_input(document.title, texts[i]) for i in missing])
            for i, vector in zip(missing, vectors, strict=True):
                known[hashes[i]] = vector
        existing.delete()
        now = timezone.now()
        Chunk.objects.bulk_create(
            Chunk(
                tenant=tenant,
                source_type=document.source_type,
                source_id=document.source_id,
                position=position,
                visibility=document.visibility,
                locale=document.locale,
                title=document.title[:500],
                url=document.url[:500],
                text=text,
                embedding=known[content_hash],
                embedding_model=provider.model_id,
                content_hash=content_hash,
                created_at=now,
            )
            for position, (text, content_hash) in enumerate(zip(texts, hashes, strict=True))
        )
        if texts:
            with connection.cursor() as cursor:
                cursor.execute(
                    _SEARCH_VECTOR_SQL,
                    {
                        "config": config_for(document.locale),
                        "tenant": tenant.pk,
                        "type": document.source_type,
                        "id": document.source_id,
                    },
                )
    return len(texts)


def source_unindex(*, tenant: Tenant, actor: Actor, source_type: str, source_id: str) -> int:
    _require_system_or_staff(actor)
    deleted, _ = Chunk.objects.filter(
        tenant=tenant, source_type=source_type, source_id=str(source_id)
    ).delete()
    return deleted


def article_document(article: Article) -> Document | None:
    """The article's passages, or None when it must not be retrievable (not published)."""
    if article.state != State.PUBLISHED:
        return None
    public = article.visibility == ArticleVisibility.PUBLIC
    slug = article.tenant.slug
    url = (
        reverse("portal:kb_article", args=[slug, article.pk, article.slug])
        if public
        else reverse("workspace:kb_article_edit", args=[slug, article.pk])
    )
    passages = chunk_markdown(article.body or article.body_text) or [Passage("", article.title)]
    return Document(
        source_type=SourceType.ARTICLE,
        source_id=str(article.pk),
        title=article.title,
        url=url,
        visibility=Visibility.PUBLIC if public else Visibility.INTERNAL,
        locale=article.locale,
        passages=passages,
    )


def ticket_document(ticket: Ticket) -> Document | None:
    """The ticket's public conversation, or None unless it is solved or closed."""
    if ticket.status not in INDEXED_TICKET_STATES or ticket.merged_into_id is not None:
        return None
    from autocrm.ai.models import TriageResult

    messages = list(
        Message.objects.filter(tenant_id=ticket.tenant_id, ticket=ticket, public=True)
        .order_by("created_at", "pk")
        .values_list("author_user_id", "body_text")
    )
    conversation: list[tuple[str, str]] = []
    size = 0
    for author_user_id, body_text in messages:
        if size > TICKET_TEXT_LIMIT:
            break
        conversation.append(("Agent" if author_user_id else "Customer", body_text))
        size += len(body_text)
    passages = chunk_conversation(conversation) or [Passage("", ticket.subject)]
    language = (
        TriageResult.objects.filter(tenant_id=ticket.tenant_id, ticket=ticket)
        .values_list("language", flat=True)
        .first()
    )
    return Document(
        source_type=SourceType.TICKET,
        source_id=str(ticket.pk),
        title=f"#{ticket.number} {ticket.subject}",
        url=reverse("workspace:agent_ticket", args=[ticket.tenant.slug, ticket.number]),
        visibility=Visibility.INTERNAL,
        locale=language or "en",
        passages=passages,
    )


def article_index(*, tenant: Tenant, actor: Actor, article_id: int) -> int:
    """Make the article's chunks match its current state; returns the chunk count."""
    article = Article.objects.filter(tenant=tenant, pk=article_id).select_related("tenant").first()
    document = article_document(article) if article is not None else None
    if document is None:
        source_unindex(
            tenant=tenant, actor=actor, source_type=SourceType.ARTICLE, source_id=str(article_id)
        )
        return 0
    return document_store(tenant=tenant, actor=actor, document=document)


def ticket_index(*, tenant: Tenant, actor: Actor, ticket_id: int) -> int:
    """Make the ticket's chunks match its current state; returns the chunk count."""
    ticket = Ticket.objects.filter(tenant=tenant, pk=ticket_id).select_related("tenant").first()
    document = ticket_document(ticket) if ticket is not None else None
    if document is None:
        source_unindex(
            tenant=tenant, actor=actor, source_type=SourceType.TICKET, source_id=str(ticket_id)
        )
        return 0
    return document_store(tenant=tenant, actor=actor, document=document)


def indexable_sources(tenant: Tenant) -> Iterator[tuple[str, int]]:
    """Every source of the tenant that should have chunks (published articles, solved and
    closed tickets), as ``(source_type, id)``."""
    for pk in Article.objects.filter(tenant=tenant, state=State.PUBLISHED).values_list(
        "pk", flat=True
    ):
        yield SourceType.ARTICLE, pk
    for pk in (
        Ticket.objects.filter(
            tenant=tenant, status__in=INDEXED_TICKET_STATES, merged_into__isnull=True
        )
        .values_list("pk", flat=True)
        .iterator()
    ):
        yield SourceType.TICKET, pk


def stale_sources(tenant: Tenant) -> set[tuple[str, int]]:
    """Sources with chunks embedded by another model than the configured one."""
    model_id = embedding_provider().model_id
    rows = (
        Chunk.objects.filter(tenant=tenant)
        .exclude(source_type=SourceType.DOCUMENT)
        .exclude(embedding_model=model_id)
        .values_list("source_type", "source_id")
        .distinct()
    )
    return {(source_type, int(source_id)) for source_type, source_id in rows}


def tenant_reindex(
    *,
    tenant: Tenant,
    actor: Actor,
    only_stale: bool = False,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """(Re-)index every source of the tenant, or only those embedded by another model.
    Sources that should no longer be indexed lose their chunks. Returns the chunk count.
    Each source commits on its own, so a long run is resumable and holds no long lock."""
    _require_system_or_staff(actor)
    with tenant_context(tenant):
        wanted = set(indexable_sources(tenant))
        stale = stale_sources(tenant) if only_stale else set()
        indexed = {
            (source_type, int(source_id))
            for source_type, source_id in Chunk.objects.filter(tenant=tenant)
            .exclude(source_type=SourceType.DOCUMENT)
            .values_list("source_type", "source_id")
            .distinct()
        }
        if not only_stale:
            for source_type, source_id in sorted(indexed - wanted):
                source_unindex(
                    tenant=tenant, actor=actor, source_type=source_type, source_id=str(source_id)
                )
    sources = sorted(stale & wanted) if only_stale else sorted(wanted)
    if on_total:
        on_total(len(sources))
    chunks = 0
    for source_type, source_id in sources:
        with tenant_context(tenant):
            if source_type == SourceType.ARTICLE:
                chunks += article_index(tenant=tenant, actor=actor, article_id=source_id)
            else:
                chunks += ticket_index(tenant=tenant, actor=actor, ticket_id=source_id)
        if on_progress:
            on_progress(1)
    return chunks
