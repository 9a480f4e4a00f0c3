"""Export of a CRM list (contacts, companies, a segment, leads and deals) to CSV or XLSX.

Rows are read in chunks from the selector's queryset (whatever filters the caller applied)
and written as they come: CSV streams, XLSX uses openpyxl's write-only workbook. Text that a
spreadsheet would run as a formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@``, and a leading
tab or carriage return) is prefixed with an apostrophe (OWASP "CSV injection"), so an
exported file opened in Excel or LibreOffice shows the text and runs nothing."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from autocrm.crm.models import Company, Contact, ContactCompany, Deal

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2000


def neutralise(value: Any) -> Any:
    """The cell as text a spreadsheet will not evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


def _join(values: Iterable[str]) -> str:
    return "; ".join(values)


def _user(user: Any) -> str:
    return user.email if user is not None else ""


CONTACT_COLUMNS = (
    Column("id", lambda c: c.pk),
    Column("name", lambda c: c.name),
    Column("email", lambda c: c.email),
    Column(
        "other_emails",
        lambda c: _join(sorted(e.email for e in c.emails.all() if e.email != c.email)),
    ),
    Column("phone", lambda c: c.phone),
    Column(
        "other_phones",
        lambda c: _join(sorted(p.number for p in c.phones.all() if p.number != c.phone)),
    ),
    Column("title", lambda c: c.title),
    Column("company", lambda c: c.company.name if c.company else ""),
    Column(
        "other_companies",
        lambda c: _join(
            m.company.name for m in c.memberships.all() if m.company_id != c.company_id
        ),
    ),
    Column("owner", lambda c: _user(c.owner)),
    Column("tags", lambda c: _join(c.tags)),
    Column("consent_email", lambda c: "yes" if c.consent_email else "no"),
    Column("consent_sms", lambda c: "yes" if c.consent_sms else "no"),
    Column("consent_phone", lambda c: "yes" if c.consent_phone else "no"),
    Column("locale", lambda c: c.locale),
    Column("created_at", lambda c: c.created_at.isoformat()),
)

COMPANY_COLUMNS = (
    Column("id", lambda c: c.pk),
    Column("name", lambda c: c.name),
    Column("domain", lambda c: c.domain),
    Column(
        "other_domains",
        lambda c: _join(sorted(d.domain for d in c.domains.all() if d.domain != c.domain)),
    ),
    Column("parent", lambda c: c.parent.name if c.parent else ""),
    Column("owner", lambda c: _user(c.owner)),
    Column("tags", lambda c: _join(c.tags)),
    Column("created_at", lambda c: c.created_at.isoformat()),
)


DEAL_COLUMNS = (
    Column("id", lambda d: d.pk),
    Column("kind", lambda d: d.kind),
    Column("title", lambda d: d.title),
    Column("pipeline", lambda d: d.pipeline.name),
    Column("stage", lambda d: d.stage.name),
    Column("probability", lambda d: d.stage.probability),
    Column("status", lambda d: d.status),
    Column("amount", lambda d: str(d.amount)),
    Column("currency", lambda d: d.currency),
    Column("expected_close_date", lambda d: d.expected_close_date or ""),
    Column("owner", lambda d: _user(d.owner)),
    Column("contact", lambda d: d.contact.email if d.contact else ""),
    Column("company", lambda d: d.company.name if d.company else ""),
    Column("score", lambda d: "" if d.score is None else d.score),
    Column("close_reason", lambda d: d.close_reason),
    Column("created_at", lambda d: d.created_at.isoformat()),
)


def _custom_keys(rows: QuerySet[Any]) -> list[str]:
    """Every custom field name used in the list (one query), each becomes a column."""
    keys: set[str] = set()
    for fields in rows.exclude(custom_fields={}).values_list("custom_fields", flat=True)[:50_000]:
        if isinstance(fields, dict):
            keys.update(str(k) for k in fields)
    return sorted(keys)


def _custom_column(key: str) -> Column:
    return Column(f"custom.{key}", lambda r: _cell((r.custom_fields or {}).get(key)))


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


@dataclass
class Export:
    columns: list[Column]
    rows: QuerySet[Any]
    name: str  # file name without extension

    def header(self) -> list[str]:
        return [c.header for c in self.columns]

    def records(self) -> Iterator[list[Any]]:
        for row in self.rows.iterator(chunk_size=CHUNK):
            yield [neutralise(_cell(c.value(row))) for c in self.columns]


def _checked_size(rows: QuerySet[Any]) -> None:
    limit = int(getattr(settings, "CRM_EXPORT_MAX_ROWS", 1_000_000))
    if rows[limit : limit + 1].exists():
        raise ValidationError(
            f"More than {limit:,} rows: narrow the list with filters or a segment first."
        )


def contacts_export(contacts: QuerySet[Contact], *, name: str = "contacts") -> Export:
    rows = contacts.select_related("company", "owner").prefetch_related(
        "emails",
        "phones",
        Prefetch("memberships", queryset=ContactCompany.objects.select_related("company")),
    )
    _checked_size(rows)
    columns = [*CONTACT_COLUMNS, *(_custom_column(k) for k in _custom_keys(contacts))]
    return Export(columns=columns, rows=rows.order_by("name", "id"), name=name)


def companies_export(companies: QuerySet[Company], *, name: str = "companies") -> Export:
    rows = companies.select_related("parent", "owner").prefetch_related("domains")
    _checked_size(rows)
    columns = [*COMPANY_COLUMNS, *(_custom_column(k) for k in _custom_keys(companies))]
    return Export(columns=columns, rows=rows.order_by("name", "id"), name=name)


def deals_export(deals: QuerySet[Deal], *, name: str = "deals") -> Export:
    rows = deals.select_related("pipeline", "stage", "owner", "contact", "company")
    _checked_size(rows)
    return Export(columns=list(DEAL_COLUMNS), rows=rows.order_by("-created_at", "-id"), name=name)


def write_file(export: Export, fmt: str) -> IO[bytes]:
    """The whole file, written now (the rows are only readable inside the request's tenant
    transaction, so nothing may be read lazily after the view returns), in a temporary file
    that spills to disk past a few megabytes."""
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        writer.writerow(export.header())
        writer.writerows(export.records())
        text.flush()
        text.detach()
    else:
        _write_xlsx(export, out)
    out.seek(0)
    return out


def _write_xlsx(export: Export, out: IO[bytes]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(export.name[:31] or "export")
    sheet.append(export.header())
    for record in export.records():
        cells = []
        for value in record:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                # Stored as a string cell even if it starts with '=' (openpyxl would
                # otherwise write it as a formula); the apostrophe is kept visible.
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    workbook.save(out)


def file_name(export: Export, fmt: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in export.name) or "export"
    return f"{safe[:60]}.{fmt}"
