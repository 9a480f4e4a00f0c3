"""Contact search by words (ADR 0048): what ``q`` finds, the vocabulary following every write,
tenants apart, and what a search costs in queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from autocrm.accounts.tests.factories import SYSTEM, api_key, bearer
from autocrm.core.api.pagination import keyset_page
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import contact_search, selectors, services
from autocrm.crm.models import Company, Contact, ContactWord
from autocrm.crm.services import PhoneInput
from autocrm.crm.services import imports as import_services
from autocrm.crm.tests.factories import company, contact
from autocrm.crm.tests.test_imports import run, upload
from autocrm.testing.queries import assert_constant_queries, list_queries

pytestmark = pytest.mark.django_db


def vocabulary(tenant: Tenant) -> set[str]:
    with tenant_context(tenant):
        return set(ContactWord.objects.values_list("word", flat=True))


def found(tenant: Tenant, q: str) -> list[str]:
    with tenant_context(tenant):
        rows = selectors.contact_list(
            tenant=tenant, actor=SYSTEM, filters=selectors.ContactFilters(q=q)
        )
        return list(rows.order_by("name", "id").values_list("name", flat=True))


@pytest.fixture
def people(tenant_a: Tenant) -> None:
    navy = company(tenant_a, name="Northwind Logistics")
    contact(tenant_a, name="Grace Hopper", email="grace@navy.test", company_id=navy.pk)
    contact(tenant_a, name="Ada Lovelace", email="ada.king@math.test")
    contact(tenant_a, name="Alan Turing", email="alan@bletchley.test")
    contact(tenant_a, name="Grace Brewster", email="gb@example.test")
    contact(tenant_a, name="Caller", phones=[PhoneInput("+44 20 7946 0958")])


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("Grace Hopper", ["Grace Hopper"]),  # every word must match
        ("grace", ["Grace Brewster", "Grace Hopper"]),
        ("lovel", ["Ada Lovelace"]),  # the start of a word
        ("hoper", ["Grace Hopper"]),  # a typo: no word starts with it, one resembles it
        ("tring", ["Alan Turing"]),
        ("king", ["Ada Lovelace"]),  # a word of the email address
        ("alan@bletchley.test", ["Alan Turing"]),  # an address exactly: that contact alone
        ("grace@navy", ["Grace Hopper"]),  # else the words of one
        ("+44 20 7946 0958", ["Caller"]),  # a phone number as written
        ("northwind", ["Grace Hopper"]),  # the primary company's name
        ("Northwind Logistics", ["Grace Hopper"]),
        ("zebra", []),
        ("grace zebra", []),
    ],
)
def test_q_finds_names_emails_phones_and_companies(
    tenant_a: Tenant, q: str, names: list[str]
) -> None:
    assert found(tenant_a, q) == names


def test_the_vocabulary_follows_create_update_and_delete(tenant_a: Tenant) -> None:
    ada = contact(tenant_a, name="Ada Lovelace", email="ada@math.test")
    contact(tenant_a, name="Ada Byron", email="byron@math.test")
    assert vocabulary(tenant_a) == {"ada", "lovelace", "math", "test", "byron"}
    with tenant_context(tenant_a):
        ada = services.contact_update(
            tenant=tenant_a, actor=SYSTEM, contact=ada, changes={"name": "Ada King"}
        )
    assert vocabulary(tenant_a) == {"ada", "king", "math", "test", "byron"}
    assert found(tenant_a, "king") == ["Ada King"] and found(tenant_a, "lovelace") == []
    with tenant_context(tenant_a):
        services.contact_update(
            tenant=tenant_a,
            actor=SYSTEM,
            contact=ada,
            changes={"email": "ada@engine.test", "emails": []},
        )
    assert vocabulary(tenant_a) == {"ada", "king", "engine", "math", "test", "byron"}
    with tenant_context(tenant_a):
        services.contact_delete(tenant=tenant_a, actor=SYSTEM, contact=ada)
    assert vocabulary(tenant_a) == {"ada", "byron", "math", "test"}


def test_a_merge_keeps_the_words_of_the_kept_contact_only(tenant_a: Tenant) -> None:
    keep = contact(tenant_a, name="Grace Hopper", email="grace@navy.test")
    duplicate = contact(tenant_a, name="Amazing Grace", email="g.hopper@cobol.test")
    with tenant_context(tenant_a):
        services.contact_merge(tenant=tenant_a, actor=SYSTEM, keep=keep, duplicate=duplicate)
    assert vocabulary(tenant_a) == {"grace", "hopper", "navy", "test"}
    assert found(tenant_a, "cobol") == [] and found(tenant_a, "hopper") == ["Grace Hopper"]


def test_an_import_adds_its_words_and_its_undo_takes_them_back(tenant_a: Tenant) -> None:
    contact(tenant_a, name="Ada Lovelace", email="ada@math.test")
    before = vocabulary(tenant_a)
    done = run(
        tenant_a,
        upload(tenant_a, "Name,Email\nAda Byron,ada.byron@math.test\nKonrad Zuse,kz@z3.test\n"),
    )
    assert done.created_count == 2
    assert vocabulary(tenant_a) == before | {"byron", "konrad", "zuse", "kz"}
    assert found(tenant_a, "zuse") == ["Konrad Zuse"] and found(tenant_a, "ada") == [
        "Ada Byron",
        "Ada Lovelace",
    ]
    with tenant_context(tenant_a):
        import_services.contact_import_undo(tenant=tenant_a, actor=SYSTEM, contact_import=done)
    assert vocabulary(tenant_a) == before


def test_an_update_by_import_changes_the_words(tenant_a: Tenant) -> None:
    contact(tenant_a, name="Ada", email="ada@math.test")
    done = run(tenant_a, upload(tenant_a, "Name,Email\nAda Lovelace,ada@math.test\n"), "update")
    assert done.updated_count == 1
    assert "lovelace" in vocabulary(tenant_a)
    with tenant_context(tenant_a):
        import_services.contact_import_undo(tenant=tenant_a, actor=SYSTEM, contact_import=done)
    assert vocabulary(tenant_a) == {"ada", "math", "test"}


def test_tenants_never_see_or_match_each_others_words(tenant_a: Tenant, tenant_b: Tenant) -> None:
    contact(tenant_a, name="Ada Lovelace", email="ada@math.test")
    contact(
        tenant_b, name="Grace Hopper", email="grace@navy.test", phones=[PhoneInput("+14155550100")]
    )
    company(tenant_b, name="Northwind")
    assert vocabulary(tenant_a) == {"ada", "lovelace", "math", "test"}
    assert vocabulary(tenant_b) == {"grace", "hopper", "navy", "test"}
    for q in ("grace", "hopper", "grace@navy.test", "+1 415 555 0100", "northwind", "navy"):
        assert found(tenant_a, q) == [], q
    with tenant_context(tenant_a):  # row-level security: B's words are not even readable
        assert not ContactWord.objects.filter(tenant=tenant_b).exists()
        assert not Contact.objects.filter(search_words__overlap=["grace"]).exists()
    # The same word in both tenants is one row each; deleting B's contact leaves A's.
    contact(tenant_b, name="Ada B", email="ada@b.test")
    with tenant_context(tenant_b):
        services.contact_delete(
            tenant=tenant_b, actor=SYSTEM, contact=Contact.objects.get(email="ada@b.test")
        )
    assert "ada" in vocabulary(tenant_a) and "ada" not in vocabulary(tenant_b)


def test_a_search_is_one_statement_plus_the_pages_companies(tenant_a: Tenant) -> None:
    navy = company(tenant_a, name="Navy")
    for n in range(30):
        contact(tenant_a, name=f"Grace Number{n}", email=f"g{n}@navy.test", company_id=navy.pk)
    for q, count in (("grace", 30), ("gracy", 30), ("zebra", 0), ("g1@navy.test", 1)):
        with tenant_context(tenant_a), CaptureQueriesContext(connection) as captured:
            rows = selectors.contact_list(
                tenant=tenant_a, actor=SYSTEM, filters=selectors.ContactFilters(q=q)
            )
            page = list(rows.order_by("name", "id")[:50])
            assert len(page) == count and all(c.company == navy for c in page)
        # The page (the search runs inside it), then its rows' companies.
        assert len(captured.captured_queries) == (2 if count else 1), q


def test_the_search_list_costs_the_same_for_one_contact_as_for_twenty(
    client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    def seed(tenant: Tenant, n: int) -> str:
        for i in range(n):
            contact(
                tenant,
                name=f"Grace Hopper{i}",
                email=f"p{i}@navy{tenant.pk}.test",
                emails=[f"p{i}@home{tenant.pk}.test"],
                phones=[PhoneInput("+14155550100")],
            )
        return "/api/v1/contacts?q=grace"

    one = list_queries(client, seed(tenant_a, 1), bearer(api_key(tenant_a, "read")))
    many = list_queries(client, seed(tenant_b, 20), bearer(api_key(tenant_b, "read")))
    assert_constant_queries("contacts?q=", one, many, budget=11)


def test_the_indexes_a_search_reads_keep_no_pending_entries() -> None:
    """GIN's pending list (``fastupdate``) is read whole by every lookup: after an import it
    made a surname prefix 40 ms instead of 0.5 (crm migration 0015)."""
    names = ["crm_contact_search_words", "crm_company_name_trgm", "crm_contactword_trgm"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s) ORDER BY relname",
            [names],
        )
        options = dict(cursor.fetchall())
    assert options == {name: ["fastupdate=off"] for name in names}


def paged(tenant: Tenant, q: str, *, told: bool, limit: int = 2, **filters: Any) -> list[str]:
    """Every page of the search by name, ``limit`` rows a page, through the cursors; ``told``:
    the selector is told each page (ADR 0055), as the API and the list page tell it."""
    ordering = selectors.CONTACT_ORDERINGS["name"]
    names: list[str] = []
    cursor = None
    with tenant_context(tenant):
        while True:
            page = selectors.ListPage(ordering, cursor, limit) if told else None
            rows = selectors.contact_list(
                tenant=tenant,
                actor=SYSTEM,
                filters=selectors.ContactFilters(q=q, **filters),
                page=page,
            )
            cut = keyset_page(rows, ordering=ordering, cursor=cursor, limit=limit)
            names += [c.name for c in cut.items]
            cursor = cut.next_cursor
            if cursor is None:
                return names


@pytest.fixture
def crowd(tenant_a: Tenant) -> None:
    """Many people sharing words, in every part of the alphabet; a company of some."""
    navy = company(tenant_a, name="Northwind Navy")
    for n, first in enumerate(("Ada", "Grace", "Mary", "Zoe")):
        for surname in ("Hopper", "Hopkins", "Hope", "Brewster"):
            contact(
                tenant_a,
                name=f"{first} {surname}",
                email=f"{first.lower()}.{surname.lower()}@{'mail' if n % 2 else 'navy'}.test",
                company_id=navy.pk if surname == "Brewster" else None,
                tags=["vip"] if first == "Zoe" else [],
            )


QUERIES = ["hop", "hopper", "hoper", "grace", "mail", "test", "northwind", "grace hop", "zebra"]


@pytest.mark.usefixtures("crowd")
@pytest.mark.parametrize(
    ("walk_from", "walk_pages"),
    [
        (40, 20),  # as configured: few matches, the bitmap scans
        (0, 20),  # every search walks the name index, and finds its page there
        (0, 0),  # every search walks no row, so finds no page: the bitmap scans
    ],
)
def test_a_search_told_its_page_pages_as_the_search_of_every_match(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch, walk_from: int, walk_pages: int
) -> None:
    monkeypatch.setattr(contact_search, "WALK_FROM", walk_from)
    monkeypatch.setattr(contact_search, "WALK_PAGES", walk_pages)
    for q in QUERIES:
        every = paged(tenant_a, q, told=False)
        assert paged(tenant_a, q, told=True) == every, q
        assert paged(tenant_a, q, told=True, limit=5) == every, q
    assert paged(tenant_a, "hop", told=True) == sorted(
        f"{first} {surname}"
        for first in ("Ada", "Grace", "Mary", "Zoe")
        for surname in ("Hopper", "Hopkins", "Hope")
    )


@pytest.mark.usefixtures("crowd")
def test_a_page_told_to_a_search_narrowed_by_more_than_q_is_ignored(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search's first matches may hold none of the VIPs (all named Zoe): with another
    filter, every match."""
    monkeypatch.setattr(contact_search, "WALK_FROM", 0)
    assert paged(tenant_a, "test", told=True, tags=["vip"]) == [
        "Zoe Brewster",
        "Zoe Hope",
        "Zoe Hopkins",
        "Zoe Hopper",
    ]
    assert paged(tenant_a, "test", told=True, limit=3, owner="none") == paged(
        tenant_a, "test", told=False, limit=3
    )


@pytest.mark.usefixtures("crowd")
@pytest.mark.parametrize("walk_from", [0, 40])
def test_a_search_told_its_page_returns_that_page_of_each_part(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch, walk_from: int
) -> None:
    """A word every contact holds ("test"): the first rows after the cursor, no more; the
    company's people ("northwind", no contact's word): the same."""
    monkeypatch.setattr(contact_search, "WALK_FROM", walk_from)
    with tenant_context(tenant_a):
        by_name = list(Contact.objects.order_by("name", "id"))
        brewsters = [c for c in by_name if c.name.endswith("Brewster")]
        for q, matching in (("test", by_name), ("northwind", brewsters)):
            for skip in (0, 1, 5):
                after = (by_name[skip].name, by_name[skip].pk) if skip else None
                page = contact_search.SearchPage(after=after, rows=3)
                condition = contact_search.contact_search_q(tenant_a, q, page)
                ids = set(Contact.objects.filter(condition).values_list("pk", flat=True))
                later = [c.pk for c in matching if by_name.index(c) > skip or not skip]
                assert ids == set(later[:3]), (q, skip)


def test_a_company_is_found_by_the_words_of_its_name_else_by_resemblance(
    tenant_a: Tenant,
) -> None:
    """Every word of ``q`` in the company's name: those companies' people only. No company
    holding them all (a prefix, a typo): the names resembling ``q`` most (migration 0017)."""
    people: dict[str, str] = {}
    for name in ("Acme Foods", "Acme Foods Group", "Acme Motors", "Zenith Foods"):
        firm = company(tenant_a, name=name)
        people[name] = contact(
            tenant_a,
            name=f"Person {len(people)}",
            email=f"p{len(people)}@x.test",
            company_id=firm.pk,
        ).name
    assert found(tenant_a, "acme foods") == [people["Acme Foods"], people["Acme Foods Group"]]
    assert found(tenant_a, "Foods") == [
        people["Acme Foods"],
        people["Acme Foods Group"],
        people["Zenith Foods"],
    ]
    assert found(tenant_a, "motors acme") == [people["Acme Motors"]]  # any order of words
    assert found(tenant_a, "zenit") == [people["Zenith Foods"]]  # a prefix: resemblance
    assert found(tenant_a, "acme mottors") == [people["Acme Motors"]]  # a typo: resemblance
    assert found(tenant_a, "acme zenith") == []  # no name holds both, none resembles it
    with tenant_context(tenant_a):
        words = dict(Company.objects.values_list("name", "search_words"))
    assert words["Acme Foods Group"] == ["acme", "foods", "group"]
