"""Event types the knowledge base emits (webhook subscriptions validate against them).

Every article event carries the article's id, locale and state in its payload, so a
consumer (webhooks, the AI indexer) needs no second read to decide whether it cares."""

from __future__ import annotations

ARTICLE_CREATED = "kb.article.created"
ARTICLE_UPDATED = "kb.article.updated"
ARTICLE_PUBLISHED = "kb.article.published"
ARTICLE_ARCHIVED = "kb.article.archived"
ARTICLE_DELETED = "kb.article.deleted"
ARTICLE_RESTORED = "kb.article.restored"  # an older version became the current text
ARTICLE_VOTED = "kb.article.voted"
CATEGORY_CREATED = "kb.category.created"
CATEGORY_UPDATED = "kb.category.updated"
CATEGORY_DELETED = "kb.category.deleted"
SECTION_CREATED = "kb.section.created"
SECTION_DELETED = "kb.section.deleted"
UPLOAD_CREATED = "kb.upload.created"

EVENT_TYPES = (
    ARTICLE_CREATED,
    ARTICLE_UPDATED,
    ARTICLE_PUBLISHED,
    ARTICLE_ARCHIVED,
    ARTICLE_DELETED,
    ARTICLE_RESTORED,
    ARTICLE_VOTED,
    CATEGORY_CREATED,
    CATEGORY_UPDATED,
    CATEGORY_DELETED,
    SECTION_CREATED,
    SECTION_DELETED,
    UPLOAD_CREATED,
)
