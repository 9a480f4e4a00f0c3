"""Images for article bodies: size-limited, type sniffed from the bytes (PNG, JPEG, GIF,
WebP only: no SVG, which can carry script), checksummed, stored with Django's storage once
the row commits."""

from __future__ import annotations

import hashlib
import os
import secrets
from functools import partial
from typing import IO

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.knowledge import access, events
from autocrm.knowledge.models import Upload

IMAGE_TYPES = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
}


@transaction.atomic
def upload_create(
    *, tenant: Tenant, actor: Actor, upload: IO[bytes], filename: str, size: int
) -> Upload:
    access.require_writer(actor)
    limit = settings.KB_UPLOAD_MAX_BYTES
    if size > limit:
        raise ValidationError(
            {"file": f"The image is {size:,} bytes; the limit is {limit:,} bytes."}
        )
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError({"file": f"The image is larger than {limit:,} bytes."})
    kind = filetype.guess(data[:8192])
    content_type = str(kind.mime) if kind is not None else "application/octet-stream"
    if content_type not in IMAGE_TYPES:
        raise ValidationError(
            {
                "file": "Only PNG, JPEG, GIF or WebP images can be uploaded "
                f"(this file is {content_type})."
            }
        )
    digest = hashlib.sha256(data).hexdigest()
    stem = os.path.splitext(os.path.basename(filename.replace("\\", "/")))[0]
    name = (stem.strip()[:100] or "image") + IMAGE_TYPES[content_type]
    row = Upload(
        tenant=tenant,
        filename=name,
        content_type=content_type,
        size=len(data),
        sha256=digest,
        uploaded_by=actor.user,
    )
    directory = os.path.dirname(row.file.field.generate_filename(row, "f"))
    row.file.name = (
        f"{directory}/{tenant.pk}/{digest[:12]}{secrets.token_hex(4)}{IMAGE_TYPES[content_type]}"
    )
    row.save()
    event_append(
        tenant=tenant,
        type=events.UPLOAD_CREATED,
        subject=row,
        actor=actor,
        payload={"upload_id": row.pk, "content_type": content_type, "size": len(data)},
    )
    transaction.on_commit(partial(_store, row.file.storage, row.file.name, data))
    return row


def _store(storage: Storage, name: str, data: bytes) -> None:
    stored = storage.save(name, ContentFile(data), max_length=len(name))
    if stored != name:
        storage.delete(stored)
        raise RuntimeError(f"Upload storage renamed {name} to {stored}.")


def upload_open(row: Upload) -> IO[bytes]:
    storage = row.file.storage
    if not row.file.name or not storage.exists(row.file.name):
        raise FileNotFoundError(row.file.name)
    return storage.open(row.file.name, "rb")
