"""Full-text search of articles: each locale's text-search configuration and the stored
weighted vector (title A, body B). Below the services and the selectors; imports only
models."""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db.models.expressions import RawSQL

# Locales the help centre offers, with PostgreSQL's stemming configuration for each
# (unknown ones use "simple": no stemming, no stop words, still searchable).
LOCALES: dict[str, tuple[str, str]] = {
    "en": ("English", "english"),
    "de": ("Deutsch", "german"),
    "fr": ("Français", "french"),
    "es": ("Español", "spanish"),
    "it": ("Italiano", "italian"),
    "nl": ("Nederlands", "dutch"),
    "pt": ("Português", "portuguese"),
    "sv": ("Svenska", "swedish"),
    "da": ("Dansk", "danish"),
    "fi": ("Suomi", "finnish"),
    "nb": ("Norsk", "norwegian"),
    "ru": ("Русский", "russian"),
    "tr": ("Türkçe", "turkish"),
    "pl": ("Polski", "simple"),
    "ja": ("日本語", "simple"),
}
# Characters indexed per article body (a tsvector must stay under 1 MB).
SEARCH_TEXT_LIMIT = 100_000


def config_for(locale: str) -> str:
    return LOCALES.get(locale, ("", "simple"))[1]


def vector_sql(locale: str, title: str, body_text: str) -> RawSQL:
    config = config_for(locale)
    # Constant SQL text; every value is a parameter.
    return RawSQL(
        "setweight(to_tsvector(%s::regconfig, %s), 'A') "
        "|| setweight(to_tsvector(%s::regconfig, %s), 'B')",
        [config, title, config, body_text[:SEARCH_TEXT_LIMIT]],
        output_field=SearchVectorField(),
    )
