"""The extractive draft's wording: greeting, echoed subject, lead-in, quotes, links."""

from __future__ import annotations

import pytest

from autocrm.ai.wording import PHRASES, Quote, draft_text, greeting_name, topic

ARTICLE = Quote(1, "Open Settings and choose Reset.", "Passwords", "https://x.test/a/1/", True)
SECOND = Quote(2, "Codes expire after an hour.", "Codes", "https://x.test/a/2/", True)
TICKET = Quote(3, "We resent the link.", "Old ticket", "", False)


@pytest.mark.parametrize(
    ("name", "greeted"),
    [
        ("Anna Schmidt", "Anna"),
        ("  anna  ", "anna"),
        ("Dr Ann Lee", "Dr Ann Lee"),
        ("Frau Meier", "Frau Meier"),
        ("noreply@shop.test", ""),
        ("user4711", ""),
        ("", ""),
    ],
)
def test_greeting_name(name: str, greeted: str) -> None:
    assert greeting_name(name) == greeted


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: AW: Invoice missing!", "Invoice missing"),
        ("FW: RE: Refund?", "Refund"),
        ("x" * 81, ""),
        ("  ", ""),
    ],
)
def test_topic(subject: str, expected: str) -> None:
    assert topic(subject) == expected


def test_an_english_draft_reads_like_an_agent_wrote_it() -> None:
    body = draft_text(
        language="en", name="Anna Schmidt", subject="Re: Can't log in", quotes=[ARTICLE, SECOND]
    )
    assert body == (
        "Hello Anna,\n\n"
        "Thank you for your message about “Can't log in”. "
        "These articles from our help centre should help:\n\n"
        "“Open Settings and choose Reset.” [1]\n\n"
        "“Codes expire after an hour.” [2]\n\n"
        "[1] Passwords: https://x.test/a/1/\n[2] Codes: https://x.test/a/2/\n\n"
        "If anything is still unclear, just reply to this message."
    )


def test_without_a_name_subject_or_article() -> None:
    body = draft_text(language="en", name="", subject="", quotes=[TICKET])
    assert body.startswith(
        "Hello,\n\nThank you for your message. This is how we helped with a similar request:"
    )
    assert "“We resent the link.” [3]" in body
    assert "http" not in body  # a ticket has no page for the customer


@pytest.mark.parametrize("language", sorted(PHRASES))
def test_every_language_has_its_own_words(language: str) -> None:
    body = draft_text(language=language, name="Anna", subject="Passwort", quotes=[ARTICLE])
    words = PHRASES[language]
    assert body.startswith(words.hello.format(name="Anna"))
    assert f"{words.quotes[0]}Passwort{words.quotes[1]}" in body
    assert words.one_article in body and body.endswith(words.closing)
    assert "[1] Passwords: https://x.test/a/1/" in body


def test_spanish_and_german_greetings() -> None:
    spanish = draft_text(language="es", name="Lucía", subject="Factura", quotes=[ARTICLE])
    assert spanish.startswith("Hola, Lucía:\n\nGracias por su mensaje sobre «Factura».")
    german = draft_text(language="de", name="", subject="Rechnung", quotes=[ARTICLE])
    assert german.startswith("Hallo,\n\nvielen Dank für Ihre Nachricht zu „Rechnung“.")


def test_an_unknown_language_falls_back_to_english() -> None:
    assert draft_text(language="ja", name="", subject="", quotes=[ARTICLE]).startswith("Hello,")
