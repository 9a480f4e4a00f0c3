"""/api/v1/kb/…: articles (CRUD, search, versions) and categories. Staff and API keys see
every article; other callers are refused by the API's authentication (h-help's customer
access keeps to published public articles through the same selectors)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from autocrm.core.actors import Actor
from autocrm.core.api import Cursor, Limit, get_or_404, keyset_response, page_of, tenant_and_actor
from autocrm.core.models import Tenant
from autocrm.core.problems import InvalidInput, NotFound
from autocrm.knowledge import selectors, services
from autocrm.knowledge.models import Article, Category
from autocrm.knowledge.schemas import (
    ArticleIn,
    ArticleListItemOut,
    ArticleOut,
    ArticleUpdateIn,
    CategoryIn,
    CategoryOut,
    CategoryUpdateIn,
    StateName,
    VersionOut,
    VisibilityName,
)
from autocrm.knowledge.search import LOCALES

router = Router(tags=["knowledge base"])


def _article(tenant: Tenant, actor: Actor, article_id: int) -> Article:
    return get_or_404(
        selectors.article_get(tenant=tenant, actor=actor, article_id=article_id), "article"
    )


def _category(tenant: Tenant, actor: Actor, category_id: int) -> Category:
    return get_or_404(
        selectors.category_get(tenant=tenant, actor=actor, category_id=category_id), "category"
    )


def _with_translations(tenant: Tenant, actor: Actor, article: Article) -> Article:
    article.translations = selectors.article_translations(  # type: ignore[attr-defined]
        tenant=tenant, actor=actor, article=article
    )
    return article


@router.get(
    "/articles",
    response=page_of(ArticleListItemOut),
    summary="List or search articles",
    description="Without `q`: newest changes first. With `q`: full-text search in `locale` "
    "(default: the help centre's), best matches first, typo-tolerant (words similar to the "
    "query's in titles and bodies) when the words match nothing; each item has a "
    "highlighted `snippet`.",
)
def articles_list(
    request: HttpRequest,
    q: str | None = Query(None, max_length=200),
    locale: str | None = Query(None, max_length=10),
    state: StateName | None = None,
    visibility: VisibilityName | None = None,
    category_id: int | None = None,
    cursor: str | None = Cursor,
    limit: int = Limit,
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    if locale is not None and locale not in LOCALES:
        raise InvalidInput.for_field("query.locale", f"Use one of {', '.join(LOCALES)}.")
    if q and q.strip():
        page = selectors.article_search(
            tenant=tenant,
            actor=actor,
            q=q,
            locale=locale or selectors.default_locale(tenant),
            audience="agent",
            state=state,
            limit=limit,
            cursor=cursor,
        )
        items = []
        for hit in page.items:
            hit.article.snippet = hit.snippet  # type: ignore[attr-defined]
            items.append(hit.article)
        return {"items": items, "next_cursor": page.next_cursor}
    rows = selectors.article_list(
        tenant=tenant,
        actor=actor,
        locale=locale,
        state=state,
        category_id=category_id,
        visibility=visibility,
    )
    return keyset_response(rows, ordering=("-updated_at", "-id"), cursor=cursor, limit=limit)


@router.post("/articles", response={201: ArticleOut}, summary="Create an article")
def articles_create(request: HttpRequest, payload: ArticleIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "write")
    article = services.article_create(tenant=tenant, actor=actor, **payload.model_dump())
    return Status(201, _with_translations(tenant, actor, article))


@router.get("/articles/{article_id}", response=ArticleOut, summary="Get an article")
def articles_get(request: HttpRequest, article_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return _with_translations(tenant, actor, _article(tenant, actor, article_id))


@router.patch("/articles/{article_id}", response=ArticleOut, summary="Change an article")
def articles_update(request: HttpRequest, article_id: int, payload: ArticleUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    article = services.article_update(
        tenant=tenant,
        actor=actor,
        article=_article(tenant, actor, article_id),
        changes=payload.model_dump(exclude_unset=True),
    )
    return _with_translations(tenant, actor, article)


@router.delete("/articles/{article_id}", response={204: None}, summary="Delete an article")
def articles_delete(request: HttpRequest, article_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "write")
    services.article_delete(tenant=tenant, actor=actor, article=_article(tenant, actor, article_id))
    return Status(204, None)


@router.get(
    "/articles/{article_id}/versions",
    response=page_of(VersionOut),
    summary="List an article's versions",
    description="Newest first; each holds the title and markdown body as saved.",
)
def versions_list(
    request: HttpRequest, article_id: int, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    article = _article(tenant, actor, article_id)
    rows = selectors.version_list(tenant=tenant, actor=actor, article=article)
    return keyset_response(rows, ordering=("-number", "id"), cursor=cursor, limit=limit)


@router.post(
    "/articles/{article_id}/versions/{number}/restore",
    response=ArticleOut,
    summary="Restore a version",
    description="The version's title and body become the article's text, as a new version.",
)
def versions_restore(request: HttpRequest, article_id: int, number: int) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    article = _article(tenant, actor, article_id)
    if selectors.version_get(tenant=tenant, actor=actor, article=article, number=number) is None:
        raise NotFound("This article has no version with this number.", type_="not-found")
    restored = services.article_restore(tenant=tenant, actor=actor, article=article, number=number)
    return _with_translations(tenant, actor, restored)


@router.get("/categories", response=page_of(CategoryOut), summary="List categories")
def categories_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = selectors.category_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=("position", "id"), cursor=cursor, limit=limit)


@router.post("/categories", response={201: CategoryOut}, summary="Create a category")
def categories_create(request: HttpRequest, payload: CategoryIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "write")
    return Status(201, services.category_create(tenant=tenant, actor=actor, **payload.model_dump()))


@router.get("/categories/{category_id}", response=CategoryOut, summary="Get a category")
def categories_get(request: HttpRequest, category_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return _category(tenant, actor, category_id)


@router.patch("/categories/{category_id}", response=CategoryOut, summary="Change a category")
def categories_update(request: HttpRequest, category_id: int, payload: CategoryUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    return services.category_update(
        tenant=tenant,
        actor=actor,
        category=_category(tenant, actor, category_id),
        changes=payload.model_dump(exclude_unset=True),
    )


@router.delete(
    "/categories/{category_id}",
    response={204: None},
    summary="Delete a category",
    description="Its articles stay, without a category (owners and admins).",
)
def categories_delete(request: HttpRequest, category_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.category_delete(
        tenant=tenant, actor=actor, category=_category(tenant, actor, category_id)
    )
    return Status(204, None)
