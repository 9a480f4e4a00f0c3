"""The help centre's knowledge-base pages: home (search, categories, popular articles),
category, article (with its helpful vote), search results, sitemap and article images.

Public pages (``portal.access.help_page``): anyone may read them, and they show published
public articles only, whoever reads; internal articles and drafts exist only in the
workspace. Every query runs in the URL's tenant (RLS), so another tenant's articles cannot
appear."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.signing import Signer
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET

from autocrm.accounts.actors import actor_for_membership
from autocrm.core.actors import Actor
from autocrm.core.downloads import sandboxed_file_response
from autocrm.core.problems import InvalidInput
from autocrm.knowledge import access, selectors, services
from autocrm.knowledge.models import Article, State, Upload
from autocrm.knowledge.search import LOCALES
from autocrm.knowledge.uploads import upload_open
from autocrm.portal.access import HelpRequest, help_page

SEARCH_PAGE_SIZE = 20
_signer = Signer(salt="autocrm.knowledge.upload")


def reader(request: HelpRequest) -> Actor:
    """Who reads: the signed-in member with their role, else an anonymous visitor."""
    membership = getattr(request, "membership", None)
    if membership is not None:
        return actor_for_membership(membership)
    return access.visitor_actor(request.session.session_key or "anonymous")


def locale_of(request: HelpRequest) -> str:
    wanted = request.GET.get("locale", "")
    return wanted if wanted in LOCALES else selectors.default_locale(request.tenant)


def article_url(article: Article) -> str:
    return reverse("portal:kb_article", args=[article.tenant.slug, article.pk, article.slug])


def upload_url(tenant_slug: str, upload: Upload) -> str:
    signature = _signer.signature(f"{upload.tenant_id}:{upload.pk}")
    return reverse("portal:kb_file", args=[tenant_slug, upload.pk, signature, upload.filename])


def _locales(request: HelpRequest, actor: Actor) -> list[tuple[str, str]]:
    return [
        (code, LOCALES[code][0])
        for code in selectors.published_locales(tenant=request.tenant, actor=actor)
    ]


@require_GET
@help_page
def home(request: HelpRequest) -> HttpResponse:
    tenant, actor, locale = request.tenant, reader(request), locale_of(request)
    # Categories with a published public article in this locale: one index probe each
    # (knowledge_article_category), not a count over every article of the locale.
    published = Article.objects.filter(
        tenant=tenant,
        category=OuterRef("pk"),
        state=State.PUBLISHED,
        locale=locale,
        visibility="public",
    )
    categories = (
        selectors.category_list(tenant=tenant, actor=actor)
        .filter(Exists(published))
        .order_by("position", "name")
    )
    return render(
        request,
        "help/kb/home.html",
        {
            "categories": list(categories),
            "popular": selectors.article_popular(tenant=tenant, actor=actor, locale=locale),
            "locale": locale,
            "locales": _locales(request, actor),
        },
    )


@require_GET
@help_page
def search(request: HelpRequest) -> HttpResponse:
    tenant, actor, locale = request.tenant, reader(request), locale_of(request)
    q = request.GET.get("q", "")[:200].strip()
    page = None
    error = ""
    if q:
        try:
            page = selectors.article_search(
                tenant=tenant,
                actor=actor,
                q=q,
                locale=locale,
                audience="public",
                limit=SEARCH_PAGE_SIZE,
                cursor=request.GET.get("cursor") or None,
            )
        except InvalidInput:  # a cursor that was tampered with or is from another search
            error = "This results page does not exist; search again from the first page."
        if page is not None and not request.GET.get("cursor"):
            services.search_record(
                tenant=tenant,
                actor=actor,
                query=q,
                locale=locale,
                audience="public",
                results=len(page.items),
            )
    return render(
        request,
        "help/kb/search.html",
        {
            "q": q,
            "page": page,
            "locale": locale,
            "error": error,
            "locales": _locales(request, actor),
        },
    )


@require_GET
@help_page
def category(request: HelpRequest, category_slug: str) -> HttpResponse:
    tenant, actor, locale = request.tenant, reader(request), locale_of(request)
    found = selectors.category_by_slug(tenant=tenant, actor=actor, slug=category_slug)
    if found is None:
        raise Http404("No such category.")
    articles = list(
        selectors.article_public_list(tenant=tenant, actor=actor, locale=locale, category=found)
        .select_related("section")
        .order_by("title", "id")
    )
    sections = list(selectors.section_list(tenant=tenant, actor=actor, category=found))
    grouped = [(s, [a for a in articles if a.section_id == s.pk]) for s in sections]
    loose = [a for a in articles if a.section_id is None]
    return render(
        request,
        "help/kb/category.html",
        {
            "category": found,
            "grouped": [(s, items) for s, items in grouped if items],
            "loose": loose,
            "count": len(articles),
            "locale": locale,
        },
    )


@require_GET
@help_page
def article_short(request: HelpRequest, article_id: int) -> HttpResponse:
    found = selectors.article_public_get(
        tenant=request.tenant, actor=reader(request), article_id=article_id
    )
    if found is None:
        raise Http404("No such article.")
    return redirect(article_url(found), permanent=True)


@require_GET
@help_page
def article(request: HelpRequest, article_id: int, slug: str) -> HttpResponse:
    tenant, actor = request.tenant, reader(request)
    found = selectors.article_public_get(tenant=tenant, actor=actor, article_id=article_id)
    if found is None:
        raise Http404("No such article.")
    if slug != found.slug:  # renamed, or a hand-typed address: the readable one
        return redirect(article_url(found), permanent=True)
    services.article_view_record(tenant=tenant, actor=actor, article=found)
    return render(
        request,
        "help/kb/article.html",
        {
            "article": found,
            "translations": [
                (t, LOCALES.get(t.locale, (t.locale, ""))[0])
                for t in selectors.article_translations(
                    tenant=tenant, actor=actor, article=found, public=True
                )
            ],
            "related": selectors.article_related(tenant=tenant, actor=actor, article=found),
            "voted": request.session.get(f"kb-voted-{found.pk}"),
        },
    )


@help_page
def vote(request: HelpRequest, article_id: int) -> HttpResponse:
    """ "Was this helpful?" (POST): one vote per reader (their account, else this browser's
    session), changeable; a GET just goes to the article."""
    tenant, actor = request.tenant, reader(request)
    found = selectors.article_public_get(tenant=tenant, actor=actor, article_id=article_id)
    if found is None:
        raise Http404("No such article.")
    target = article_url(found)
    if request.method != "POST":
        return HttpResponseRedirect(target)
    helpful = request.POST.get("helpful")
    if helpful not in {"yes", "no"}:
        messages.error(request, "Choose yes or no.")
        return HttpResponseRedirect(target)
    if not request.session.session_key:
        request.session.save()
    who = (
        f"user:{request.user.pk}" if request.user.is_authenticated else request.session.session_key
    )
    try:
        services.article_vote(
            tenant=tenant,
            actor=actor,
            article=found,
            voter=access.voter_hash(f"{tenant.pk}:{who}"),
            helpful=helpful == "yes",
            comment=request.POST.get("comment", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(target + "#feedback")
    request.session[f"kb-voted-{found.pk}"] = helpful
    messages.success(request, "Thank you for your feedback.")
    return HttpResponseRedirect(target + "#feedback")


@require_GET
@help_page
def sitemap(request: HelpRequest) -> HttpResponse:
    """Every published public article and every category with one, for search engines."""
    tenant, actor = request.tenant, reader(request)
    articles = (
        Article.objects.filter(tenant=tenant, state=State.PUBLISHED, visibility="public")
        .only("id", "slug", "updated_at", "tenant_id")
        .order_by("id")
    )
    categories = (
        selectors.category_list(tenant=tenant, actor=actor)
        .filter(articles__state=State.PUBLISHED, articles__visibility="public")
        .distinct()
        .order_by("id")
    )
    base = request.build_absolute_uri("/").rstrip("/")
    slug = tenant.slug
    urls: list[tuple[str, dt.datetime | None]] = [
        (base + reverse("portal:kb_home", args=[slug]), None)
    ]
    urls += [(base + reverse("portal:kb_category", args=[slug, c.slug]), None) for c in categories]
    urls += [
        (base + reverse("portal:kb_article", args=[slug, a.pk, a.slug]), a.updated_at)
        for a in articles
    ]
    return render(request, "help/kb/sitemap.xml", {"urls": urls}, content_type="application/xml")


@require_GET
@help_page
def upload_file(
    request: HelpRequest, upload_id: int, signature: str, filename: str
) -> FileResponse:
    """An image of an article body. The address is signed, so ids cannot be walked to
    images of internal articles; the type was sniffed at upload (raster images only)."""
    tenant = request.tenant
    expected = _signer.signature(f"{tenant.pk}:{upload_id}")
    found = selectors.upload_get(tenant=tenant, actor=reader(request), upload_id=upload_id)
    if found is None or not constant_time_compare(signature, expected):
        raise Http404("No such file.")
    try:
        handle = upload_open(found)
    except FileNotFoundError:
        raise Http404("No such file.") from None
    response = sandboxed_file_response(handle, content_type=found.content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response
