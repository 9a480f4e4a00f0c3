"""Secrets a tenant stores for us (an IMAP password): encrypted at rest with Fernet
(AES-128-CBC + HMAC-SHA256, from ``cryptography``), see docs/adr/0012-stored-credentials.md.

Keys come from ``settings.CREDENTIALS_KEYS`` (the first encrypts, every one decrypts, so a
key is rotated without a migration); without any, one key is derived from SECRET_KEY with
HKDF, so a fresh install works and a database dump alone never reveals a password."""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class CredentialUnreadable(Exception):
    """The stored value was encrypted with a key this server no longer has."""


def _derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"autocrm stored credentials")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    return MultiFernet([Fernet(_derived_key(secret_key))])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.CREDENTIALS_KEYS), settings.SECRET_KEY)


def credential_encrypt(value: str) -> str:
    """The token to store; an empty value stays empty (no credential)."""
    if not value:
        return ""
    return _current().encrypt(value.encode()).decode()


def credential_decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialUnreadable(
            "The stored password cannot be decrypted with this server's keys "
            "(CREDENTIALS_KEYS or SECRET_KEY changed): enter it again."
        ) from exc
