"""Writes of the help centre's configuration: branding, sign-up policy, custom domain.

The values live in the tenant's settings and are written through
``accounts.services.tenant_settings_update`` (admin check, event with from -> to); this
module validates what the help centre needs on top (colours, domains, the logo file)."""

from __future__ import annotations

import hashlib
import re
from typing import IO

import filetype
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from autocrm.accounts import services as account_services
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.portal.branding import HEX_COLOR

SIGNUP_POLICIES = ("open", "invitation", "domain")
LOGO_MAX_BYTES = 512 * 1024
# Raster images only: an SVG logo could carry script.
LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
DOMAIN_SPLIT = re.compile(r"[\s,]+")


def _color(key: str, value: str) -> str:
    value = value.strip().lower()
    if value and not HEX_COLOR.match(value):
        raise ValidationError({key: "Use a colour as #rrggbb, e.g. #0f766e."})
    return value


def _hostname(key: str, value: str) -> str:
    value = value.strip().lower().rstrip(".")
    if value and not HOSTNAME.match(value):
        raise ValidationError({key: f"'{value}' is not a host name such as help.example.com."})
    return value


def signup_domains_parse(text: str) -> list[str]:
    """ "example.com, Example.org" -> ["example.com", "example.org"], each checked."""
    domains = []
    for part in DOMAIN_SPLIT.split(text.strip()):
        part = part.lstrip("@")
        if part:
            domains.append(_hostname("help_signup_domains", part))
    return sorted(set(domains))


def help_settings_update(
    *,
    tenant: Tenant,
    actor: Actor,
    brand_name: str,
    primary_color: str,
    header_color: str,
    footer_text: str,
    custom_domain: str,
    signup_policy: str,
    signup_domains: list[str],
    customers_see_organization_tickets: bool,
    csat_enabled: bool,
) -> Tenant:
    """Change the help centre's settings (owners and admins)."""
    if signup_policy not in SIGNUP_POLICIES:
        raise ValidationError(
            {"help_signup_policy": f"Choose one of {', '.join(SIGNUP_POLICIES)}."}
        )
    if signup_policy == "domain" and not signup_domains:
        raise ValidationError(
            {"help_signup_domains": "Name at least one domain whose addresses may sign up."}
        )
    brand_name = brand_name.strip()
    if len(brand_name) > 200:
        raise ValidationError({"help_brand_name": "Use at most 200 characters."})
    footer_text = footer_text.strip()
    if len(footer_text) > 500:
        raise ValidationError({"help_footer_text": "Use at most 500 characters."})
    return account_services.tenant_settings_update(
        tenant=tenant,
        actor=actor,
        name=tenant.name,
        settings={
            "help_brand_name": brand_name,
            "help_primary_color": _color("help_primary_color", primary_color),
            "help_header_color": _color("help_header_color", header_color),
            "help_footer_text": footer_text,
            "help_custom_domain": _hostname("help_custom_domain", custom_domain),
            "help_signup_policy": signup_policy,
            "help_signup_domains": [_hostname("help_signup_domains", d) for d in signup_domains],
            "customers_see_organization_tickets": customers_see_organization_tickets,
            "csat_enabled": csat_enabled,
        },
    )


def help_logo_set(*, tenant: Tenant, actor: Actor, upload: IO[bytes] | None, size: int) -> Tenant:
    """Store a new logo (PNG, JPEG, WebP or GIF up to 512 KB), or remove it (``upload=None``).
    The storage name carries the content hash, so the logo URL changes with the file."""
    name = ""
    if upload is not None:
        if size > LOGO_MAX_BYTES:
            raise ValidationError({"logo": f"The logo is {size} bytes; the limit is 512 KB."})
        data = upload.read(LOGO_MAX_BYTES + 1)
        if len(data) > LOGO_MAX_BYTES:
            raise ValidationError({"logo": "The logo is larger than 512 KB."})
        kind = filetype.guess(data)
        if kind is None or kind.mime not in LOGO_TYPES:
            raise ValidationError({"logo": "Upload a PNG, JPEG, WebP or GIF image."})
        digest = hashlib.sha256(data).hexdigest()[:16]
        name = f"help/{tenant.pk}/logo-{digest}.{LOGO_TYPES[kind.mime]}"
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(data))
    return account_services.tenant_settings_update(
        tenant=tenant, actor=actor, name=tenant.name, settings={"help_logo": name}
    )
