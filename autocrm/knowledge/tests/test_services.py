from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from autocrm.accounts.actors import actor_for_membership
from autocrm.accounts.models import Membership
from autocrm.accounts.tests.factories import member
from autocrm.core.actors import Actor
from autocrm.core.models import Event
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge import events, selectors, services
from autocrm.knowledge.models import Article, ArticleVersion
from autocrm.knowledge.tests.factories import SYSTEM, article, category

pytestmark = pytest.mark.django_db


def actor_for(tenant, role: str) -> Actor:  # type: ignore[no-untyped-def]
    user = member(tenant, role)
    with tenant_context(tenant):
        return actor_for_membership(Membership.objects.select_related("user").get(user=user))


def event_types(tenant, a: Article) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        Event.objects.filter(tenant=tenant, subject_type="knowledge.article", subject_id=str(a.pk))
        .order_by("id")
        .values_list("type", flat=True)
    )


def test_create_renders_indexes_versions_and_emits_events(ctx) -> None:  # type: ignore[no-untyped-def]
    a = article(ctx, body='!!! tip "Good to know"\n    Links expire.\n\n```sh\nreset --now\n```\n')
    assert a.slug == "how-to-reset-your-password"
    assert '<div class="admonition tip">' in a.body_html
    assert '<code class="language-sh">' in a.body_html
    assert "Links expire." in a.body_text
    assert ArticleVersion.objects.get(article=a).number == 1
    assert event_types(ctx, a) == [events.ARTICLE_CREATED, events.ARTICLE_PUBLISHED]
    assert article(ctx).slug == "how-to-reset-your-password-2"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hello <script>alert(1)</script>", "Raw HTML (<script>)"),
        ('<img src=x onerror="alert(1)">', "Raw HTML (<img>)"),
        ("[click](javascript:alert(1))", "javascript: is not allowed"),
        ("[click](JaVa%09Script:alert(1))", "javascript: is not allowed"),
        ("<javascript:alert(1)>", "javascript: is not allowed"),
        ("![x](data:image/svg+xml;base64,PHN2Zz4=)", "data: is not allowed"),
    ],
)
def test_unsafe_markdown_is_refused_and_nothing_stored(ctx, body: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as error:
        article(ctx, body=body)
    assert message in str(error.value.message_dict["body"])
    assert not Article.objects.exists()


def test_html_in_title_and_tags_is_refused(ctx) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as error:
        article(ctx, title="<script>alert(1)</script>")
    assert "Plain text only" in str(error.value)
    with pytest.raises(ValidationError):
        article(ctx, tags=["<b>x</b>"])
    assert not Article.objects.exists()


def test_code_blocks_show_html_as_text(ctx) -> None:  # type: ignore[no-untyped-def]
    a = article(ctx, body="```html\n<script>alert(1)</script>\n```")
    assert "&lt;script&gt;" in a.body_html and "<script>" not in a.body_html


def test_update_versions_diff_and_restore(ctx) -> None:  # type: ignore[no-untyped-def]
    a = article(ctx, state="draft")
    a = services.article_update(
        tenant=ctx, actor=SYSTEM, article=a, changes={"body": "New text.", "state": "published"}
    )
    assert a.version == 2 and a.published_at is not None
    versions = list(selectors.version_list(tenant=ctx, actor=SYSTEM, article=a))
    diff = selectors.version_diff(versions[1], versions[0])
    assert ("add", "New text.") in [(d.kind, d.text) for d in diff]
    restored = services.article_restore(tenant=ctx, actor=SYSTEM, article=a, number=1)
    assert restored.version == 3 and "Settings" in restored.body
    assert "Settings" in restored.body_html
    assert event_types(ctx, a)[-4:] == [
        events.ARTICLE_UPDATED,
        events.ARTICLE_PUBLISHED,
        events.ARTICLE_UPDATED,
        events.ARTICLE_RESTORED,
    ]
    archived = services.article_update(
        tenant=ctx, actor=SYSTEM, article=a, changes={"state": "archived"}
    )
    assert archived.version == 3  # no text change, no new version
    assert event_types(ctx, a)[-1] == events.ARTICLE_ARCHIVED


def test_translations_share_a_key_once_per_locale(ctx) -> None:  # type: ignore[no-untyped-def]
    en = article(ctx)
    de = article(ctx, title="Passwort zurücksetzen", locale="de", translation_of=en.pk)
    assert de.translation_key == en.translation_key
    assert [
        t.locale for t in selectors.article_translations(tenant=ctx, actor=SYSTEM, article=en)
    ] == ["de"]
    with pytest.raises(ValidationError):
        article(ctx, title="Encore", locale="de", translation_of=en.pk)


def test_votes_count_once_per_reader_and_can_change(ctx) -> None:  # type: ignore[no-untyped-def]
    a = article(ctx)
    visitor = Actor(user=None, role="visitor", label="visitor:x")
    services.article_vote(tenant=ctx, actor=visitor, article=a, voter="v1", helpful=True)
    services.article_vote(tenant=ctx, actor=visitor, article=a, voter="v1", helpful=True)
    services.article_vote(
        tenant=ctx, actor=visitor, article=a, voter="v2", helpful=False, comment="Link expired"
    )
    a.refresh_from_db()
    assert (a.helpful_yes, a.helpful_no) == (1, 1)
    services.article_vote(tenant=ctx, actor=visitor, article=a, voter="v1", helpful=False)
    a.refresh_from_db()
    assert (a.helpful_yes, a.helpful_no) == (0, 2)
    with pytest.raises(ValidationError):
        services.article_vote(
            tenant=ctx, actor=visitor, article=a, voter="v3", helpful=True, comment="<b>x</b>"
        )


def test_readers_cannot_write_and_do_not_see_internal(ctx, tenant_a) -> None:  # type: ignore[no-untyped-def]
    internal = article(ctx, visibility="internal")
    draft = article(ctx, state="draft", title="Draft")
    customer = actor_for(tenant_a, "customer")
    light = actor_for(tenant_a, "light_agent")
    for actor in (customer, light):
        with pytest.raises(PermissionDenied):
            article(ctx, actor=actor)
    assert selectors.article_get(tenant=ctx, actor=customer, article_id=internal.pk) is None
    assert selectors.article_get(tenant=ctx, actor=customer, article_id=draft.pk) is None
    assert selectors.article_get(tenant=ctx, actor=light, article_id=internal.pk) is not None


def test_category_and_section(ctx) -> None:  # type: ignore[no-untyped-def]
    c = category(ctx)
    assert c.slug == "account-and-login"
    s = services.section_create(tenant=ctx, actor=SYSTEM, category=c, name="Passwords")
    a = article(ctx, section_id=s.pk)
    assert a.category_id == c.pk
    other = category(ctx, name="Billing")
    with pytest.raises(ValidationError):
        article(ctx, category_id=other.pk, section_id=s.pk)
