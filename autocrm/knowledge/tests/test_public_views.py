from __future__ import annotations

import pytest
from django.test import Client

from autocrm.core.tenancy import tenant_context
from autocrm.knowledge import services
from autocrm.knowledge.models import Article, ArticleVote, SearchLog
from autocrm.knowledge.tests.factories import SYSTEM, article, category

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb(tenant_a):  # type: ignore[no-untyped-def]
    with tenant_context(tenant_a):
        billing = category(tenant_a, name="Billing")
        section = services.section_create(
            tenant=tenant_a, actor=SYSTEM, category=billing, name="Invoices"
        )
        public = article(
            tenant_a,
            title="Download an invoice",
            body="Open **Billing** and click *Download*.",
            category_id=billing.pk,
            section_id=section.pk,
        )
        article(
            tenant_a, title="Download refunds secret", visibility="internal", category_id=billing.pk
        )
        article(tenant_a, title="Download draft plan", state="draft", category_id=billing.pk)
        article(tenant_a, title="Rechnung herunterladen", locale="de", translation_of=public.pk)
    return public


def test_home_lists_categories_and_popular_public_articles(client: Client, kb) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/acme/help/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Billing" in html and "Download an invoice" in html
    assert "secret" not in html and "draft plan" not in html
    assert 'action="/acme/help/search"' in html


def test_article_page_readable_slug_counts_views_and_links_translations(client: Client, kb) -> None:  # type: ignore[no-untyped-def]
    url = f"/acme/help/articles/{kb.pk}-download-an-invoice/"
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<strong>Billing</strong>" in html and 'hreflang="de"' in html
    assert client.get(f"/acme/help/articles/{kb.pk}/")["Location"] == url
    assert client.get(f"/acme/help/articles/{kb.pk}-old-title/")["Location"] == url
    with tenant_context(kb.tenant):
        assert Article.objects.get(pk=kb.pk).view_count == 1


def test_internal_and_draft_articles_are_404_in_the_help_centre(client: Client, kb) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(kb.tenant):
        hidden = Article.objects.exclude(state="published", visibility="public")
        for a in hidden:
            assert client.get(f"/acme/help/articles/{a.pk}-{a.slug}/").status_code == 404


def test_search_page_finds_public_only_and_logs(client: Client, kb) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/acme/help/search?q=download").content.decode()
    assert "Download an invoice" in html and "<mark>Download</mark>" in html
    assert "secret" not in html and "draft plan" not in html
    empty = client.get("/acme/help/search?q=teleport").content.decode()
    assert "No articles match" in empty
    german = client.get("/acme/help/search?q=rechnung&locale=de").content.decode()
    assert "Rechnung herunterladen" in german
    with tenant_context(kb.tenant):
        assert sorted(SearchLog.objects.values_list("query", "results")) == [
            ("download", 1),
            ("rechnung", 1),
            ("teleport", 0),
        ]


def test_search_with_script_is_escaped(client: Client, kb) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/acme/help/search?q=<script>alert(1)</script>").content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_vote_once_per_visitor_with_comment(client: Client, kb) -> None:  # type: ignore[no-untyped-def]
    url = f"/acme/help/articles/{kb.pk}/vote/"
    assert client.post(url, {"helpful": "no", "comment": "Where is the button?"}).status_code == 302
    client.post(url, {"helpful": "yes"})
    page = client.get(f"/acme/help/articles/{kb.pk}-{kb.slug}/").content.decode()
    assert 'aria-pressed="true">Yes' in page
    bad = client.post(url, {"helpful": "no", "comment": "<script>x</script>"}, follow=True)
    assert "Plain text only" in bad.content.decode()
    with tenant_context(kb.tenant):
        vote = ArticleVote.objects.get()
        assert (vote.helpful, vote.comment) == (True, "Where is the button?")
        kb.refresh_from_db()
        assert (kb.helpful_yes, kb.helpful_no) == (1, 0)
    assert client.get(url).status_code == 302


def test_category_page_groups_by_section(client: Client, kb) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/acme/help/categories/billing/").content.decode()
    assert "Invoices" in html and "Download an invoice" in html and "secret" not in html
    assert client.get("/acme/help/categories/nope/").status_code == 404


def test_sitemap_lists_public_articles_only(client: Client, kb) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/acme/help/sitemap.xml")
    xml = response.content.decode()
    assert response["Content-Type"].startswith("application/xml")
    assert f"/acme/help/articles/{kb.pk}-download-an-invoice/" in xml
    assert "/acme/help/categories/billing/" in xml
    assert "secret" not in xml and "draft" not in xml


def test_another_tenants_help_centre_shows_none_of_ours(client: Client, kb, tenant_b) -> None:  # type: ignore[no-untyped-def]
    assert "Download an invoice" not in client.get("/globex/help/").content.decode()
    assert client.get(f"/globex/help/articles/{kb.pk}-{kb.slug}/").status_code == 404
    assert "Download" not in client.get("/globex/help/search?q=download").content.decode()
