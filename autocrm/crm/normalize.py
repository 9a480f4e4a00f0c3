"""Cleaning of the values people type into CRM records: emails, phone numbers, domains, tags.

Each function returns the stored form or raises ``ValueError`` with a message a person can
act on; services turn it into a ValidationError naming the field, the importer into a row of
its report.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MAX_TAG = 50
# A language tag as customer e-mails are chosen by (BCP 47's language and one subtag).
_LOCALE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def clean_email(value: str) -> str:
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValueError(f"{value.strip()[:100]!r} is not a valid email address.") from None
    return email


def clean_locale(value: str) -> str:
    """``de``, ``fr-ca`` (lower case, ``_`` read as ``-``); "" for none."""
    locale = value.strip().lower().replace("_", "-")
    if locale and not _LOCALE.match(locale):
        raise ValueError(f"{value.strip()[:20]!r} is not a language tag such as 'de' or 'fr-CA'.")
    return locale


def clean_phone(value: str, region: str | None = None) -> str:
    """E.164 of ``value``. Without a leading ``+`` the tenant's default region is assumed;
    with no region set, a number must be international."""
    number, problem = _e164(value.strip(), (region or "").upper())
    if problem:
        raise ValueError(problem)
    return number


# phonenumbers spends ~35 us parsing and validating a number, more than half of checking an
# imported row; a file repeats numbers (a switchboard, a company's main line) and a search
# box repeats its queries. Results and refusals are both kept.
@functools.lru_cache(maxsize=65536)
def _e164(raw: str, region: str) -> tuple[str, str]:
    """(E.164, "") or ("", why not)."""
    try:
        parsed = phonenumbers.parse(raw, region or None)
    except phonenumbers.NumberParseException:
        hint = "" if region or raw.startswith("+") else " (start it with + and the country code)"
        return "", f"{raw[:40]!r} is not a phone number{hint}."
    if not phonenumbers.is_valid_number(parsed):
        return "", f"{raw[:40]!r} is not a valid phone number."
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), ""


def phone_display(e164: str) -> str:
    """``+14155550100`` as people read it: ``+1 415-555-0100``."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def clean_domain(value: str) -> str:
    domain = value.strip().lower().removeprefix("http://").removeprefix("https://")
    domain = domain.removeprefix("www.").split("/", 1)[0].rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{value.strip()[:100]!r} is not a domain name.") from None
    if not _DOMAIN.match(domain):
        raise ValueError(f"{value.strip()[:100]!r} is not a domain name.")
    return domain


def clean_tags(values: list[str]) -> list[str]:
    tags: list[str] = []
    for value in values:
        tag = value.strip().lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG:
            raise ValueError(f"Tags are at most {MAX_TAG} characters.")
        if tag not in tags:
            tags.append(tag)
    return tags


_GMAIL = {"gmail.com", "googlemail.com"}


def canonical_email(email: str) -> str:
    """The mailbox an address reaches: ``Pat.Doe+news@googlemail.com`` -> ``patdoe@gmail.com``
    (sub-addresses dropped everywhere, dots only where Gmail ignores them)."""
    local, _, domain = email.lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()
