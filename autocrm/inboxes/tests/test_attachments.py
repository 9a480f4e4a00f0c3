"""winmail.dat unpacked into its files and body; zip bombs dropped with a note, never stored."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.attachments import unpack_tnef, zip_bomb_reason
from autocrm.inboxes.inbound import email_import
from autocrm.inboxes.parsing import parse_email
from autocrm.inboxes.tests.factories import inbox, mail
from autocrm.tickets.models import Attachment, Message

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _tnef(body: str, files: list[tuple[str, bytes]]) -> bytes:
    """A TNEF stream as Outlook writes it (signature, key, then level/id/type/length/data/
    checksum objects; each attachment starts with its rendering data)."""

    def obj(level: int, name: int, kind: int, data: bytes) -> bytes:
        head = struct.pack("<BHHI", level, name, kind, len(data))
        return head + data + struct.pack("<H", sum(data) & 0xFFFF)

    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += obj(1, 0x9006, 0x0008, struct.pack("<I", 0x10000))  # TNEF version
    out += obj(1, 0x800C, 0x0002, body.encode("cp1252"))  # the body
    for name, data in files:
        out += obj(2, 0x9002, 0x0006, b"\x01\x00" + b"\x00" * 12)  # a new attachment
        out += obj(2, 0x8010, 0x0001, name.encode() + b"\x00")
        out += obj(2, 0x800F, 0x0006, data)
    return out


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_tnef_unpacks_to_its_files_and_body() -> None:
    unpacked = unpack_tnef(_tnef("Bonjour, voilà le rapport.", [("report.pdf", PDF)]))
    assert unpacked is not None
    assert unpacked.files == [("report.pdf", PDF)]
    assert unpacked.text == "Bonjour, voilà le rapport."
    assert unpack_tnef(b"not tnef at all") is None


def test_a_winmail_dat_mail_becomes_a_ticket_with_the_real_files(tenant_a: Tenant) -> None:
    raw = mail(
        subject="Outlook rich text",
        text=None,
        html=None,
        attachments=[("winmail.dat", _tnef("The report is attached.", [("report.pdf", PDF)]),
                      "application/ms-tnef")],
    )  # fmt: skip
    parsed = parse_email(raw)
    assert [a.filename for a in parsed.attachments] == ["report.pdf"]
    assert parsed.text == "The report is attached."
    box = inbox(tenant_a)
    with tenant_context(tenant_a):
        result = email_import(tenant=tenant_a, inbox=box, raw=raw)
        assert result.message_id is not None
        message = Message.objects.get(pk=result.message_id)
        files = list(Attachment.objects.filter(message=message).values_list("filename", flat=True))
    assert "The report is attached." in message.body_text
    assert files == ["report.pdf"]


def test_zip_bombs_are_recognised_from_the_directory_alone() -> None:
    assert zip_bomb_reason(_zip({"notes.txt": b"hello " * 1000})) is None
    assert zip_bomb_reason(b"PK\x03\x04 broken") is None  # unreadable: stored as bytes
    bomb = zip_bomb_reason(_zip({"zeros.bin": b"\x00" * 30_000_000}))
    assert bomb is not None and "compressed" in bomb
    many = zip_bomb_reason(_zip({f"f{i}.txt": b"" for i in range(10_001)}))
    assert many is not None and "10001 files" in many


def test_a_zip_bomb_attachment_is_dropped_with_a_note(tenant_a: Tenant) -> None:
    bomb = _zip({"zeros.bin": b"\x00" * 30_000_000})
    fine = _zip({"notes.txt": b"hello"})
    raw = mail(
        subject="Logs attached",
        attachments=[("logs.zip", bomb, "application/zip"), ("notes.zip", fine, "application/zip")],
    )
    box = inbox(tenant_a)
    with tenant_context(tenant_a):
        result = email_import(tenant=tenant_a, inbox=box, raw=raw)
        stored = list(Attachment.objects.values_list("filename", flat=True))
        assert result.ticket_id is not None
        note = Message.objects.get(ticket_id=result.ticket_id, public=False)
    assert stored == ["notes.zip"]
    assert "logs.zip (looks like a zip bomb: it is compressed" in note.body_text
