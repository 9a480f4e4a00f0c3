"""Settings pages of the customer notification templates (admins and owners): every kind in
every offered language, and an editor with a preview rendered from a sample ticket."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

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


@admin_required
def settings_notification_templates(request: TenantRequest) -> HttpResponse:
    templates = nt.template_list(tenant=request.tenant, actor=actor_for(request))
    rows = [
        (kind, KIND_LABELS[kind], [t for t in templates if t.kind == kind]) for kind in nt.KINDS
    ]
    return render(request, "workspace/settings/notification_templates.html", {"rows": rows})


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
