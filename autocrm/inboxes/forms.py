"""The inbox settings form of the workspace (validation of shapes only; the service checks
the rest and its ValidationErrors land on these fields)."""

from __future__ import annotations

from typing import Any

from django import forms

from autocrm.inboxes.models import EspProvider, ImapProcessed, ImapSecurity, Inbox


class InboxForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, help_text="The sender name of replies, e.g. “Support”."
    )
    address = forms.EmailField(label="Address", max_length=254)
    aliases = forms.CharField(
        label="Aliases",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Other addresses that deliver here, one per line.",
    )
    default_team_id = forms.TypedChoiceField(
        label="Default team", required=False, coerce=int, empty_value=None
    )
    signature = forms.CharField(
        label="Signature",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Plain text under every reply.",
    )
    inbound_enabled = forms.BooleanField(label="Import incoming mail", required=False)
    create_contacts = forms.BooleanField(
        label="Unknown senders become contacts with a ticket", required=False
    )
    imap_enabled = forms.BooleanField(label="Fetch mail by IMAP", required=False)
    imap_host = forms.CharField(label="IMAP server", max_length=253, required=False)
    imap_port = forms.IntegerField(label="Port", min_value=1, max_value=65535, initial=993)
    imap_security = forms.ChoiceField(
        label="Security", choices=ImapSecurity.choices, initial=ImapSecurity.SSL
    )
    imap_username = forms.CharField(label="User name", max_length=254, required=False)
    imap_password = forms.CharField(
        label="Password",
        max_length=1000,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    imap_folder = forms.CharField(label="Folder", max_length=200, initial="INBOX")
    imap_processed = forms.ChoiceField(
        label="Imported mail on the server",
        choices=ImapProcessed.choices,
        initial=ImapProcessed.FLAG,
    )
    imap_processed_folder = forms.CharField(
        label="Move to folder", max_length=200, initial="Processed"
    )

    esp_provider = forms.ChoiceField(
        label="Email service provider",
        required=False,
        choices=[("", "None"), *EspProvider.choices],
        help_text="Mailgun, SendGrid, Postmark or Amazon SES posting received mail to the "
        "webhook URL shown after saving.",
    )
    esp_secret = forms.CharField(
        label="Provider secret",
        max_length=2000,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Mailgun: the webhook signing key. SendGrid: the public verification key. "
        "Postmark and SES: the user:password put in the webhook URL.",
    )

    GENERAL = ("name", "address", "aliases", "default_team_id", "signature")
    INBOUND = ("inbound_enabled", "create_contacts")
    ESP = ("esp_provider", "esp_secret")
    IMAP = (
        "imap_enabled",
        "imap_host",
        "imap_port",
        "imap_security",
        "imap_username",
        "imap_password",
        "imap_folder",
        "imap_processed",
        "imap_processed_folder",
    )

    def __init__(
        self, *args: Any, teams: list[tuple[int, str]], inbox: Inbox | None = None, **kwargs: Any
    ) -> None:
        if inbox is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(inbox, name) for name in (*self.GENERAL, *self.INBOUND)},
                **{name: getattr(inbox, name) for name in self.IMAP if name != "imap_password"},
                "esp_provider": inbox.esp_provider,
                "aliases": "\n".join(inbox.aliases),
            }
        elif inbox is None and "initial" not in kwargs:
            kwargs["initial"] = {"inbound_enabled": True, "create_contacts": True}
        super().__init__(*args, **kwargs)
        team_field = self.fields["default_team_id"]
        assert isinstance(team_field, forms.ChoiceField)
        team_field.choices = [("", "No team"), *teams]
        if inbox is not None and inbox.esp_secret:
            self.fields["esp_secret"].help_text = "A secret is stored. Leave this empty to keep it."
        password = self.fields["imap_password"]
        if inbox is not None and inbox.imap_password:
            password.help_text = "A password is stored. Leave this empty to keep it."

    def section(self, names: tuple[str, ...]) -> list[forms.BoundField]:
        return [self[name] for name in names]

    def general(self) -> list[forms.BoundField]:
        return self.section(self.GENERAL)

    def inbound(self) -> list[forms.BoundField]:
        return self.section(self.INBOUND)

    def esp(self) -> list[forms.BoundField]:
        return self.section(self.ESP)

    def imap(self) -> list[forms.BoundField]:
        return self.section(self.IMAP)

    def values(self, *, keep_password: bool) -> dict[str, Any]:
        """The cleaned values as the service takes them; an empty password field keeps the
        stored one."""
        data = dict(self.cleaned_data)
        data["aliases"] = [a.strip() for a in data["aliases"].replace(",", "\n").split() if a]
        if keep_password and not data["imap_password"]:
            del data["imap_password"]
        if keep_password and not data["esp_secret"]:
            del data["esp_secret"]
        return data
