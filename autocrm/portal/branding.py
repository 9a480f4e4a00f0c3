"""The help centre's look, read from the tenant's settings: what ``templates/help/base.html``
shows (name, logo, colours, footer) and the CSS variables derived from the colours.

Colours are stored as validated ``#rrggbb`` only (services.help_settings_update), so putting
them into a ``style`` attribute can never inject anything else."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from functools import cached_property

from django.apps import apps
from django.urls import reverse

from autocrm.core.models import Tenant

HEX_COLOR = re.compile(r"^#[0-9a-f]{6}$")


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def mix(color: str, other: str, amount: float) -> str:
    """``color`` moved ``amount`` (0..1) of the way towards ``other``."""
    a, b = _rgb(color), _rgb(other)
    return _hex(tuple(x + (y - x) * amount for x, y in zip(a, b, strict=True)))  # type: ignore[arg-type]


def luminance(color: str) -> float:
    """WCAG relative luminance."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else float(((s + 0.055) / 1.055) ** 2.4)

    r, g, b = (channel(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def readable_text_on(color: str) -> str:
    """White or near-black, whichever contrasts more with ``color``."""
    lum = luminance(color)
    return "#ffffff" if (1.05 / (lum + 0.05)) >= ((lum + 0.05) / 0.05) else "#111827"


def knowledge_installed() -> bool:
    """Whether the knowledge app (and with it the KB pages at the help-centre root) is on."""
    # Its public pages come in a later step than the app itself: both must be there.
    return apps.is_installed("autocrm.knowledge") and (
        importlib.util.find_spec("autocrm.knowledge.public_urls") is not None
    )


@dataclass(frozen=True)
class Branding:
    tenant: Tenant

    @property
    def name(self) -> str:
        return str(self.tenant.setting("help_brand_name") or self.tenant.name)

    @property
    def footer_text(self) -> str:
        return str(self.tenant.setting("help_footer_text") or "")

    @property
    def custom_domain(self) -> str:
        return str(self.tenant.setting("help_custom_domain") or "")

    @property
    def has_logo(self) -> bool:
        return bool(self.tenant.setting("help_logo"))

    @property
    def logo_url(self) -> str:
        if not self.has_logo:
            return ""
        # The stored name changes with the file, so browsers may cache each URL for long.
        version = str(self.tenant.setting("help_logo")).rsplit("/", 1)[-1].split(".")[0]
        return reverse("portal:logo", args=[self.tenant.slug]) + f"?v={version}"

    @property
    def home_url(self) -> str:
        return reverse("portal:home", args=[self.tenant.slug])

    @property
    def requests_url(self) -> str:
        return reverse("portal:requests", args=[self.tenant.slug])

    @property
    def account_url(self) -> str:
        return reverse("portal:account", args=[self.tenant.slug])

    @property
    def login_url(self) -> str:
        return reverse("portal:login", args=[self.tenant.slug])

    @property
    def kb_enabled(self) -> bool:
        return knowledge_installed()

    @cached_property
    def style(self) -> str:
        """CSS custom properties for the page root; empty with the default colours."""
        parts: list[str] = []
        primary = str(self.tenant.setting("help_primary_color") or "")
        if HEX_COLOR.match(primary):
            parts += [
                f"--primary: {primary}",
                f"--focus: {primary}",
                f"--primary-hover: {mix(primary, '#000000', 0.15)}",
                f"--primary-soft: {mix(primary, '#ffffff', 0.9)}",
                f"--primary-text: {mix(primary, '#000000', 0.35)}",
                f"--on-primary: {readable_text_on(primary)}",
            ]
        header = str(self.tenant.setting("help_header_color") or "")
        if HEX_COLOR.match(header):
            parts += [
                f"--help-header-bg: {header}",
                f"--help-header-text: {readable_text_on(header)}",
            ]
        return "; ".join(parts)
