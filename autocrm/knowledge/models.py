"""Knowledge base: categories and sections, articles (one row per locale), their versions,
votes, uploaded images and the search log.

Every table is tenant-owned under row-level security (migration 0002). Index notes: the
public lists read (tenant, locale, state, visibility, ...) in index order; full-text search
uses one GIN index on the weighted ``search_vector``; typo tolerance the articles' vocabulary
(``ArticleWord``) with a trigram GIN index (docs/knowledge.md, ADR 0014, ADR 0027).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models

from autocrm.core.models import TenantOwned


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    REVIEW = "review", "In review"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Everyone"
    INTERNAL = "internal", "Agents only"


class Category(TenantOwned):
    """A top-level group of the help centre ("Billing"); sections subdivide it."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="knowledge_category_slug_once")
        ]

    def __str__(self) -> str:
        return self.name


class Section(TenantOwned):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="knowledge_section_name_once")
        ]
        indexes = [models.Index(fields=["tenant", "category"], name="knowledge_section_category")]

    def __str__(self) -> str:
        return self.name


class Article(TenantOwned):
    """One article in one locale. Translations of an article share ``translation_key``
    (one row per locale); each has its own state, versions and votes."""

    translation_key = models.UUIDField(default=uuid.uuid4)
    locale = models.CharField(max_length=10, default="en")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, allow_unicode=True)
    body = models.TextField(blank=True)  # markdown, as written
    body_html = models.TextField(blank=True)  # rendered and sanitized (knowledge.markdown)
    body_text = models.TextField(blank=True)  # plain text: search snippets, AI, excerpts
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    visibility = models.CharField(
        max_length=20, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    section = models.ForeignKey(
        Section, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    # Ids of related articles of the same tenant (shown only when visible to the reader).
    related_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1)
    view_count = models.PositiveIntegerField(default=0)
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)
    search_vector = SearchVectorField(null=True, blank=True, editable=False)
    source_ticket_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "locale", "slug"], name="knowledge_article_slug_once"
            ),
            models.UniqueConstraint(
                fields=["tenant", "translation_key", "locale"],
                name="knowledge_article_locale_once",
            ),
        ]
        indexes = [
            # The help centre's lists: popular (views) and newest per locale.
            models.Index(
                fields=["tenant", "locale", "state", "visibility", "-view_count", "id"],
                name="knowledge_article_popular",
            ),
            models.Index(
                fields=["tenant", "category", "state", "locale"],
                name="knowledge_article_category",
            ),
            models.Index(fields=["tenant", "-updated_at", "id"], name="knowledge_article_recent"),
            models.Index(fields=["tenant", "translation_key"], name="knowledge_article_group"),
            GinIndex(fields=["search_vector"], name="knowledge_article_search"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.state == State.PUBLISHED and self.visibility == Visibility.PUBLIC


class ArticleVersion(TenantOwned):
    """The text of an article as saved: one row per save, numbered from 1."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_label = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "number"], name="knowledge_articleversion_once"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "article", "-number"], name="knowledge_version_article")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class ArticleVote(TenantOwned):
    """A reader's "was this helpful?" answer; one per reader (``voter``: a hash of the
    signed-in user or the visitor's session), changed by voting again."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    voter = models.CharField(max_length=64)
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "voter"], name="knowledge_vote_once")
        ]
        indexes = [
            models.Index(fields=["tenant", "article", "-created_at"], name="knowledge_vote_article")
        ]

    def __str__(self) -> str:
        return f"{'yes' if self.helpful else 'no'} on {self.article_id}"


class Upload(TenantOwned):
    """An image uploaded for an article body (PNG, JPEG, GIF or WebP, sniffed from the
    bytes); served inline from the help centre since articles show it to visitors."""

    file = models.FileField(upload_to="kb/%Y/%m/", max_length=255)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename


class SearchLog(TenantOwned):
    """One search of the knowledge base (the normalized words, how many results), for the
    writers' analytics: top queries and the queries that found nothing."""

    query = models.CharField(max_length=200)
    locale = models.CharField(max_length=10)
    audience = models.CharField(max_length=10)  # public / agent
    results = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="knowledge_searchlog_recent")
        ]

    def __str__(self) -> str:
        return self.query


class ArticleWord(TenantOwned):
    """The vocabulary of typo-tolerant search: every distinct word (letters only, 3-40,
    lowercase) of the tenant's article titles and bodies in a locale, kept by triggers on
    ``knowledge_article`` (migration 0003, ADR 0027). A misspelt query word is matched
    against it by trigram similarity and replaced by the similar words it finds."""

    locale = models.CharField(max_length=10)
    word = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "locale", "word"], name="knowledge_articleword_once"
            )
        ]
        indexes = [
            GinIndex(fields=["word"], opclasses=["gin_trgm_ops"], name="knowledge_articleword_trgm")
        ]

    def __str__(self) -> str:
        return self.word
