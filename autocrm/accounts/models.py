"""Users (global, may belong to several tenants), memberships with roles, API keys, invites."""

from __future__ import annotations

import functools
from typing import Any, ClassVar, LiteralString

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from autocrm.core.models import TenantOwned


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)

    def get(self, *args: Any, **kwargs: Any) -> User:
        """``User.objects.get(pk=<int>)``, which the authentication backends run for every
        signed-in request, as one prepared statement (``autocrm.core.sql``): compiling the
        queryset cost ~0.8 ms of CPU per request, more than anything else the middleware
        does (ADR 0054). Same row, same instance, same ``DoesNotExist``; any other lookup,
        database or hint is Django's ``get``."""
        pk = kwargs.get("pk")
        if args or len(kwargs) != 1 or type(pk) is not int or self._db or self._hints:  # type: ignore[attr-defined]
            return super().get(*args, **kwargs)
        from autocrm.core import sql

        names, statement = _user_by_pk()
        row = sql.fetch_one(statement, {"pk": pk})
        if row is None:
            raise self.model.DoesNotExist(
                f"{self.model._meta.object_name} matching query does not exist."
            )
        return self.model.from_db(self.db, names, row)


@functools.cache
def _user_by_pk() -> tuple[list[str], LiteralString]:
    """The user table's columns and ``UserManager.get``'s statement (built once, after the
    model is ready)."""
    fields = User._meta.concrete_fields
    columns = ", ".join(f'"{f.column}"' for f in fields)
    statement = f'SELECT {columns} FROM "{User._meta.db_table}" WHERE "id" = %(pk)s::bigint'  # noqa: S608 — names from model metadata
    return [f.attname for f in fields], statement


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Global: what they may see depends on their memberships."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        indexes = [models.Index(Lower("email"), name="accounts_user_email_lower")]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return display_name(self.name, self.email)


def display_name(name: str, email: str) -> str:
    """How a user is named on pages: their name, else their address's local part."""
    return name or email.split("@")[0]


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    AGENT = "agent", "Agent"
    LIGHT_AGENT = "light_agent", "Light agent"
    CUSTOMER = "customer", "Customer"


STAFF_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.AGENT, Role.LIGHT_AGENT})
ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class Membership(TenantOwned):
    """A user's role in one tenant. RLS: tenant rows, plus a user's own rows in any tenant."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="accounts_membership_once")
        ]
        indexes = [models.Index(fields=["tenant", "role"], name="accounts_membership_role")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.tenant_id}:{self.role}"

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin_role(self) -> bool:
        return self.role in ADMIN_ROLES


class ApiKeyScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"
    ADMIN = "admin", "Admin"


class ApiKey(TenantOwned):
    """An API key: ``acrm_<prefix>_<secret>``. Only the SHA-256 of the whole key is stored
    (keys are 256-bit random, so a slow hash adds nothing). The prefix finds the row.

    Without ``user`` the key acts for its tenant within its scope (an admin creates it).
    With ``user`` it is that member's personal token: it acts as the member with their role
    in the tenant, so a customer's token sees what the customer sees in the help centre
    (their own requests), never more; it stops working when they stop being a member."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=10, choices=ApiKeyScope.choices, default=ApiKeyScope.READ)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="personal_tokens"
    )

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="accounts_apikey_created"),
            models.Index(fields=["tenant", "user"], name="accounts_apikey_user"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Invitation(TenantOwned):
    """An emailed invitation to join a tenant with a role. The token is stored hashed."""

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "email"], name="accounts_invitation_email")]

    def __str__(self) -> str:
        return f"{self.email} → {self.tenant_id} as {self.role}"


class QrLogin(models.Model):
    """A browser asking to be signed in by a phone that already is (QR login).

    Global like users: the waiting browser has no tenant yet. Three secrets keep it safe:
    the ``token`` in the QR code (only its SHA-256 is stored) lets a signed-in user approve;
    ``public_id`` names the request in the waiting browser's status polls; and the browser
    secret kept in that browser's session (hashed in ``browser_hash``) is what may collect
    the sign-in, so a token seen or photographed by someone else signs nobody else in.
    Rows stay after use: with the events appended in the approver's tenants they are the
    audit of who let which browser in (autocrm.accounts.qr_login)."""

    public_id = models.CharField(max_length=32, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    browser_hash = models.CharField(max_length=64)
    # Who asks, as shown to the approver: the client address, its browser (User-Agent) and
    # the time zone and language it reports (a place hint that needs no GeoIP database).
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=64, blank=True)
    next_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_with_mfa = models.BooleanField(default=False)
    approver_ip = models.GenericIPAddressField(null=True, blank=True)
    denied_at = models.DateTimeField(null=True, blank=True)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="accounts_qrlogin_created")]

    def __str__(self) -> str:
        return f"QR login {self.public_id}"
