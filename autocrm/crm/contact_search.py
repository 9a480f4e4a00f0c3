"""What the contact list's ``q`` matches (ADR 0048), as one condition on contacts.

A search term never meets the million contacts' names by trigrams (a typo or a short prefix
read most of the name trigram index: 0.7 s p95 at 1,000,000 contacts). Each word of ``q``
is first expanded against the tenant's vocabulary (``ContactWord``, one row per distinct
word, a few thousand to a few hundred thousand): the words starting with it (itself first,
then the shortest), or, when none does, the words resembling it most (pg_trgm word
similarity >= 0.5, the best-scoring ones: a typo), at most ``CANDIDATES`` of them. A
contact matches when, for every word of ``q``, its ``search_words`` (the words of its name
and primary email) hold one of that word's candidates: exact-word lookups in a GIN index.

Before the words: the contacts with ``q`` as one of their email addresses exactly (any of
theirs) or as a phone number (E.164, any format in) are the whole result when there are
any. Beside the words: the contacts whose primary company's name holds every word of ``q``
(``Company.search_words``, the shortest names first; crm migration 0017), else resembles
``q`` closely (the most similar companies, word similarity at least ``COMPANY_SIMILARITY``).

All of it runs inside the page's one statement, as ``id IN (SELECT crm_contact_search(...))``
(crm migration 0012): the function reads every index as a bitmap and returns the matching
ids, which the page then sorts and cuts (keyset pagination as for any list). Told the page
(a ``SearchPage``: the list by name, after a cursor, so many rows; crm migration 0016,
ADR 0055), it returns only the first matches after the cursor of each of its parts, and
walks the name index for a word most contacts hold instead of reading all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q
from django.db.models.expressions import RawSQL

from autocrm.core.models import Tenant
from autocrm.crm.normalize import clean_phone

# Vocabulary words taken per query word: those starting with it (the shortest first), else
# the most similar (the best score, ties included). Each stands for its contacts, all fetched and
# sorted for a page: 10 surnames of a million contacts are ~1,250 rows.
CANDIDATES = 10
# Companies whose contacts match through their name: those holding every word of q, else
# the most similar ones, at most this many, with at least this word similarity when
# compared ("northw" and "Northwind Logistics" are 0.86).
COMPANIES = 20
COMPANY_SIMILARITY = 0.75
# A search told its page (SearchPage) walks the name index from the cursor when the planner
# expects at least WALK_FROM pages' worth of matches (a word most contacts hold: "gmail" is
# 66,000 of a million), over at most WALK_PAGES pages' worth of rows: found there, the page
# is the answer; not found (the matches sit elsewhere in the alphabet, as a common first
# name's do), the bitmap scans read every match as for fewer (crm migration 0016).
WALK_FROM = 40
WALK_PAGES = 20
# Query words: runs of letters (as crm_contact_words cuts them), one letter allowed (a
# prefix); digits and punctuation separate words. More than MAX_WORDS are ignored.
_QUERY_WORD = re.compile(r"[^\W\d_]{1,40}")
MAX_WORDS = 8
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{6,}$")

_SEARCH_SQL = (
    "SELECT crm_contact_search(%s::bigint, %s::text, %s::text[], %s::text, %s::text, "
    "%s::integer, %s::integer, %s::real, %s::text, %s::bigint, %s::integer, %s::real, %s::integer)"
)


@dataclass(frozen=True)
class SearchPage:
    """The page a search is shown as: sorted by (name, id), the rows after ``after`` (the
    cursor's name and id; None: the first page), ``rows`` of them at most."""

    after: tuple[str, int] | None
    rows: int


def query_words(q: str) -> list[str]:
    return _QUERY_WORD.findall(q.lower())[:MAX_WORDS]


def _phone(tenant: Tenant, q: str) -> str | None:
    if not _PHONE_LIKE.match(q):
        return None
    try:
        return clean_phone(q, str(tenant.settings.get("phone_region") or "") or None)
    except ValueError:
        return None


def contact_search_q(tenant: Tenant, q: str, page: SearchPage | None = None) -> Q:
    """The condition ``q`` puts on contacts: a subquery, no statement of its own. With
    ``page``, the contacts matching ``q`` that can be on that page (a superset of its rows),
    not every match: only for a list narrowed by ``q`` alone."""
    q = q.strip()
    after = page.after if page else None
    params = [
        tenant.pk,
        q.lower(),
        query_words(q),
        q.lower() if "@" in q else None,
        _phone(tenant, q),
        CANDIDATES,
        COMPANIES,
        COMPANY_SIMILARITY,
        after[0] if after else None,
        after[1] if after else None,
        page.rows if page else None,
        WALK_FROM * page.rows if page else None,
        WALK_PAGES * page.rows if page else None,
    ]
    return Q(pk__in=RawSQL(_SEARCH_SQL, params))  # noqa: S611 - constant SQL, values as params
