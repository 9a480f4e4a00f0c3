"""Agent pages of the knowledge base: the article list, the editor (live preview, image
upload), history with diff and restore, categories, analytics; and what the ticket page
uses: the article picker for the composer and "article draft from this solved ticket"."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from autocrm.accounts.access import TenantRequest, staff_required
from autocrm.core.forms import add_service_errors
from autocrm.core.problems import InvalidInput
from autocrm.knowledge import markdown, selectors, services, ticket_drafts, uploads
from autocrm.knowledge.models import Article, State
from autocrm.knowledge.public_views import upload_url
from autocrm.knowledge.search import LOCALES
from autocrm.workspace.common import actor_for, found_or_404
from autocrm.workspace.kb_forms import ArticleForm, CategoryForm, SectionForm

PAGE_SIZE = 50


def _article(request: TenantRequest, article_id: int) -> Article:
    return found_or_404(
        selectors.article_get(
            tenant=request.tenant, actor=actor_for(request), article_id=article_id
        ),
        "No such article.",
    )


def _public_url(article: Article) -> str:
    return reverse("portal:kb_article", args=[article.tenant.slug, article.pk, article.slug])


@staff_required
@require_GET
def kb_list(request: TenantRequest) -> HttpResponse:
    tenant, actor = request.tenant, actor_for(request)
    q = request.GET.get("q", "")[:200].strip()
    state = request.GET.get("state", "")
    state = state if state in State.values else ""
    locale = request.GET.get("locale", "")
    locale = locale if locale in LOCALES else ""
    snippets: dict[int, str] = {}
    if q:
        page = selectors.article_search(
            tenant=tenant,
            actor=actor,
            q=q,
            locale=locale or selectors.default_locale(tenant),
            audience="agent",
            state=state or None,
            limit=PAGE_SIZE,
        )
        articles = [hit.article for hit in page.items]
        snippets = {hit.article.pk: hit.snippet for hit in page.items}
    else:
        articles = list(
            selectors.article_list(
                tenant=tenant, actor=actor, locale=locale or None, state=state or None
            )
            .select_related("category")
            .order_by("-updated_at", "-id")[:PAGE_SIZE]
        )
    return render(
        request,
        "workspace/kb/list.html",
        {
            "articles": [(a, snippets.get(a.pk, "")) for a in articles],
            "q": q,
            "state": state,
            "locale": locale,
            "states": State.choices,
            "locales": [(c, n) for c, (n, _) in LOCALES.items()],
        },
    )


def _form(request: TenantRequest, *, editing: bool, **kwargs: Any) -> ArticleForm:
    tenant, actor = request.tenant, actor_for(request)
    categories = list(
        selectors.category_list(tenant=tenant, actor=actor).order_by("position", "name")
    )
    sections = [
        s
        for c in categories
        for s in selectors.section_list(tenant=tenant, actor=actor, category=c)
    ]
    return ArticleForm(
        request.POST or None, categories=categories, sections=sections, editing=editing, **kwargs
    )


def _editor(request: TenantRequest, form: ArticleForm, article: Article | None) -> HttpResponse:
    context: dict[str, Any] = {"form": form, "article": article}
    if article is not None:
        actor = actor_for(request)
        context["translations"] = selectors.article_translations(
            tenant=request.tenant, actor=actor, article=article
        )
        taken = {article.locale, *(t.locale for t in context["translations"])}
        context["missing_locales"] = [(c, n) for c, (n, _) in LOCALES.items() if c not in taken]
        context["public_url"] = _public_url(article) if article.is_public else ""
    return render(request, "workspace/kb/edit.html", context)


@staff_required
def kb_article_new(request: TenantRequest) -> HttpResponse:
    tenant, actor = request.tenant, actor_for(request)
    source = None
    if request.GET.get("translation_of", "").isdigit():
        source = _article(request, int(request.GET["translation_of"]))
    initial: dict[str, Any] = {}
    if source is not None:
        initial = {
            "title": source.title,
            "body": source.body,
            "locale": request.GET.get("locale", "en"),
            "visibility": source.visibility,
            "section": f"s{source.section_id}"
            if source.section_id
            else (f"c{source.category_id}" if source.category_id else ""),
            "tags": ", ".join(source.tags),
        }
    form = _form(request, editing=False, initial=initial)
    if request.method == "POST" and form.is_valid():
        category_id, section_id = form.placement()
        try:
            article = services.article_create(
                tenant=tenant,
                actor=actor,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                locale=form.cleaned_data["locale"],
                state=form.cleaned_data["state"],
                visibility=form.cleaned_data["visibility"],
                category_id=category_id,
                section_id=section_id,
                tags=form.cleaned_data["tags"],
                related_ids=form.cleaned_data["related"],
                translation_of=source.pk if source is not None else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"“{article.title}” was created.")
            return redirect(
                "workspace:kb_article_edit", tenant_slug=tenant.slug, article_id=article.pk
            )
    return _editor(request, form, None)


@staff_required
def kb_article_edit(request: TenantRequest, article_id: int) -> HttpResponse:
    tenant, actor = request.tenant, actor_for(request)
    article = _article(request, article_id)
    initial = {
        "title": article.title,
        "body": article.body,
        "locale": article.locale,
        "state": article.state,
        "visibility": article.visibility,
        "section": f"s{article.section_id}"
        if article.section_id
        else (f"c{article.category_id}" if article.category_id else ""),
        "tags": ", ".join(article.tags),
        "related": ", ".join(str(i) for i in article.related_ids),
    }
    form = _form(request, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        category_id, section_id = form.placement()
        changes = {
            "title": form.cleaned_data["title"],
            "body": form.cleaned_data["body"],
            "state": form.cleaned_data["state"],
            "visibility": form.cleaned_data["visibility"],
            "category_id": category_id,
            "section_id": section_id,
            "tags": form.cleaned_data["tags"],
            "related_ids": form.cleaned_data["related"],
        }
        try:
            article = services.article_update(
                tenant=tenant,
                actor=actor,
                article=article,
                changes=changes,
                note=form.cleaned_data.get("note", ""),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"“{article.title}” was saved (version {article.version}).")
            return redirect(
                "workspace:kb_article_edit", tenant_slug=tenant.slug, article_id=article.pk
            )
    return _editor(request, form, article)


@staff_required
@require_POST
def kb_article_delete(request: TenantRequest, article_id: int) -> HttpResponse:
    article = _article(request, article_id)
    services.article_delete(tenant=request.tenant, actor=actor_for(request), article=article)
    messages.success(request, f"“{article.title}” was deleted.")
    return redirect("workspace:kb_list", tenant_slug=request.tenant.slug)


@staff_required
@require_POST
def kb_preview(request: TenantRequest) -> JsonResponse:
    """The editor's live preview: the same rendering and checks as saving."""
    source = request.POST.get("body", "")[: services.BODY_MAX_CHARS]
    return JsonResponse({"html": markdown.render(source), "problems": markdown.problems(source)})


@staff_required
@require_POST
def kb_upload(request: TenantRequest) -> JsonResponse:
    """An image for the editor: its markdown, to insert where the cursor is."""
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "Choose an image to upload."}, status=400)
    try:
        row = uploads.upload_create(
            tenant=request.tenant,
            actor=actor_for(request),
            upload=upload,
            filename=upload.name or "image",
            size=upload.size or 0,
        )
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    url = upload_url(request.tenant.slug, row)
    alt = row.filename.rsplit(".", 1)[0].replace("]", "").replace("[", "")
    return JsonResponse({"url": url, "markdown": f"![{alt}]({url})"}, status=201)


@staff_required
@require_GET
def kb_history(request: TenantRequest, article_id: int) -> HttpResponse:
    tenant, actor = request.tenant, actor_for(request)
    article = _article(request, article_id)
    versions = list(selectors.version_list(tenant=tenant, actor=actor, article=article))
    by_number = {v.number: v for v in versions}
    newest = versions[0].number if versions else 0
    to_n = _int(request.GET.get("to"), newest)
    from_n = _int(request.GET.get("from"), to_n - 1 if to_n > 1 else to_n)
    diff = None
    if from_n in by_number and to_n in by_number:
        diff = selectors.version_diff(by_number[from_n], by_number[to_n])
    return render(
        request,
        "workspace/kb/history.html",
        {"article": article, "versions": versions, "diff": diff, "from_n": from_n, "to_n": to_n},
    )


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() and len(value) < 10 else default


@staff_required
@require_POST
def kb_restore(request: TenantRequest, article_id: int, number: int) -> HttpResponse:
    article = _article(request, article_id)
    try:
        article = services.article_restore(
            tenant=request.tenant, actor=actor_for(request), article=article, number=number
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Version {number} restored as version {article.version}.")
    return redirect("workspace:kb_history", tenant_slug=request.tenant.slug, article_id=article.pk)


@staff_required
def kb_categories(request: TenantRequest) -> HttpResponse:
    tenant, actor = request.tenant, actor_for(request)
    categories = list(
        selectors.category_list(tenant=tenant, actor=actor).order_by("position", "name")
    )
    category_form = CategoryForm(request.POST if "add_category" in request.POST else None)
    section_form = SectionForm(
        request.POST if "add_section" in request.POST else None, categories=categories
    )
    for form in (category_form, section_form):
        if request.method == "POST" and form.is_bound and form.is_valid():
            try:
                if form is category_form:
                    services.category_create(tenant=tenant, actor=actor, **form.cleaned_data)
                else:
                    found = selectors.category_get(
                        tenant=tenant, actor=actor, category_id=form.cleaned_data["category"]
                    )
                    if found is None:
                        raise ValidationError({"category": "No such category."})
                    services.section_create(
                        tenant=tenant, actor=actor, category=found, name=form.cleaned_data["name"]
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Saved.")
                return redirect("workspace:kb_categories", tenant_slug=tenant.slug)
    rows = [
        (c, list(selectors.section_list(tenant=tenant, actor=actor, category=c)))
        for c in categories
    ]
    return render(
        request,
        "workspace/kb/categories.html",
        {"rows": rows, "category_form": category_form, "section_form": section_form},
    )


@staff_required
@require_GET
def kb_analytics(request: TenantRequest) -> HttpResponse:
    stats = selectors.kb_analytics(tenant=request.tenant, actor=actor_for(request))
    return render(request, "workspace/kb/analytics.html", {"stats": stats})


@staff_required
@require_GET
def kb_picker(request: TenantRequest) -> JsonResponse:
    """Articles for the composer's picker: published ones matching ``q`` (internal ones
    marked, so an agent does not send a customer a link they cannot open)."""
    tenant, actor = request.tenant, actor_for(request)
    q = request.GET.get("q", "")[:200]
    locale = request.GET.get("locale", "")
    try:
        page = selectors.article_search(
            tenant=tenant,
            actor=actor,
            q=q,
            locale=locale if locale in LOCALES else selectors.default_locale(tenant),
            audience="agent",
            state=State.PUBLISHED,
            limit=8,
        )
    except InvalidInput:
        page = None
    items = []
    for hit in page.items if page else []:
        full = selectors.article_get(tenant=tenant, actor=actor, article_id=hit.article.pk)
        if full is None:
            continue
        items.append(
            {
                "id": full.pk,
                "title": full.title,
                "internal": full.visibility == "internal",
                "url": request.build_absolute_uri(_public_url(full)) if full.is_public else "",
                "text": full.body_text,
                "snippet": hit.snippet,
            }
        )
    return JsonResponse({"items": items})


@staff_required
@require_POST
def kb_from_ticket(request: TenantRequest, number: int) -> HttpResponse:
    try:
        article = ticket_drafts.article_draft_from_ticket(
            tenant=request.tenant, actor=actor_for(request), ticket_number=number
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("workspace:agent_ticket", tenant_slug=request.tenant.slug, number=number)
    messages.success(request, "An article draft was made from this ticket; edit it, then publish.")
    return redirect(
        "workspace:kb_article_edit", tenant_slug=request.tenant.slug, article_id=article.pk
    )
