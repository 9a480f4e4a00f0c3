"""The test suite swaps in a fast hasher (conftest.py); production must hash with Argon2."""

import config.settings as production


def test_passwords_are_hashed_with_argon2_in_production_settings() -> None:
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
