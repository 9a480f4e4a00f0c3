"""Settings pages of the customer notification templates (admins and owners): every kind in
every offered language, and an editor with a preview rendered from a sample ticket."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from autocrm.accounts import services as account_services
from autocrm.accounts.access import TenantRequest, admin_required
from autocrm.inboxes import notification_templates as nt
from autocrm.workspace.common import actor_for

KIND_LABELS = {
    nt.TICKET_RECEIVED: "Ticket received",
    nt.AGENT_REPLIED: "Agent replied",
    nt.TICKET_SOLVED: "Ticket solved",
}


class TemplateForm(forms.Form):
    subject = forms.CharField(max_length=300)
    body = forms.CharField(
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "true"}),
        help_text="Plain text. Variables: {{ ticket.number }}, {{ ticket.subject }}, "
        "{{ ticket.status }}, {{ requester.name }}, {{ requester.email }}, {{ agent.name }}, "
        "{{ tenant.name }}, and {{ reply }} (the agent's reply). Tags: if, for, with, firstof.",
    )


class SendingForm(forms.Form):
    """Which automatic mails go out, and the language when a contact names none (tenant
    settings, saved through accounts.services.tenant_settings_update)."""

    email_ticket_received = forms.BooleanField(
        label="Acknowledge new tickets (“ticket received”)",
        help_text="Sent for tickets from e-mail, the help centre, web forms and the API; "
        "never to mailing lists, no-reply or bounced addresses, and at most a few an hour "
        "to one address.",
        required=False,
    )
    email_ticket_solved = forms.BooleanField(
        label="Tell the requester when a ticket is solved (“ticket solved”)", required=False
    )
    default_locale = forms.ChoiceField(
        label="Default language",
        choices=[(loc, loc) for loc in nt.LOCALES],
        help_text="For customers whose contact has no language.",
    )


@admin_required
def settings_notification_templates(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    actor = actor_for(request)
    initial = {key: tenant.setting(key) for key in SendingForm.base_fields}
    form = SendingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.tenant_settings_update(
                tenant=tenant, actor=actor, name=tenant.name, settings=dict(form.cleaned_data)
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Saved.")
            return redirect(request.path)
    templates = nt.template_list(tenant=tenant, actor=actor)
    rows = [
        (kind, KIND_LABELS[kind], [t for t in templates if t.kind == kind]) for kind in nt.KINDS
    ]
    return render(
        request,
        "workspace/settings/notification_templates.html",
        {"rows": rows, "form": form},
        status=400 if form.errors else 200,
    )


@admin_required
def settings_notification_template(request: TenantRequest, kind: str, locale: str) -> HttpResponse:
    actor = actor_for(request)
    try:
        current = nt.template_get(tenant=request.tenant, actor=actor, kind=kind, locale=locale)
    except ValidationError as exc:
        raise Http404("No such notification template.") from exc
    action = request.POST.get("action", "save")
    if request.method == "POST" and action == "reset":
        nt.template_reset(tenant=request.tenant, actor=actor, kind=kind, locale=locale)
        messages.success(request, "The template is back to the default.")
        return redirect(request.path)
    form = TemplateForm(
        request.POST or None, initial={"subject": current.subject, "body": current.body}
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        subject, body = form.cleaned_data["subject"], form.cleaned_data["body"]
        try:
            if action == "preview":
                nt.template_validate(subject=subject, body=body)
            else:
                nt.template_save(
                    tenant=request.tenant,
                    actor=actor,
                    kind=kind,
                    locale=locale,
                    subject=subject,
                    body=body,
                )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if action != "preview":
                messages.success(request, "The template was saved.")
                return redirect(request.path)
    source = (
        nt.Template(kind, locale, form.data["subject"], form.data["body"], custom=True)
        if form.is_bound and not form.errors
        else current
    )
    if not form.errors:
        preview = nt.template_render(source, nt.SAMPLE_CONTEXT)
    return render(
        request,
        "workspace/settings/notification_template_form.html",
        {
            "form": form,
            "template": current,
            "kind_label": KIND_LABELS[kind],
            "preview": preview,
        },
        status=400 if form.errors else 200,
    )
