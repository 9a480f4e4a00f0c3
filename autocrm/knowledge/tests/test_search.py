from __future__ import annotations

import pytest

from autocrm.core.actors import Actor
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge import selectors, services
from autocrm.knowledge.models import SearchLog
from autocrm.knowledge.tests.factories import SYSTEM, article

pytestmark = pytest.mark.django_db
VISITOR = Actor(user=None, role="visitor", label="visitor:x")


def titles(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.article.title for h in page.items]


def search(tenant, q: str, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("locale", "en")
    kw.setdefault("actor", VISITOR)
    return selectors.article_search(tenant=tenant, q=q, **kw)


def test_full_text_stems_ranks_title_first_and_highlights(ctx) -> None:  # type: ignore[no-untyped-def]
    article(ctx, title="Billing overview", body="Where to find invoices and how to reset a card.")
    article(ctx, title="Reset your password", body="Resetting is quick.")
    page = search(ctx, "resetting")
    assert titles(page) == ["Reset your password", "Billing overview"]
    assert "<mark>" in page.items[0].snippet


def test_prefix_of_the_last_word_matches_as_you_type(ctx) -> None:  # type: ignore[no-untyped-def]
    article(ctx, title="Reset your password")
    assert titles(search(ctx, "reset passw")) == ["Reset your password"]


def test_typo_tolerance_on_titles(ctx) -> None:  # type: ignore[no-untyped-def]
    article(ctx, title="Reset your password", body="Nothing else.")
    page = search(ctx, "pasword")
    assert page.mode == "typo" and titles(page) == ["Reset your password"]
    assert titles(search(ctx, "zzzqqq")) == []


def test_typo_tolerance_in_bodies_highlights_the_word_found(ctx) -> None:  # type: ignore[no-untyped-def]
    article(
        ctx,
        title="Getting your money back",
        body="A refund reaches your card within five days of the cancellation.",
    )
    article(ctx, title="Printers", body="Connect the printer to the network.")
    page = search(ctx, "refnd cancelation")
    assert page.mode == "typo" and titles(page) == ["Getting your money back"]
    snippet = page.items[0].snippet
    assert "<mark>refund</mark>" in snippet and "<mark>cancellation</mark>" in snippet
    # Every word must find a similar one: one word like nothing leaves nothing.
    assert titles(search(ctx, "refnd qqqzzz")) == []


def test_typo_mode_keeps_words_the_vocabulary_cannot_hold(ctx) -> None:  # type: ignore[no-untyped-def]
    article(ctx, title="Error 404 on the printer page", body="Reload the printer page.")
    article(ctx, title="Error 500 on the printer page", body="Reload the printer page.")
    # "404" has no letters: it must match as written, while "priner" is corrected.
    assert titles(search(ctx, "priner 404")) == ["Error 404 on the printer page"]
    # A stop word ("the") constrains nothing, as in full text.
    assert len(search(ctx, "the priner").items) == 2


def test_typo_vocabulary_is_per_tenant_and_locale_and_follows_edits(ctx, tenant_b) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(tenant_b):
        article(tenant_b, title="Thermostat", body="Calibrate the thermostat.")
    en = article(ctx, title="Invoices", body="Download invoices.")
    article(
        ctx,
        title="Rechnungen",
        body="Laden Sie die Rechnungen herunter.",
        locale="de",
        translation_of=en.pk,
    )
    assert titles(search(ctx, "thermostatt")) == []  # another tenant's word
    assert titles(search(ctx, "rechnugen")) == []  # a German word, searched in English
    assert titles(search(ctx, "rechnugen", locale="de")) == ["Rechnungen"]
    services.article_update(
        tenant=ctx, actor=SYSTEM, article=en, changes={"body": "Download a quotation."}
    )
    assert titles(search(ctx, "quotaton")) == ["Invoices"]


def test_typo_results_page_on_with_their_cursor(ctx) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        article(ctx, title=f"Guide {n}", body="Calibrate the thermostat first.")
    first = search(ctx, "thermostatt", limit=3)
    second = search(ctx, "thermostatt", limit=3, cursor=first.next_cursor)
    assert first.mode == second.mode == "typo"
    assert len(first.items) == 3 and len(second.items) == 2 and second.next_cursor is None
    assert not set(titles(first)) & set(titles(second))


def test_per_locale_configuration(ctx) -> None:  # type: ignore[no-untyped-def]
    en = article(ctx, title="Invoices", body="Download invoices.")
    article(
        ctx,
        title="Rechnungen herunterladen",
        body="Laden Sie Rechnungen.",
        locale="de",
        translation_of=en.pk,
    )
    assert titles(search(ctx, "rechnung", locale="de")) == ["Rechnungen herunterladen"]
    assert titles(search(ctx, "rechnung", locale="en")) == []


def test_public_search_never_shows_internal_drafts_or_other_tenants(ctx, tenant_b) -> None:  # type: ignore[no-untyped-def]
    article(ctx, title="Refund policy public")
    article(ctx, title="Refund policy internal", visibility="internal")
    article(ctx, title="Refund policy draft", state="draft")
    with tenant_context(tenant_b):
        article(tenant_b, title="Refund policy other tenant")
    assert titles(search(ctx, "refund")) == ["Refund policy public"]
    # An agent asking for the public view gets the public view.
    assert titles(search(ctx, "refund", actor=SYSTEM)) == ["Refund policy public"]
    agent_view = search(ctx, "refund", actor=SYSTEM, audience="agent")
    assert sorted(titles(agent_view)) == [
        "Refund policy draft",
        "Refund policy internal",
        "Refund policy public",
    ]
    # A visitor asking for the agent view still gets only public articles.
    assert titles(search(ctx, "refund", audience="agent")) == ["Refund policy public"]


def test_snippets_escape_article_text(ctx) -> None:  # type: ignore[no-untyped-def]
    article(ctx, title="Escaping", body="Type `<b>bold</b>` to escape things.")
    snippet = search(ctx, "escape").items[0].snippet
    # ts_headline's parser drops tags from the text; nothing reaches the page unescaped.
    assert "bold" in snippet and "<b>" not in snippet


def test_pages_with_cursor(ctx) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        article(ctx, title=f"Printer setup {n}")
    first = search(ctx, "printer", limit=3)
    second = search(ctx, "printer", limit=3, cursor=first.next_cursor)
    assert len(first.items) == 3 and len(second.items) == 2 and second.next_cursor is None
    assert not set(titles(first)) & set(titles(second))


def test_analytics_top_and_no_result_queries(ctx) -> None:  # type: ignore[no-untyped-def]
    for q, n in [("Refund", 2), ("refund ", 1), ("laser", 0)]:
        services.search_record(
            tenant=ctx, actor=VISITOR, query=q, locale="en", audience="public", results=n
        )
    stats = selectors.kb_analytics(tenant=ctx, actor=SYSTEM)
    assert [(s.query, s.searches) for s in stats.top_queries] == [("refund", 2), ("laser", 1)]
    assert [s.query for s in stats.no_result_queries] == ["laser"]
    assert SearchLog.objects.count() == 3
