"""Contact import pages under ``/<tenant>/agent/contacts/imports/``: upload, map the columns
and preview (every row checked), confirm (a worker job), watch the progress bar, read the
per-row report, undo. Thin: services in autocrm.crm.services.imports."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, staff_required
from autocrm.crm import selectors
from autocrm.crm.import_files import FIELDS
from autocrm.crm.models import ContactImport, Segment
from autocrm.crm.services import imports as import_services
from autocrm.workspace.common import actor_for, is_htmx

ENCODINGS = [
    ("auto", "UTF-8 (recommended)"),
    ("windows-1252", "Windows Western (1252)"),
    ("iso-8859-1", "Latin-1 (ISO 8859-1)"),
    ("windows-1250", "Windows Central European (1250)"),
    ("utf-16", "UTF-16"),
    ("shift_jis", "Shift JIS"),
]


def _import(request: TenantRequest, import_id: int) -> ContactImport:
    found = selectors.contact_import_get(
        tenant=request.tenant, actor=actor_for(request), import_id=import_id
    )
    if found is None:
        raise Http404("No such import.")
    return found


@staff_required
def import_list(request: TenantRequest) -> HttpResponse:
    """Past imports and the upload form; a POST stores the file and opens its preview."""
    actor = actor_for(request)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        encoding = request.POST.get("encoding", "auto")
        if upload is None:
            error = "Choose a CSV or XLSX file."
        elif encoding not in dict(ENCODINGS):
            error = "Choose one of the encodings offered."
        else:
            try:
                contact_import = import_services.contact_import_upload(
                    tenant=request.tenant,
                    actor=actor,
                    file_name=upload.name or "contacts.csv",
                    data=upload.read(settings.CRM_IMPORT_MAX_BYTES + 1),
                    encoding=encoding,
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
            except PermissionDenied as exc:
                error = str(exc)
            else:
                return redirect(
                    "workspace:crm_contact_import", request.tenant.slug, contact_import.pk
                )
    imports = selectors.contact_import_list(tenant=request.tenant, actor=actor).order_by(
        "-created_at", "-id"
    )[:50]
    context = {
        "imports": imports,
        "error": error,
        "encodings": ENCODINGS,
        "max_mb": settings.CRM_IMPORT_MAX_BYTES // (1024 * 1024),
    }
    return render(request, "workspace/crm/imports.html", context, status=400 if error else 200)


@staff_required
def import_page(request: TenantRequest, import_id: int) -> HttpResponse:
    """Preview (mapping + report + options) before it runs; progress and report after."""
    actor = actor_for(request)
    contact_import = _import(request, import_id)
    context: dict[str, object] = {
        "contact_import": contact_import,
        "fields": FIELDS,
        "dedupe_choices": ContactImport.Dedupe.choices,
        "can_undo": actor.is_admin,
    }
    status = 200
    if contact_import.status == ContactImport.Status.PREVIEW:
        mapping = dict(contact_import.mapping)
        if request.method == "POST":
            mapping = {
                str(i): request.POST.get(f"column_{i}", "")
                for i in range(len(contact_import.headers))
            }
        preview = import_services.contact_import_preview(
            tenant=request.tenant, actor=actor, contact_import=contact_import, mapping=mapping
        )
        if request.method == "POST" and request.POST.get("action") == "confirm":
            if preview.mapping_error:
                status = 400
            else:
                segment = None
                segment_id = request.POST.get("segment", "")
                if segment_id.isdigit():
                    segment = selectors.segment_get(
                        tenant=request.tenant, actor=actor, segment_id=int(segment_id)
                    )
                try:
                    import_services.contact_import_confirm(
                        tenant=request.tenant,
                        actor=actor,
                        contact_import=contact_import,
                        dedupe=request.POST.get("dedupe", ""),
                        segment=segment,
                    )
                except ValidationError as exc:
                    messages.error(request, " ".join(exc.messages))
                return redirect("workspace:crm_contact_import", request.tenant.slug, import_id)
        columns = [
            (str(i), header, preview.mapping.get(str(i), ""))
            for i, header in enumerate(preview.headers)
        ]
        context.update(
            preview=preview,
            columns=columns,
            shown_errors=preview.errors[:200],
            segments=selectors.segment_list(tenant=request.tenant, actor=actor)
            .filter(kind=Segment.Kind.STATIC)
            .order_by("name"),
        )
    return render(request, "workspace/crm/import.html", context, status=status)


@staff_required
def import_progress(request: TenantRequest, import_id: int) -> HttpResponse:
    """The progress bar (htmx polls it while the job runs; it stops once finished)."""
    contact_import = _import(request, import_id)
    template = "workspace/crm/_import_progress.html"
    if not is_htmx(request):
        return redirect("workspace:crm_contact_import", request.tenant.slug, import_id)
    return render(request, template, {"contact_import": contact_import})


@staff_required
@require_POST
def import_undo(request: TenantRequest, import_id: int) -> HttpResponse:
    contact_import = _import(request, import_id)
    try:
        done = import_services.contact_import_undo(
            tenant=request.tenant, actor=actor_for(request), contact_import=contact_import
        )
    except (ValidationError, PermissionDenied) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text)
    else:
        messages.success(request, f"Import of {done.file_name} undone.")
    return redirect("workspace:crm_contact_import", request.tenant.slug, import_id)
