"""What is inside some attachments: Outlook's winmail.dat unpacked (tnefparse), and archives
that would explode when opened refused.

``winmail.dat`` (``application/ms-tnef``) is how Outlook wraps a rich-text mail's
attachments and body; other clients show it as one unreadable file. :func:`unpack_tnef`
turns it into the files it holds (and its body, when the mail has none of its own).

A zip bomb is a small archive that unpacks into gigabytes (or into itself, nested): an
agent or a virus scanner opening it would stall. :func:`zip_bomb_reason` reads only the
archive's directory (nothing is decompressed) and refuses one whose declared contents are
too big, too many, or compressed far beyond what real files allow.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import structlog
from tnefparse import TNEF

logger = structlog.get_logger(__name__)

TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
ZIP_MAGIC = b"PK\x03\x04"
MAX_UNPACKED = 1024 * 1024 * 1024  # 1 GiB declared in all
MAX_ENTRIES = 10_000
MAX_RATIO = 200  # real documents compress up to ~20:1; bombs go beyond 1000:1
NESTED_ARCHIVES = (".zip", ".jar", ".docx", ".xlsx", ".pptx", ".odt")


@dataclass
class Unpacked:
    files: list[tuple[str, bytes]]
    text: str
    html: str


def is_tnef(filename: str, content_type: str) -> bool:
    return content_type.lower() in TNEF_TYPES or filename.lower() == "winmail.dat"


def unpack_tnef(data: bytes) -> Unpacked | None:
    """The files and body inside a winmail.dat; None when it cannot be read (then it is
    kept as it came)."""
    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception as exc:  # a damaged container: keep the original file, never fail the mail
        logger.info("tnef.unreadable", error=str(exc))
        return None
    files = []
    for index, item in enumerate(tnef.attachments, start=1):
        name = (item.long_filename() or item.name or f"attachment-{index}").strip("\x00 ")
        if isinstance(item.data, bytes) and item.data:
            files.append((name or f"attachment-{index}", item.data))
    text = (
        tnef.body if isinstance(tnef.body, str) else (tnef.body or b"").decode("cp1252", "replace")
    )
    html = tnef.htmlbody if isinstance(tnef.htmlbody, str) else ""
    return Unpacked(files=files, text=text.strip("\x00").strip(), html=html)


def zip_bomb_reason(data: bytes) -> str | None:
    """Why this archive is refused, or None (not a zip, or a reasonable one)."""
    if not data.startswith(ZIP_MAGIC):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None  # not an archive we can read: stored as the bytes it is
    if len(entries) > MAX_ENTRIES:
        return f"it holds {len(entries)} files (more than {MAX_ENTRIES})"
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED:
        return f"it unpacks to {unpacked} bytes (more than {MAX_UNPACKED})"
    packed = sum(entry.compress_size for entry in entries) or 1
    if unpacked > 1024 * 1024 and unpacked / packed > MAX_RATIO:
        return f"it is compressed {unpacked // packed}:1 (a real file is below {MAX_RATIO}:1)"
    nested = [e.filename for e in entries if e.filename.lower().endswith(NESTED_ARCHIVES)]
    if len(nested) > 10 and len(nested) * 2 > len(entries):
        return f"it is mostly archives inside the archive ({len(nested)})"
    return None
