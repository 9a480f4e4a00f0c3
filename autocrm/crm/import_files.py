"""Reading an uploaded contacts file (CSV or XLSX) and checking its rows, before anything is
written. Used by the preview (every row is checked, the report is shown) and again by the
import job (autocrm.crm.services.imports).

Bad files get a sentence a person can act on: the wrong encoding names the one the file
looks like (charset-normalizer), a file over ``CRM_IMPORT_MAX_BYTES`` or
``CRM_IMPORT_MAX_ROWS`` says the limit, an XLSX that is not one (or a zip bomb: more than
``CRM_IMPORT_MAX_UNPACKED_BYTES`` once unpacked) is refused before openpyxl parses it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from autocrm.crm.normalize import clean_email, clean_phone, clean_tags

# The fields a column can be mapped to; ``custom.<name>`` maps to a custom field.
FIELDS: dict[str, str] = {
    "name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "other_emails": "Other emails",
    "phone": "Phone",
    "other_phones": "Other phones",
    "title": "Job title",
    "company": "Company",
    "tags": "Tags",
    "owner": "Owner (email of an agent)",
    "consent_email": "Email consent",
    "consent_sms": "SMS consent",
    "consent_phone": "Phone consent",
}
CUSTOM_PREFIX = "custom."
# Header spellings recognised when guessing the mapping (lowercase, no spaces/_/-).
_ALIASES = {
    "name": "name",
    "fullname": "name",
    "contact": "name",
    "contactname": "name",
    "firstname": "first_name",
    "givenname": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "familyname": "last_name",
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "otheremails": "other_emails",
    "phone": "phone",
    "phonenumber": "phone",
    "telephone": "phone",
    "mobile": "phone",
    "otherphones": "other_phones",
    "title": "title",
    "jobtitle": "title",
    "position": "title",
    "company": "company",
    "companyname": "company",
    "organization": "company",
    "organisation": "company",
    "account": "company",
    "tags": "tags",
    "labels": "tags",
    "owner": "owner",
    "consentemail": "consent_email",
    "emailconsent": "consent_email",
    "consentsms": "consent_sms",
    "smsconsent": "consent_sms",
    "consentphone": "consent_phone",
    "phoneconsent": "consent_phone",
}
_TRUE = {"yes", "y", "true", "1", "x", "on"}
_FALSE = {"no", "n", "false", "0", "", "off"}
_LIST_SPLIT = re.compile(r"[;,\n]")


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]  # data rows, each as long as headers
    encoding: str = ""


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def check_size(size: int) -> None:
    limit = _limit("CRM_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
    if size > limit:
        raise ImportFileError(
            f"The file is {_mb(size)}; imports take files up to {_mb(limit)}. "
            "Split it into smaller files."
        )
    if size == 0:
        raise ImportFileError("The file is empty.")


def file_format(file_name: str, head: bytes) -> str:
    """``csv`` or ``xlsx``, from the name and the first bytes (the name alone can lie)."""
    lower = file_name.lower()
    if lower.endswith((".xls", ".ods", ".numbers")):
        raise ImportFileError("Save the spreadsheet as .xlsx or .csv, then upload it again.")
    if lower.endswith((".xlsx", ".xlsm")):
        if not head.startswith(b"PK\x03\x04"):
            raise ImportFileError("This file is named .xlsx but is not an Excel workbook.")
        return "xlsx"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    return "csv"


def _decode(data: bytes, encoding: str) -> tuple[str, str]:
    if b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError("This is not a text file: upload a CSV or an XLSX workbook.")
    if encoding and encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise ImportFileError(f"Unknown encoding {encoding!r}.") from None
        except UnicodeDecodeError as exc:
            raise ImportFileError(_encoding_hint(data, exc, encoding)) from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        raise ImportFileError(_encoding_hint(data, exc, "UTF-8")) from None


def _encoding_hint(data: bytes, exc: UnicodeDecodeError, tried: str) -> str:
    from charset_normalizer import from_bytes

    line = data[: exc.start].count(b"\n") + 1
    best = from_bytes(data[:200_000]).best()
    guess = best.encoding if best is not None else ""
    message = (
        f"The file is not valid {tried}: byte 0x{data[exc.start]:02X} on line {line} "
        "cannot be read."
    )
    if guess and guess.replace("_", "-").lower() not in {tried.lower(), "utf-8"}:
        message += f" It looks like {guess}: choose that encoding, or save the file as UTF-8."
    else:
        message += " Save the file as UTF-8 (CSV UTF-8 in Excel) and upload it again."
    return message


def _read_csv(data: bytes, encoding: str) -> Table:
    text, used = _decode(data, encoding)
    sample = text[:20_000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        raise ImportFileError(f"The CSV cannot be read: {exc}.") from None
    return _table(records, used)


def _read_xlsx(data: bytes) -> Table:
    limit = _limit("CRM_IMPORT_MAX_UNPACKED_BYTES", 200 * 1024 * 1024)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportFileError("This workbook is damaged or not an XLSX file.") from None
    if unpacked > limit:
        raise ImportFileError(
            f"This workbook unpacks to {_mb(unpacked)}, over the {_mb(limit)} allowed."
        )
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise ImportFileError(f"This workbook cannot be read ({type(exc).__name__}).") from None
    try:
        sheet = workbook.worksheets[0]
        records = [[_xlsx_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    return _table(records, "")


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(records: list[list[str]], encoding: str) -> Table:
    records = [r for r in records if any(cell.strip() for cell in r)]
    if not records:
        raise ImportFileError("The file has no rows.")
    headers = [h.strip() for h in records[0]]
    if not any(headers):
        raise ImportFileError("The first row must name the columns.")
    limit = _limit("CRM_IMPORT_MAX_ROWS", 200_000)
    if len(records) - 1 > limit:
        raise ImportFileError(
            f"The file has {len(records) - 1:,} rows; an import takes up to {limit:,}."
        )
    width = len(headers)
    rows = [(r + [""] * width)[:width] for r in records[1:]]
    return Table(headers=headers, rows=rows, encoding=encoding)


def read_table(data: bytes, *, file_name: str, encoding: str = "auto") -> tuple[str, Table]:
    """(format, table) of an uploaded file, or ImportFileError."""
    check_size(len(data))
    fmt = file_format(file_name, data[:8])
    table = _read_xlsx(data) if fmt == "xlsx" else _read_csv(data, encoding)
    if not table.rows:
        raise ImportFileError("The file has a header row but no contacts under it.")
    return fmt, table


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Column index (as text) -> field, for the headers we recognise (each field once)."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        key = re.sub(r"[\s_\-.]", "", header.lower())
        target = _ALIASES.get(key)
        if target and target not in used:
            mapping[str(index)] = target
            used.add(target)
    return mapping


def clean_mapping(mapping: dict[str, str], headers: list[str]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for index, target in mapping.items():
        if not target:
            continue
        if not index.isdigit() or int(index) >= len(headers):
            raise ImportFileError(f"Column {index} is not in the file.")
        custom = target.startswith(CUSTOM_PREFIX) and re.fullmatch(r"[a-z0-9_]{1,50}", target[7:])
        if target not in FIELDS and not custom:
            raise ImportFileError(f"{target!r} is not a field contacts have.")
        if target in cleaned.values():
            raise ImportFileError(f"Two columns are mapped to {FIELDS.get(target, target)}.")
        cleaned[index] = target
    if "email" not in cleaned.values():
        raise ImportFileError("Map one column to Email: contacts are matched by their address.")
    return cleaned


@dataclass
class RowError:
    row: int  # the line in the file (the header is 1)
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ContactRow:
    """One row's values, checked and normalised (what the services will get)."""

    line: int
    email: str
    name: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    title: str = ""
    company: str = ""
    tags: list[str] = field(default_factory=list)
    owner_id: int | None = None
    consent: dict[str, bool] = field(default_factory=dict)
    custom_fields: dict[str, str] = field(default_factory=dict)
    given: set[str] = field(default_factory=set)  # fields with a value in the file


def _flag(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def check_row(
    values: list[str],
    *,
    line: int,
    mapping: dict[str, str],
    headers: list[str],
    region: str | None,
    owners: dict[str, int],
) -> tuple[ContactRow | None, list[RowError]]:
    """The row as a ContactRow, or the list of what is wrong with it (all of it at once)."""
    errors: list[RowError] = []
    got = {target: values[int(i)].strip() for i, target in mapping.items()}

    def fail(target: str, message: str) -> None:
        column = next((headers[int(i)] for i, t in mapping.items() if t == target), target)
        errors.append(RowError(row=line, column=column, message=message))

    row = ContactRow(line=line, email="")
    try:
        row.email = clean_email(got.get("email", ""))
    except ValueError as exc:
        fail("email", "Email is missing." if not got.get("email") else str(exc))
    name = got.get("name") or " ".join(
        p for p in (got.get("first_name", ""), got.get("last_name", "")) if p
    )
    if len(name) > 200:
        fail("name", "The name is longer than 200 characters.")
    row.name = name[:200]
    for item in _LIST_SPLIT.split(got.get("other_emails", "")):
        if item.strip():
            try:
                row.emails.append(clean_email(item))
            except ValueError as exc:
                fail("other_emails", str(exc))
    for target in ("phone", "other_phones"):
        parts = [got.get(target, "")] if target == "phone" else got.get(target, "").split(";")
        for item in parts:
            if item.strip():
                try:
                    row.phones.append(clean_phone(item, region))
                except ValueError as exc:
                    fail(target, str(exc))
    row.title = got.get("title", "")
    if len(row.title) > 200:
        fail("title", "The job title is longer than 200 characters.")
    row.company = got.get("company", "")
    if len(row.company) > 200:
        fail("company", "The company name is longer than 200 characters.")
    try:
        row.tags = clean_tags(_LIST_SPLIT.split(got.get("tags", "")))
    except ValueError as exc:
        fail("tags", str(exc))
    owner = got.get("owner", "").lower()
    if owner:
        row.owner_id = owners.get(owner)
        if row.owner_id is None:
            fail("owner", f"{owner[:100]!r} is not an agent of this workspace.")
    for flag in ("consent_email", "consent_sms", "consent_phone"):
        if flag in got:
            answer = _flag(got[flag])
            if answer is None:
                fail(flag, f"{got[flag][:20]!r} is not yes or no.")
            elif got[flag]:
                row.consent[flag] = answer
    for target, value in got.items():
        if target.startswith(CUSTOM_PREFIX) and value:
            if len(value) > 1000:
                fail(target, "A custom field holds at most 1000 characters.")
            row.custom_fields[target.removeprefix(CUSTOM_PREFIX)] = value
    row.given = {t for t, v in got.items() if v}
    if row.name:
        row.given.add("name")
    return (None, errors) if errors else (row, [])
