"""CRM records the ticket system needs now: contacts (requesters) and companies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from autocrm.core.models import TenantOwned


class Company(TenantOwned):
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="subsidiaries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "companies"
        indexes = [models.Index(fields=["tenant", "name"], name="crm_company_name")]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Lower("domain"),
                name="crm_company_domain_once",
                condition=~models.Q(domain=""),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TenantOwned):
    """A person who contacts support. ``user`` links a portal login (customer membership)."""

    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Stored lowercase (checked) and matched with plain equality: under row-level
            # security only leakproof operators can use an index, and lower() is not one.
            models.UniqueConstraint(fields=["tenant", "email"], name="crm_contact_email_once"),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="crm_contact_email_lowercase"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "company"], name="crm_contact_company")]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email
