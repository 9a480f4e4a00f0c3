"""The words around an extractive reply draft (no LLM): what an agent would write around the
quoted passages, in the customer's language where we have the phrases (English otherwise).

The draft greets the requester by name when the ticket knows it, thanks them for their
message about its subject, introduces the quoted passages (help-centre articles, or what
agents answered in a similar solved request), quotes them with their numbers, lists the
articles' links, and offers more help. Every sentence is either a fixed courtesy or a quote:
nothing is claimed that the sources do not say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A subject longer than this is not echoed (it is a sentence, not a topic).
SUBJECT_CHARS = 80
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|tr|sv|vs|rv)\s*:\s*)+", re.IGNORECASE)
# Salutations that are not a first name: "Dr Ann Lee" is greeted as "Dr Ann Lee".
_TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "herr", "frau", "m", "mme", "sr", "sra"}


@dataclass(frozen=True)
class Phrases:
    hello: str  # "{name}" is replaced; the greeting without a name drops it
    hello_anonymous: str
    thanks: str  # "{subject}" is replaced
    thanks_plain: str
    one_article: str
    several_articles: str
    from_tickets: str
    closing: str
    quotes: tuple[str, str]  # the language's quotation marks


PHRASES: dict[str, Phrases] = {
    "en": Phrases(
        hello="Hello {name},",
        hello_anonymous="Hello,",
        thanks="Thank you for your message about {subject}.",
        thanks_plain="Thank you for your message.",
        one_article="This article from our help centre should help:",
        several_articles="These articles from our help centre should help:",
        from_tickets="This is how we helped with a similar request:",
        closing="If anything is still unclear, just reply to this message.",
        quotes=("“", "”"),
    ),
    "de": Phrases(
        hello="Hallo {name},",
        hello_anonymous="Hallo,",
        thanks="vielen Dank für Ihre Nachricht zu {subject}.",
        thanks_plain="vielen Dank für Ihre Nachricht.",
        one_article="Dieser Artikel aus unserem Hilfe-Center sollte Ihre Frage beantworten:",
        several_articles="Diese Artikel aus unserem Hilfe-Center sollten Ihre Frage beantworten:",
        from_tickets="So konnten wir bei einer ähnlichen Anfrage helfen:",
        closing="Wenn noch etwas unklar ist, antworten Sie einfach auf diese Nachricht.",
        quotes=("„", "“"),
    ),
    "fr": Phrases(
        hello="Bonjour {name},",
        hello_anonymous="Bonjour,",
        thanks="merci pour votre message concernant {subject}.",
        thanks_plain="merci pour votre message.",
        one_article="Cet article de notre centre d'aide devrait vous répondre :",
        several_articles="Ces articles de notre centre d'aide devraient vous répondre :",
        from_tickets="Voici comment nous avons résolu une demande semblable :",
        closing="Si quelque chose n'est pas clair, répondez simplement à ce message.",
        quotes=("« ", " »"),
    ),
    "es": Phrases(
        hello="Hola, {name}:",
        hello_anonymous="Hola:",
        thanks="Gracias por su mensaje sobre {subject}.",
        thanks_plain="Gracias por su mensaje.",
        one_article="Este artículo de nuestro centro de ayuda debería responderle:",
        several_articles="Estos artículos de nuestro centro de ayuda deberían responderle:",
        from_tickets="Así resolvimos una consulta parecida:",
        closing="Si algo no queda claro, responda a este mensaje.",
        quotes=("«", "»"),
    ),
    "it": Phrases(
        hello="Buongiorno {name},",
        hello_anonymous="Buongiorno,",
        thanks="grazie per il suo messaggio riguardo a {subject}.",
        thanks_plain="grazie per il suo messaggio.",
        one_article="Questo articolo del nostro centro assistenza dovrebbe risponderle:",
        several_articles="Questi articoli del nostro centro assistenza dovrebbero risponderle:",
        from_tickets="Ecco come abbiamo risolto una richiesta simile:",
        closing="Se qualcosa non è chiaro, risponda pure a questo messaggio.",
        quotes=("«", "»"),
    ),
    "pt": Phrases(
        hello="Olá, {name},",
        hello_anonymous="Olá,",
        thanks="obrigado pela sua mensagem sobre {subject}.",
        thanks_plain="obrigado pela sua mensagem.",
        one_article="Este artigo da nossa central de ajuda deve responder à sua questão:",
        several_articles="Estes artigos da nossa central de ajuda devem responder à sua questão:",
        from_tickets="Foi assim que ajudámos num pedido semelhante:",
        closing="Se algo não estiver claro, basta responder a esta mensagem.",
        quotes=("«", "»"),
    ),
    "nl": Phrases(
        hello="Hallo {name},",
        hello_anonymous="Hallo,",
        thanks="bedankt voor uw bericht over {subject}.",
        thanks_plain="bedankt voor uw bericht.",
        one_article="Dit artikel uit ons helpcentrum zou uw vraag moeten beantwoorden:",
        several_articles="Deze artikelen uit ons helpcentrum zouden uw vraag moeten beantwoorden:",
        from_tickets="Zo hebben we een vergelijkbare vraag opgelost:",
        closing="Is er nog iets onduidelijk? Beantwoord dan gewoon dit bericht.",
        quotes=("“", "”"),
    ),
}


@dataclass(frozen=True)
class Quote:
    n: int
    text: str
    title: str
    url: str  # absolute link for the customer, "" when there is none to give (a ticket)
    is_article: bool


def greeting_name(name: str) -> str:
    """The name to greet: the first name of "Anna Schmidt", the whole of "Dr Ann Lee";
    nothing for an address or a name with digits (a robot's "noreply123")."""
    name = " ".join(name.split())
    if not name or "@" in name or any(ch.isdigit() for ch in name):
        return ""
    first = name.split(" ", 1)[0]
    return name if first.rstrip(".").lower() in _TITLES else first


def topic(subject: str) -> str:
    """The subject as a topic to echo: without "Re:"/"AW:" prefixes and end punctuation;
    "" when there is none or it is too long to read as one."""
    subject = _REPLY_PREFIX.sub("", " ".join(subject.split())).strip(" .!?:;-")
    return subject if 0 < len(subject) <= SUBJECT_CHARS else ""


def draft_text(*, language: str, name: str, subject: str, quotes: list[Quote]) -> str:
    """The draft: greeting, thanks (with the subject), lead-in, the numbered quotes, the
    articles' links, closing. The closing offers help; it claims nothing."""
    words = PHRASES.get(language, PHRASES["en"])
    person = greeting_name(name)
    about = topic(subject)
    opening, closing_mark = words.quotes
    thanks = (
        words.thanks.format(subject=f"{opening}{about}{closing_mark}")
        if about
        else words.thanks_plain
    )
    hello = words.hello.format(name=person) if person else words.hello_anonymous
    if hello.endswith(":"):
        # Spanish greets with a colon: the next sentence starts with a capital already.
        thanks = thanks[0].upper() + thanks[1:]
    articles = [q for q in quotes if q.is_article]
    if not articles:
        lead = words.from_tickets
    else:
        lead = words.one_article if len(articles) == 1 else words.several_articles
    parts = [hello, f"{thanks} {lead}"]
    parts += [f"{opening}{q.text}{closing_mark} [{q.n}]" for q in quotes]
    links = [f"[{q.n}] {q.title}: {q.url}" for q in quotes if q.url]
    if links:
        parts.append("\n".join(links))
    parts.append(words.closing)
    return "\n\n".join(parts)
