"""Every read of the knowledge base for pages and the API. Each takes the tenant and the
actor; customers and visitors see published public articles only (access.article_scope)."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.knowledge import access
from autocrm.knowledge.models import (
    Article,
    ArticleVersion,
    ArticleVote,
    Category,
    SearchLog,
    Section,
    State,
    Upload,
)
from autocrm.knowledge.search import LOCALES
from autocrm.knowledge.search_query import (  # noqa: F401  (the search is a selector too)
    SearchHit,
    SearchPage,
    article_search,
)

DEFAULT_LOCALE = "en"
# Lists never show bodies; body_text (the whole plain text) is read only where a page needs
# it, search_vector only by the database.
_LIST_FIELDS_DEFERRED = ("body", "body_html", "body_text", "search_vector")
# What an article page shows: the rendered HTML, not the markdown, text or vector.
_PAGE_FIELDS_DEFERRED = ("body", "body_text", "search_vector")
# One index probe per locale (knowledge_article_popular) for whether it has a published
# public article: LIMIT 1 in a LATERAL keeps the planner from turning it into a semi-join
# that reads every published row of the tenant (12,000 at 5,000 articles x 3 locales).
_PUBLISHED_LOCALES_SQL = """
SELECT code FROM unnest(%s::text[]) WITH ORDINALITY AS l(code, n)
CROSS JOIN LATERAL (
    SELECT 1 FROM knowledge_article a
    WHERE a.tenant_id = %s AND a.locale = l.code AND a.state = 'published'
      AND a.visibility = 'public'
    LIMIT 1
) found
ORDER BY n
"""


def default_locale(tenant: Tenant) -> str:
    """The help centre's language when the reader names none (tenant setting
    ``kb_default_locale``)."""
    value = tenant.settings.get("kb_default_locale", DEFAULT_LOCALE)
    return value if value in LOCALES else DEFAULT_LOCALE


def published_locales(*, tenant: Tenant, actor: Actor) -> list[str]:
    """The locales (in LOCALES order) holding a published public article: the help
    centre's language switcher."""
    with connection.cursor() as cursor:
        cursor.execute(_PUBLISHED_LOCALES_SQL, [list(LOCALES), tenant.pk])
        return [row[0] for row in cursor.fetchall()]


def category_list(*, tenant: Tenant, actor: Actor) -> QuerySet[Category]:
    return Category.objects.filter(tenant=tenant)


def category_get(*, tenant: Tenant, actor: Actor, category_id: int) -> Category | None:
    return Category.objects.filter(tenant=tenant, pk=category_id).first()


def category_by_slug(*, tenant: Tenant, actor: Actor, slug: str) -> Category | None:
    return Category.objects.filter(tenant=tenant, slug=slug).first()


def section_list(*, tenant: Tenant, actor: Actor, category: Category) -> QuerySet[Section]:
    return Section.objects.filter(tenant=tenant, category=category).order_by("position", "name")


def article_list(
    *,
    tenant: Tenant,
    actor: Actor,
    locale: str | None = None,
    state: str | None = None,
    category_id: int | None = None,
    visibility: str | None = None,
) -> QuerySet[Article]:
    """Articles the actor may read, without their bodies (lists never show them)."""
    articles = (
        Article.objects.filter(tenant=tenant)
        .filter(access.article_scope(actor))
        .defer(*_LIST_FIELDS_DEFERRED)
    )
    if locale:
        articles = articles.filter(locale=locale)
    if state:
        articles = articles.filter(state=state)
    if category_id is not None:
        articles = articles.filter(category_id=category_id)
    if visibility:
        articles = articles.filter(visibility=visibility)
    return articles


def article_public_list(
    *, tenant: Tenant, actor: Actor, locale: str, category: Category | None = None
) -> QuerySet[Article]:
    """What the help centre lists: published public articles, whoever reads."""
    articles = Article.objects.filter(
        tenant=tenant, locale=locale, state=State.PUBLISHED, visibility="public"
    ).defer(*_LIST_FIELDS_DEFERRED)
    if category is not None:
        articles = articles.filter(category=category)
    return articles


def article_popular(*, tenant: Tenant, actor: Actor, locale: str, limit: int = 8) -> list[Article]:
    return list(
        article_public_list(tenant=tenant, actor=actor, locale=locale).order_by(
            "-view_count", "id"
        )[:limit]
    )


def article_get(*, tenant: Tenant, actor: Actor, article_id: int) -> Article | None:
    return (
        Article.objects.filter(tenant=tenant, pk=article_id)
        .filter(access.article_scope(actor))
        .select_related("category", "section")
        .first()
    )


def article_public_get(*, tenant: Tenant, actor: Actor, article_id: int) -> Article | None:
    """An article as the help centre shows it: published and public, for everyone (an
    agent previews drafts in the workspace, not here)."""
    return (
        Article.objects.filter(
            tenant=tenant, pk=article_id, state=State.PUBLISHED, visibility="public"
        )
        .defer(*_PAGE_FIELDS_DEFERRED)
        .select_related("category", "section")
        .first()
    )


def article_translations(
    *, tenant: Tenant, actor: Actor, article: Article, public: bool = False
) -> list[Article]:
    """The other locales of the article the actor may read (``public``: what the help
    centre shows, whoever reads)."""
    rows = Article.objects.filter(tenant=tenant, translation_key=article.translation_key).exclude(
        pk=article.pk
    )
    if public or not access.is_agent_reader(actor):
        rows = rows.filter(state=State.PUBLISHED, visibility="public")
    return list(rows.only("id", "locale", "slug", "title", "state").order_by("locale"))


def article_related(
    *, tenant: Tenant, actor: Actor, article: Article, public: bool = True
) -> list[Article]:
    if not article.related_ids:
        return []
    rows = Article.objects.filter(tenant=tenant, pk__in=article.related_ids).defer(
        *_LIST_FIELDS_DEFERRED
    )
    if public or not access.is_agent_reader(actor):
        rows = rows.filter(state=State.PUBLISHED, visibility="public")
    found = {a.pk: a for a in rows}
    return [found[i] for i in article.related_ids if i in found]


def version_list(*, tenant: Tenant, actor: Actor, article: Article) -> QuerySet[ArticleVersion]:
    return ArticleVersion.objects.filter(tenant=tenant, article=article).order_by("-number")


def version_get(
    *, tenant: Tenant, actor: Actor, article: Article, number: int
) -> ArticleVersion | None:
    return ArticleVersion.objects.filter(tenant=tenant, article=article, number=number).first()


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "ctx", "hunk"
    text: str


def version_diff(old: ArticleVersion, new: ArticleVersion) -> list[DiffLine]:
    """A unified diff of two versions (title first), as lines to show."""
    before = [f"# {old.title}", "", *old.body.splitlines()]
    after = [f"# {new.title}", "", *new.body.splitlines()]
    lines: list[DiffLine] = []
    for line in difflib.unified_diff(before, after, lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            lines.append(DiffLine("add", line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine("del", line[1:]))
        else:
            lines.append(DiffLine("ctx", line[1:]))
    return lines


def vote_list(
    *, tenant: Tenant, actor: Actor, article: Article | None = None
) -> QuerySet[ArticleVote]:
    """Votes with comments, newest first (agents only: comments are not public)."""
    if not access.is_agent_reader(actor):
        return ArticleVote.objects.none()
    votes = ArticleVote.objects.filter(tenant=tenant).exclude(comment="")
    if article is not None:
        votes = votes.filter(article=article)
    return votes.select_related("article").order_by("-created_at", "-id")


def upload_get(*, tenant: Tenant, actor: Actor, upload_id: int) -> Upload | None:
    return Upload.objects.filter(tenant=tenant, pk=upload_id).first()


@dataclass(frozen=True)
class QueryStat:
    query: str
    searches: int
    results: int


@dataclass(frozen=True)
class Analytics:
    top_queries: list[QueryStat]
    no_result_queries: list[QueryStat]
    most_viewed: list[Article]
    least_helpful: list[Article]
    comments: list[ArticleVote]
    searches: int
    days: int


def kb_analytics(*, tenant: Tenant, actor: Actor, days: int = 30, limit: int = 20) -> Analytics:
    """What writers need to see gaps: the most frequent searches, those that found
    nothing, the most read articles, those readers found unhelpful, recent comments."""
    if not access.is_agent_reader(actor):
        raise PermissionDenied("Only agents see the knowledge base's analytics.")
    since = timezone.now() - dt.timedelta(days=days)
    logs = SearchLog.objects.filter(tenant=tenant, created_at__gte=since)

    def grouped(rows: QuerySet[SearchLog]) -> list[QueryStat]:
        return [
            QueryStat(r["query"], r["n"], r["best"])
            for r in rows.values("query")
            .annotate(n=Count("id"), best=Max("results"))
            .order_by("-n", "query")[:limit]
        ]

    articles = Article.objects.filter(tenant=tenant).defer(*_LIST_FIELDS_DEFERRED)
    return Analytics(
        top_queries=grouped(logs),
        no_result_queries=grouped(logs.filter(results=0)),
        most_viewed=list(articles.filter(view_count__gt=0).order_by("-view_count", "id")[:10]),
        least_helpful=list(
            articles.filter(helpful_no__gt=0).order_by("-helpful_no", "helpful_yes", "id")[:10]
        ),
        comments=list(vote_list(tenant=tenant, actor=actor)[:20]),
        searches=logs.count(),
        days=days,
    )
