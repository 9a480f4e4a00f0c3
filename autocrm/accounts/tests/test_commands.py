"""The accounts management commands, called as an operator would (call_command)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from autocrm.accounts import selectors
from autocrm.accounts.models import ApiKey, Membership, User
from autocrm.accounts.tests.factories import UserFactory
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing() -> Iterator[None]:
    """Argon2 is slow on purpose; these tests create many users."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_tenant_create_with_an_owner() -> None:
    owner = UserFactory(email="boss@initech.example")
    out, _ = run(
        "tenant_create",
        "--slug",
        "initech",
        "--name",
        "Initech",
        "--owner-email",
        "BOSS@initech.example",
    )
    tenant = Tenant.objects.get(slug="initech")
    assert tenant.name == "Initech" and "initech" in out
    with tenant_context(tenant):
        assert Membership.objects.get().user == owner
        assert Membership.objects.get().role == "owner"


def test_tenant_create_reports_errors_clearly(tenant_a: Tenant) -> None:
    with pytest.raises(CommandError, match="taken"):
        run("tenant_create", "--slug", tenant_a.slug, "--name", "Again")
    with pytest.raises(CommandError, match="reserved"):
        run("tenant_create", "--slug", "api", "--name", "API")
    with pytest.raises(CommandError, match="No user"):
        run("tenant_create", "--slug", "newco", "--name", "NewCo", "--owner-email", "no@x.test")
    assert not Tenant.objects.filter(slug="newco").exists()


def test_user_create_with_a_role_in_a_tenant(tenant_a: Tenant) -> None:
    run(
        "user_create",
        "--email",
        "Agent@Acme.example",
        "--password",
        "a-long-passphrase-42",
        "--name",
        "Ann Agent",
        "--tenant",
        "acme",
        "--role",
        "agent",
    )
    user = User.objects.get(email="agent@acme.example")
    assert user.name == "Ann Agent" and user.check_password("a-long-passphrase-42")
    with tenant_context(tenant_a):
        membership = selectors.membership_get(tenant=tenant_a, user_id=user.pk)
    assert membership is not None and membership.role == "agent"


def test_user_create_refuses_weak_passwords_duplicates_and_half_options(tenant_a: Tenant) -> None:
    with pytest.raises(CommandError, match="too short"):
        run("user_create", "--email", "a@x.test", "--password", "short")
    run("user_create", "--email", "a@x.test", "--password", "a-long-passphrase-42")
    with pytest.raises(CommandError, match="already exists"):
        run("user_create", "--email", "A@x.test", "--password", "a-long-passphrase-42")
    with pytest.raises(CommandError, match="go together"):
        run(
            "user_create",
            "--email",
            "b@x.test",
            "--password",
            "a-long-passphrase-42",
            "--tenant",
            "acme",
        )
    assert User.objects.count() == 1


def test_user_create_without_password_needs_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="--password"):
        run("user_create", "--email", "c@x.test")
    assert not User.objects.exists()


def test_user_create_prompts_twice_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["typed-passphrase-77", "typed-passphrase-77"])
    monkeypatch.setattr("sys.stdin", Tty(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    run("user_create", "--email", "d@x.test")
    assert User.objects.get(email="d@x.test").check_password("typed-passphrase-77")


def test_a_failed_membership_leaves_no_half_created_user(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: object) -> None:
        from django.core.exceptions import ValidationError

        raise ValidationError({"role": "refused"})

    monkeypatch.setattr("autocrm.accounts.services.membership_create", refuse)
    with pytest.raises(CommandError, match="refused"):
        run(
            "user_create",
            "--email",
            "e@x.test",
            "--password",
            "a-long-passphrase-42",
            "--tenant",
            "acme",
            "--role",
            "agent",
        )
    assert not User.objects.filter(email="e@x.test").exists()


def test_apikey_create_prints_only_a_working_key(tenant_a: Tenant) -> None:
    out, err = run("apikey_create", "--tenant", "acme", "--name", "ci", "--scope", "write")
    raw_key = out.strip()
    assert out == raw_key + "\n" and raw_key.startswith("acrm_")
    found = selectors.api_key_authenticate(raw_key=raw_key)
    assert found is not None
    tenant, key = found
    assert tenant == tenant_a and key.scope == "write" and key.name == "ci"
    assert key.prefix in err and raw_key not in err


def test_apikey_create_refuses_unknown_tenants_and_scopes(tenant_a: Tenant) -> None:
    with pytest.raises(CommandError, match="No tenant"):
        run("apikey_create", "--tenant", "nope", "--name", "ci")
    with pytest.raises(CommandError):
        run("apikey_create", "--tenant", "acme", "--name", "ci", "--scope", "root")
    with tenant_context(tenant_a):
        assert not ApiKey.objects.exists()


DEMO_EMAILS = {
    "admin@demo.example": "owner",
    "agent1@demo.example": "agent",
    "agent2@demo.example": "agent",
    "customer@demo.example": "customer",
}


def _demo_state() -> tuple[dict[str, str], int, list[str]]:
    tenant = Tenant.objects.get(slug="demo")
    with tenant_context(tenant):
        roles = dict(Membership.objects.values_list("user__email", "role"))
        events = Event.objects.count()
    hashes = list(User.objects.order_by("email").values_list("password", flat=True))
    return roles, events, hashes


@override_settings(DEBUG=True)
def test_seed_demo_creates_the_demo_logins_once() -> None:
    out, _ = run("seed_demo")
    assert "created" in out
    assert Tenant.objects.get(slug="demo").name == "Demo Company"
    before = _demo_state()
    assert before[0] == DEMO_EMAILS
    for email in DEMO_EMAILS:
        assert User.objects.get(email=email).check_password("demo-password")

    out, _ = run("seed_demo")
    assert "nothing changed" in out
    assert _demo_state() == before


@override_settings(DEBUG=True)
def test_seed_demo_gives_the_workspace_tickets_once() -> None:
    from autocrm.tickets.models import Message, Ticket

    run("seed_demo")
    tenant = Tenant.objects.get(slug="demo")
    with tenant_context(tenant):
        # The open ones; the solved ones are the triage history (autocrm/ai/demo.py).
        subjects = set(Ticket.objects.exclude(status="solved").values_list("subject", flat=True))
        total = Ticket.objects.count()
        notes = Message.objects.filter(public=False).count()
        replies = Message.objects.filter(public=True, author_user__email="agent1@demo.example")
        reply_count = replies.count()
    assert "Printer on fire in the Berlin office" in subjects
    with tenant_context(tenant):
        # The demo customer's sign-in sees their requests in the help centre.
        mine = Ticket.objects.filter(requester__user__email="customer@demo.example")
        assert mine.filter(subject="Printer on fire in the Berlin office").exists()
    assert len(subjects) == 5
    assert notes == 2 and reply_count == 2

    run("seed_demo")
    with tenant_context(tenant):
        assert Ticket.objects.count() == total


@override_settings(DEBUG=True)
def test_seed_demo_completes_a_partial_demo() -> None:
    run("user_create", "--email", "agent1@demo.example", "--password", "own-passphrase-123")
    run("seed_demo")
    roles, _, _ = _demo_state()
    assert roles == DEMO_EMAILS
    # An existing account keeps its own password.
    assert User.objects.get(email="agent1@demo.example").check_password("own-passphrase-123")


def test_seed_demo_refuses_without_debug_unless_forced() -> None:
    with pytest.raises(CommandError, match="DEBUG"):
        run("seed_demo")
    assert not Tenant.objects.filter(slug="demo").exists()
    run("seed_demo", "--force")
    assert _demo_state()[0] == DEMO_EMAILS
