"""Every write to the knowledge base: categories, sections, articles (with their versions),
votes, view counts, uploads and the search log. Each runs in one transaction and appends
its event there (autocrm.core.events)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.knowledge import access, events, markdown
from autocrm.knowledge.models import (
    Article,
    ArticleVersion,
    ArticleVote,
    Category,
    SearchLog,
    Section,
    State,
    Visibility,
)
from autocrm.knowledge.search import LOCALES, vector_sql

_LOOKS_LIKE_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
_TAG = re.compile(r"^[\w-]{1,50}$")
BODY_MAX_CHARS = 200_000
COMMENT_MAX_CHARS = 2_000
RELATED_MAX = 10
TAGS_MAX = 20


def plain_text(field: str, value: str, *, max_length: int, required: bool = True) -> str:
    """A one-line plain-text field (title, name): trimmed, no HTML, within its length."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: "This field is required."})
    if len(value) > max_length:
        raise ValidationError({field: f"At most {max_length} characters."})
    if _LOOKS_LIKE_HTML.search(value):
        raise ValidationError({field: "Plain text only: remove the HTML tag."})
    return value


def _locale(value: str) -> str:
    if value not in LOCALES:
        raise ValidationError({"locale": f"Unknown locale; use one of {', '.join(LOCALES)}."})
    return value


def _body(value: str) -> tuple[str, str, str]:
    """(markdown, html, text) of an article body, or a ValidationError saying what is
    refused (raw HTML, unsafe links)."""
    if len(value) > BODY_MAX_CHARS:
        raise ValidationError({"body": f"At most {BODY_MAX_CHARS} characters."})
    found = markdown.problems(value)
    if found:
        raise ValidationError({"body": found})
    body_html = markdown.render(value)
    return value, body_html, markdown.html_to_text(body_html)


def _tags(values: list[str]) -> list[str]:
    tags = list(dict.fromkeys(t.strip().lower() for t in values if t.strip()))
    if len(tags) > TAGS_MAX:
        raise ValidationError({"tags": f"At most {TAGS_MAX} tags."})
    bad = [t for t in tags if not _TAG.match(t)]
    if bad:
        raise ValidationError({"tags": "Tags are letters, digits, - and _ (up to 50)."})
    return tags


def _choice(field: str, value: str, choices: type[State] | type[Visibility]) -> str:
    if value not in choices.values:
        raise ValidationError({field: f"Use one of {', '.join(choices.values)}."})
    return value


def _category(tenant: Tenant, category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    found = Category.objects.filter(tenant=tenant, pk=category_id).first()
    if found is None:
        raise ValidationError({"category_id": "No such category."})
    return found


def _section(tenant: Tenant, section_id: int | None, category: Category | None) -> Section | None:
    if section_id is None:
        return None
    found = Section.objects.filter(tenant=tenant, pk=section_id).first()
    if found is None:
        raise ValidationError({"section_id": "No such section."})
    if category is not None and found.category_id != category.pk:
        raise ValidationError({"section_id": "This section belongs to another category."})
    return found


def _related(tenant: Tenant, ids: list[int], own_id: int | None) -> list[int]:
    wanted: list[int] = [i for i in dict.fromkeys(ids) if i != own_id]
    if len(wanted) > RELATED_MAX:
        raise ValidationError({"related_ids": f"At most {RELATED_MAX} related articles."})
    found = set(Article.objects.filter(tenant=tenant, pk__in=wanted).values_list("pk", flat=True))
    if len(found) != len(wanted):
        raise ValidationError({"related_ids": "No such article."})
    return wanted


def _unique_slug(tenant: Tenant, locale: str, title: str) -> str:
    base = slugify(title, allow_unicode=True)[:180].strip("-") or "article"
    taken = set(
        Article.objects.filter(tenant=tenant, locale=locale, slug__startswith=base).values_list(
            "slug", flat=True
        )
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _payload(article: Article, **extra: Any) -> dict[str, Any]:
    return {
        "article_id": article.pk,
        "title": article.title,
        "locale": article.locale,
        "state": article.state,
        "visibility": article.visibility,
        "version": article.version,
        **extra,
    }


def _save_version(article: Article, actor: Actor, note: str = "") -> ArticleVersion:
    return ArticleVersion.objects.create(
        tenant_id=article.tenant_id,
        article=article,
        number=article.version,
        title=article.title,
        body=article.body,
        state=article.state,
        author=actor.user,
        author_label=actor.label,
        note=note[:200],
    )


def _index(article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(
        search_vector=vector_sql(article.locale, article.title, article.body_text)
    )


def _state_events(tenant: Tenant, actor: Actor, article: Article, before: str | None) -> None:
    if article.state == before:
        return
    if article.state == State.PUBLISHED:
        event_append(
            tenant=tenant,
            type=events.ARTICLE_PUBLISHED,
            subject=article,
            actor=actor,
            payload=_payload(article),
        )
    elif article.state == State.ARCHIVED:
        event_append(
            tenant=tenant,
            type=events.ARTICLE_ARCHIVED,
            subject=article,
            actor=actor,
            payload=_payload(article),
        )


@transaction.atomic
def article_create(
    *,
    tenant: Tenant,
    actor: Actor,
    title: str,
    body: str = "",
    locale: str = "en",
    state: str = State.DRAFT,
    visibility: str = Visibility.PUBLIC,
    category_id: int | None = None,
    section_id: int | None = None,
    tags: list[str] | None = None,
    related_ids: list[int] | None = None,
    translation_of: int | None = None,
    source_ticket_id: int | None = None,
) -> Article:
    access.require_writer(actor)
    title = plain_text("title", title, max_length=200)
    locale = _locale(locale)
    body, body_html, body_text = _body(body)
    category = _category(tenant, category_id)
    section = _section(tenant, section_id, category)
    if section is not None and category is None:
        category = section.category
    article = Article(
        tenant=tenant,
        title=title,
        locale=locale,
        body=body,
        body_html=body_html,
        body_text=body_text,
        state=_choice("state", state, State),
        visibility=_choice("visibility", visibility, Visibility),
        category=category,
        section=section,
        tags=_tags(tags or []),
        related_ids=_related(tenant, related_ids or [], None),
        author=actor.user,
        source_ticket_id=source_ticket_id,
    )
    if translation_of is not None:
        source = Article.objects.filter(tenant=tenant, pk=translation_of).first()
        if source is None:
            raise ValidationError({"translation_of": "No such article."})
        if Article.objects.filter(
            tenant=tenant, translation_key=source.translation_key, locale=locale
        ).exists():
            raise ValidationError({"locale": "This article already has a translation here."})
        article.translation_key = source.translation_key
        article.category = article.category or source.category
        article.section = article.section or source.section
    article.slug = _unique_slug(tenant, locale, title)
    if article.state == State.PUBLISHED:
        article.published_at = timezone.now()
    article.save()
    _index(article)
    _save_version(article, actor, "Created")
    event_append(
        tenant=tenant,
        type=events.ARTICLE_CREATED,
        subject=article,
        actor=actor,
        payload=_payload(article, translation_of=translation_of),
    )
    _state_events(tenant, actor, article, None)
    return article


ARTICLE_FIELDS = frozenset(
    {
        "title",
        "body",
        "state",
        "visibility",
        "category_id",
        "section_id",
        "tags",
        "related_ids",
        "slug",
    }
)


@transaction.atomic
def article_update(
    *,
    tenant: Tenant,
    actor: Actor,
    article: Article,
    changes: dict[str, Any],
    note: str = "",
) -> Article:
    """Change an article; a new version is saved when the title or body changed."""
    access.require_writer(actor)
    unknown = set(changes) - ARTICLE_FIELDS
    if unknown:
        raise ValidationError({name: "Cannot be changed." for name in sorted(unknown)})
    article = Article.objects.select_for_update().get(tenant=tenant, pk=article.pk)
    before_state = article.state
    text_changed = False
    changed: list[str] = []
    if "title" in changes:
        title = plain_text("title", changes["title"], max_length=200)
        text_changed |= title != article.title
        article.title = title
    if "body" in changes:
        body, body_html, body_text = _body(changes["body"])
        text_changed |= body != article.body
        article.body, article.body_html, article.body_text = body, body_html, body_text
    if "state" in changes:
        article.state = _choice("state", changes["state"], State)
        if article.state == State.PUBLISHED and article.published_at is None:
            article.published_at = timezone.now()
    if "visibility" in changes:
        article.visibility = _choice("visibility", changes["visibility"], Visibility)
    if "category_id" in changes:
        article.category = _category(tenant, changes["category_id"])
        if article.section is not None and article.section.category_id != article.category_id:
            article.section = None
    if "section_id" in changes:
        article.section = _section(tenant, changes["section_id"], article.category)
        if article.section is not None:
            article.category = article.section.category
    if "tags" in changes:
        article.tags = _tags(changes["tags"])
    if "related_ids" in changes:
        article.related_ids = _related(tenant, changes["related_ids"], article.pk)
    if "slug" in changes:
        slug = slugify(str(changes["slug"]), allow_unicode=True)[:180]
        if not slug:
            raise ValidationError({"slug": "Use letters, digits and hyphens."})
        if Article.objects.filter(tenant=tenant, locale=article.locale, slug=slug).exclude(
            pk=article.pk
        ):
            raise ValidationError({"slug": "Another article in this language has this slug."})
        article.slug = slug
    changed = sorted(changes)
    if text_changed:
        article.version += 1
    article.save()
    if text_changed:
        _index(article)
        _save_version(article, actor, note)
    event_append(
        tenant=tenant,
        type=events.ARTICLE_UPDATED,
        subject=article,
        actor=actor,
        payload=_payload(article, changed=changed),
    )
    _state_events(tenant, actor, article, before_state)
    return article


@transaction.atomic
def article_restore(*, tenant: Tenant, actor: Actor, article: Article, number: int) -> Article:
    """Make version ``number``'s title and body the current text (as a new version, so
    the restore itself is in the history and can be undone the same way)."""
    access.require_writer(actor)
    version = ArticleVersion.objects.filter(tenant=tenant, article=article, number=number).first()
    if version is None:
        raise ValidationError({"version": "No such version of this article."})
    updated = article_update(
        tenant=tenant,
        actor=actor,
        article=article,
        changes={"title": version.title, "body": version.body},
        note=f"Restored version {number}",
    )
    event_append(
        tenant=tenant,
        type=events.ARTICLE_RESTORED,
        subject=updated,
        actor=actor,
        payload=_payload(updated, restored_version=number),
    )
    return updated


@transaction.atomic
def article_delete(*, tenant: Tenant, actor: Actor, article: Article) -> None:
    access.require_writer(actor)
    payload = _payload(article)
    event_append(
        tenant=tenant, type=events.ARTICLE_DELETED, subject=article, actor=actor, payload=payload
    )
    Article.objects.filter(tenant=tenant, pk=article.pk).delete()


@transaction.atomic
def article_vote(
    *,
    tenant: Tenant,
    actor: Actor,
    article: Article,
    voter: str,
    helpful: bool,
    comment: str = "",
) -> ArticleVote:
    """Record a reader's answer to "was this helpful?"; voting again changes the answer
    (the counters move with it). ``voter`` identifies the reader (access.voter_hash)."""
    if not article.is_public and not access.is_agent_reader(actor):
        raise ValidationError("This article cannot be voted on.")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_CHARS:
        raise ValidationError({"comment": f"At most {COMMENT_MAX_CHARS} characters."})
    if _LOOKS_LIKE_HTML.search(comment):
        raise ValidationError({"comment": "Plain text only: remove the HTML tag."})
    vote = (
        ArticleVote.objects.select_for_update()
        .filter(tenant=tenant, article=article, voter=voter)
        .first()
    )
    counters: dict[str, Any] = {}
    if vote is None:
        vote = ArticleVote(tenant=tenant, article=article, voter=voter, helpful=helpful)
        counters["helpful_yes" if helpful else "helpful_no"] = (
            F("helpful_yes" if helpful else "helpful_no") + 1
        )
    elif vote.helpful != helpful:
        old, new = ("helpful_yes", "helpful_no") if vote.helpful else ("helpful_no", "helpful_yes")
        counters = {old: F(old) - 1, new: F(new) + 1}
        vote.helpful = helpful
    if comment:
        vote.comment = comment
    vote.save()
    if counters:
        Article.objects.filter(tenant=tenant, pk=article.pk).update(**counters)
    event_append(
        tenant=tenant,
        type=events.ARTICLE_VOTED,
        subject=article,
        actor=actor,
        payload={"article_id": article.pk, "helpful": helpful, "has_comment": bool(comment)},
    )
    return vote


def article_view_record(*, tenant: Tenant, actor: Actor, article: Article) -> None:
    """Count one view of a published article by a reader (a counter, not an event: a
    page view changes no state anyone subscribes to)."""
    if access.is_agent_reader(actor) or not article.is_public:
        return
    Article.objects.filter(tenant=tenant, pk=article.pk).update(view_count=F("view_count") + 1)


def search_record(
    *, tenant: Tenant, actor: Actor, query: str, locale: str, audience: str, results: int
) -> None:
    """Log a search for the writers' analytics (the words lowercased, whitespace folded)."""
    words = " ".join(query.lower().split())[:200]
    if not words:
        return
    SearchLog.objects.create(
        tenant=tenant, query=words, locale=locale, audience=audience, results=results
    )


@transaction.atomic
def category_create(
    *,
    tenant: Tenant,
    actor: Actor,
    name: str,
    description: str = "",
    slug: str = "",
    position: int = 0,
) -> Category:
    access.require_writer(actor)
    name = plain_text("name", name, max_length=100)
    description = plain_text("description", description, max_length=500, required=False)
    slug = slugify(slug or name)[:100] or "category"
    if Category.objects.filter(tenant=tenant, slug=slug).exists():
        raise ValidationError({"slug": "Another category has this slug."})
    category = Category.objects.create(
        tenant=tenant, name=name, description=description, slug=slug, position=position
    )
    event_append(
        tenant=tenant,
        type=events.CATEGORY_CREATED,
        subject=category,
        actor=actor,
        payload={"category_id": category.pk, "name": name},
    )
    return category


@transaction.atomic
def category_update(
    *, tenant: Tenant, actor: Actor, category: Category, changes: dict[str, Any]
) -> Category:
    access.require_writer(actor)
    if "name" in changes:
        category.name = plain_text("name", changes["name"], max_length=100)
    if "description" in changes:
        category.description = plain_text(
            "description", changes["description"], max_length=500, required=False
        )
    if "position" in changes:
        category.position = changes["position"]
    if "slug" in changes:
        slug = slugify(changes["slug"])[:100]
        if not slug:
            raise ValidationError({"slug": "Use letters, digits and hyphens."})
        if Category.objects.filter(tenant=tenant, slug=slug).exclude(pk=category.pk).exists():
            raise ValidationError({"slug": "Another category has this slug."})
        category.slug = slug
    category.save()
    event_append(
        tenant=tenant,
        type=events.CATEGORY_UPDATED,
        subject=category,
        actor=actor,
        payload={"category_id": category.pk, "changed": sorted(changes)},
    )
    return category


@transaction.atomic
def category_delete(*, tenant: Tenant, actor: Actor, category: Category) -> None:
    """Its articles stay, without a category."""
    access.require_admin(actor)
    event_append(
        tenant=tenant,
        type=events.CATEGORY_DELETED,
        subject=category,
        actor=actor,
        payload={"category_id": category.pk, "name": category.name},
    )
    Category.objects.filter(tenant=tenant, pk=category.pk).delete()


@transaction.atomic
def section_create(
    *, tenant: Tenant, actor: Actor, category: Category, name: str, position: int = 0
) -> Section:
    access.require_writer(actor)
    name = plain_text("name", name, max_length=100)
    if Section.objects.filter(tenant=tenant, category=category, name=name).exists():
        raise ValidationError({"name": "This category already has a section of that name."})
    section = Section.objects.create(tenant=tenant, category=category, name=name, position=position)
    event_append(
        tenant=tenant,
        type=events.SECTION_CREATED,
        subject=section,
        actor=actor,
        payload={"section_id": section.pk, "category_id": category.pk, "name": name},
    )
    return section


@transaction.atomic
def section_delete(*, tenant: Tenant, actor: Actor, section: Section) -> None:
    access.require_writer(actor)
    event_append(
        tenant=tenant,
        type=events.SECTION_DELETED,
        subject=section,
        actor=actor,
        payload={"section_id": section.pk, "name": section.name},
    )
    Section.objects.filter(tenant=tenant, pk=section.pk).delete()
