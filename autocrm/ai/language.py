"""The language of a ticket, with lingua (accurate on short texts, runs offline)."""

from __future__ import annotations

import functools

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# The languages support tickets arrive in most; fewer languages keep the detector's memory
# (its n-gram models load lazily, per language) and time per ticket small.
LANGUAGES = (
    Language.ENGLISH,
    Language.GERMAN,
    Language.FRENCH,
    Language.SPANISH,
    Language.ITALIAN,
    Language.PORTUGUESE,
    Language.DUTCH,
    Language.SWEDISH,
    Language.DANISH,
    Language.FINNISH,
    Language.POLISH,
    Language.CZECH,
    Language.TURKISH,
    Language.RUSSIAN,
    Language.JAPANESE,
    Language.CHINESE,
)


@functools.cache
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*LANGUAGES).build()


def detect_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, confidence 0..1), or ("", 0.0) when the text has no letters."""
    values = _detector().compute_language_confidence_values(text[:1000])
    if not values or values[0].value <= 0:
        return "", 0.0
    best = values[0]
    return best.language.iso_code_639_1.name.lower(), float(best.value)
