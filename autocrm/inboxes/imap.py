"""IMAP inbound: fetch an inbox's mailbox into the one import pipeline, exactly once.

One fetch (the ``inboxes.imap_fetch`` job, also run on an IDLE push) lists the messages not
processed yet, downloads them in batches and hands each to :func:`email_import`; only after
the batch's imports committed does it mark them processed on the server (the keyword
``$AutoCRMImported``, or a move to a folder). A fetch stopped anywhere (a killed worker, a
dropped connection, the database gone) leaves committed imports and unmarked mail: the next
fetch downloads that mail again and the import's dedupe (Message-ID per inbox, else content)
makes it a no-op, so every mail becomes a message exactly once.

Every outcome is recorded on the inbox: ``imap_last_fetched_at`` after a fetch that worked,
``imap_last_error`` (and an ``inbox.fetch_failed`` event when it starts failing) when the
server refused, so a stopped import is never silent.
"""

from __future__ import annotations

import imaplib
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.utils import timezone
from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError, MailboxFolderSelectError, MailboxLoginError
from imap_tools.message import MailMessage

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes import events
from autocrm.inboxes.credentials import CredentialUnreadable, credential_decrypt
from autocrm.inboxes.inbound import email_import
from autocrm.inboxes.models import ImapProcessed, ImapSecurity, Inbox
from autocrm.inboxes.parsing import InvalidEmail
from autocrm.notifications.targets import address_refusal

logger = structlog.get_logger(__name__)

FETCH = Actor.system("imap_fetch")
IMPORTED = "$AutoCRMImported"
REJECTED = "$AutoCRMRejected"  # not importable (too big, no sender): left for a person
TEST_TIMEOUT = 10.0
BATCH_BYTES = 20 * 1024 * 1024  # one FETCH command downloads at most about this much
DB_RECOVERY_SECONDS = 60.0  # how long a failed fetch waits for the database to record it
_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class ImapRefused(Exception):
    """The fetch cannot run; the message is what the inbox shows."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    security: str
    username: str
    password: str = field(repr=False)
    folder: str
    processed: str
    processed_folder: str

    @classmethod
    def of(cls, inbox: Inbox) -> ImapConfig:
        return cls(
            host=inbox.imap_host,
            port=inbox.imap_port,
            security=inbox.imap_security,
            username=inbox.imap_username,
            password=credential_decrypt(inbox.imap_password),
            folder=inbox.imap_folder or "INBOX",
            processed=inbox.imap_processed,
            processed_folder=inbox.imap_processed_folder or "Processed",
        )


class RawMailMessage(MailMessage):
    """imap-tools' message that also keeps the bytes as the server sent them: the import
    stores and hashes the original, not a re-serialisation."""

    def __init__(self, fetch_data: list) -> None:
        self.raw: bytes = self._get_message_data_parts(fetch_data)[0]
        super().__init__(fetch_data)


def _check_host(host: str, port: int) -> None:
    if not host:
        raise ImapRefused("No IMAP server is set.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ImapRefused(f"The IMAP server {host} could not be resolved.") from exc
    if settings.IMAP_ALLOW_PRIVATE_HOSTS:
        return
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]
        reason = address_refusal(ipaddress.ip_address(text))
        if reason is not None:
            raise ImapRefused(f"Refused: {host} resolves to {text}, which {reason}.")


@contextmanager
def imap_connect(config: ImapConfig, *, timeout: float | None = None) -> Iterator[BaseMailBox]:
    """A logged-in mailbox (no folder selected). Certificates are verified: imaplib's own
    default context would not."""
    _check_host(config.host, config.port)
    wait = timeout or settings.IMAP_TIMEOUT
    mailbox: BaseMailBox
    if config.security == ImapSecurity.SSL:
        mailbox = MailBox(
            config.host, config.port, timeout=wait, ssl_context=ssl.create_default_context()
        )
    elif config.security == ImapSecurity.STARTTLS:
        mailbox = MailBoxStartTls(
            config.host, config.port, timeout=wait, ssl_context=ssl.create_default_context()
        )
    else:
        mailbox = MailBoxUnencrypted(config.host, config.port, timeout=wait)
    mailbox.email_message_class = RawMailMessage
    try:
        mailbox.login(config.username, config.password, initial_folder=None)
        yield mailbox
    finally:
        with suppress(Exception):  # the server may be gone already; nothing to tell it
            mailbox.logout()


def describe(exc: BaseException) -> str:
    """One line an admin can act on."""
    if isinstance(exc, ImapRefused | CredentialUnreadable):
        return str(exc)
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, MailboxLoginError):
        said = re.findall(r"\](.*?)['\"]\]", text)  # "[AUTHENTICATIONFAILED] Wrong pass."
        return f"The server refused the login: {(said[0] if said else text).strip()}"[:1000]
    if isinstance(exc, MailboxFolderSelectError):
        return f"The folder cannot be opened: {text}"[:1000]
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {text}"[:1000]
    if isinstance(exc, TimeoutError | socket.timeout):
        return "The IMAP server did not answer in time."
    if isinstance(exc, ConnectionRefusedError):
        return "The IMAP server refused the connection (is the port right?)."
    if isinstance(exc, OSError | imaplib.IMAP4.error):
        return f"IMAP connection failed: {text}"[:1000]
    return f"IMAP error: {text}"[:1000]


IMAP_ERRORS = (ImapRefused, CredentialUnreadable, ImapToolsError, imaplib.IMAP4.error, OSError)


@dataclass(frozen=True)
class ImapTestResult:
    ok: bool
    error: str = ""
    messages: int = 0  # in the folder
    idle: bool = False  # the server offers IDLE: new mail arrives within seconds


def imap_test(*, inbox: Inbox, **overrides: str | int | None) -> ImapTestResult:
    """Log in, open the folder and count it: what a fetch needs, without importing. The
    inbox's settings, or the unsaved values given (see :func:`imap_config_with`)."""
    try:
        config = imap_config_with(inbox, **overrides)
        with imap_connect(config, timeout=min(TEST_TIMEOUT, settings.IMAP_TIMEOUT)) as box:
            box.folder.set(config.folder, readonly=True)
            status = box.folder.status(config.folder, ["MESSAGES"])
            return ImapTestResult(
                ok=True, messages=int(status["MESSAGES"]), idle="IDLE" in box.client.capabilities
            )
    except IMAP_ERRORS as exc:
        return ImapTestResult(ok=False, error=describe(exc))


@dataclass
class FetchReport:
    imported: int = 0  # new messages or tickets, or logged as ignored (auto-reply, ...)
    duplicates: int = 0  # imported by an earlier fetch that stopped before marking them
    rejected: int = 0
    error: str = ""


def imap_fetch(*, tenant: Tenant, actor: Actor, inbox_id: int) -> FetchReport:
    """Fetch once. Server trouble is recorded on the inbox (and returned), not raised; a
    database failure is recorded when the database answers again, then raised."""
    with tenant_context(tenant):
        inbox = Inbox.objects.filter(tenant=tenant, pk=inbox_id).first()
    if inbox is None or not inbox.imap_enabled:
        return FetchReport()
    report = FetchReport()
    try:
        _fetch(tenant, inbox, ImapConfig.of(inbox), report)
    except IMAP_ERRORS as exc:
        report.error = describe(exc)
    except DatabaseError as exc:
        error = f"The database failed during the fetch ({type(exc).__name__}); the next "
        error += "fetch continues where this one stopped."
        _record_when_back(tenant=tenant, actor=actor, inbox_id=inbox.pk, error=error)
        raise
    inbox_fetch_record(tenant=tenant, actor=actor, inbox_id=inbox.pk, error=report.error)
    logger.info(
        "imap.fetched",
        inbox=inbox.pk,
        imported=report.imported,
        duplicates=report.duplicates,
        rejected=report.rejected,
        error=report.error,
    )
    return report


def _record_when_back(*, tenant: Tenant, actor: Actor, inbox_id: int, error: str) -> None:
    """Record a database failure on the inbox once the database answers again: a restarting
    PostgreSQL refuses connections for a few seconds, and a failure nobody sees is the
    silent stop this module exists to prevent. Gives up after ``DB_RECOVERY_SECONDS``
    (the error is then only in the log)."""
    deadline = time.monotonic() + DB_RECOVERY_SECONDS
    pause = 0.2
    while True:
        with suppress(DatabaseError):
            connection.close()  # a fresh connection (also for the worker's next job)
        try:
            inbox_fetch_record(tenant=tenant, actor=actor, inbox_id=inbox_id, error=error)
            return
        except DatabaseError as exc:
            if time.monotonic() + pause > deadline:
                logger.error("imap.fetch_failure_unrecorded", inbox=inbox_id, error=str(exc))
                return
        time.sleep(pause)
        pause = min(pause * 2, 5.0)


def _sizes(box: BaseMailBox, uids: Sequence[str]) -> dict[str, int]:
    result = box.client.uid("FETCH", ",".join(uids), "(UID RFC822.SIZE)")
    sizes: dict[str, int] = {}
    for line in result[1]:
        item = line[0] if isinstance(line, tuple) else line
        match = _SIZE.search(item) if isinstance(item, bytes) else None
        if match:
            uid, size = (match[1], match[2]) if match[1] else (match[4], match[3])
            sizes[uid.decode()] = int(size)
    return sizes


def _batches(uids: Sequence[str], sizes: dict[str, int]) -> Iterator[list[str]]:
    batch: list[str] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= settings.IMAP_FETCH_BATCH or total + size > BATCH_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def _fetch(tenant: Tenant, inbox: Inbox, config: ImapConfig, report: FetchReport) -> None:
    with imap_connect(config) as box:
        box.folder.set(config.folder)
        moving = config.processed == ImapProcessed.MOVE
        if moving and not box.folder.exists(config.processed_folder):
            box.folder.create(config.processed_folder)
        # Moving empties the folder; flagging leaves the mail there with our keyword.
        uids = box.uids("ALL" if moving else AND(no_keyword=IMPORTED))
        if not uids:
            return
        sizes = _sizes(box, uids)
        too_big = [uid for uid in uids if sizes.get(uid, 0) > settings.INBOUND_EMAIL_MAX_BYTES]
        for uid in too_big:
            _reject(
                tenant,
                inbox,
                uid,
                f"The message is {sizes[uid]} bytes; the limit is "
                f"{settings.INBOUND_EMAIL_MAX_BYTES}.",
            )
        report.rejected += len(too_big)
        _mark(box, config, [], too_big)
        wanted = [uid for uid in uids if uid not in set(too_big)]
        for batch in _batches(wanted, sizes):
            done: list[str] = []
            rejected: list[str] = []
            for message in box.fetch(uid_list=batch, mark_seen=False, bulk=True):
                assert isinstance(message, RawMailMessage)
                if _import(tenant, inbox, message, report):
                    done.append(message.uid or "")
                else:
                    rejected.append(message.uid or "")
            # Only now, with every import of the batch committed: a stop before this line
            # means a refetch, which the dedupe turns into nothing.
            _mark(box, config, done, rejected)


def _import(tenant: Tenant, inbox: Inbox, message: RawMailMessage, report: FetchReport) -> bool:
    try:
        with tenant_context(tenant):
            result = email_import(tenant=tenant, inbox=inbox, raw=message.raw, via="imap")
    except InvalidEmail as exc:
        reason = str(exc)
    except ValidationError as exc:
        reason = "; ".join(exc.messages)
    else:
        if result.duplicate:
            report.duplicates += 1
        else:
            report.imported += 1
        return True
    report.rejected += 1
    _reject(tenant, inbox, message.uid or "", reason)
    return False


def _reject(tenant: Tenant, inbox: Inbox, uid: str, reason: str) -> None:
    """Mail that cannot be imported stays on the server (flagged ``$AutoCRMRejected``) and
    is logged on the inbox with the reason: a person can look at it there."""
    logger.warning("imap.rejected", inbox=inbox.pk, uid=uid, reason=reason)
    with tenant_context(tenant):
        event_append(
            tenant=tenant,
            type=events.EMAIL_REJECTED,
            subject=inbox,
            actor=FETCH,
            payload={"inbox_id": inbox.pk, "via": "imap", "uid": uid, "reason": reason[:500]},
        )


def _mark(box: BaseMailBox, config: ImapConfig, done: list[str], rejected: list[str]) -> None:
    if rejected:
        box.flag(rejected, [IMPORTED, REJECTED], True)
    if not done:
        return
    if config.processed == ImapProcessed.MOVE:
        box.move(done, config.processed_folder)
    else:
        box.flag(done, IMPORTED, True)


def inbox_fetch_record(*, tenant: Tenant, actor: Actor, inbox_id: int, error: str) -> None:
    """The outcome of one fetch on the inbox. An event when the fetch starts failing (or the
    error changes) and when it works again, not on every poll."""
    now = timezone.now()
    with tenant_context(tenant):
        inbox = Inbox.objects.select_for_update().filter(tenant=tenant, pk=inbox_id).first()
        if inbox is None:
            return
        before = inbox.imap_last_error
        if error:
            inbox.imap_last_error, inbox.imap_last_error_at = error[:1000], now
        else:
            inbox.imap_last_error, inbox.imap_last_fetched_at = "", now
        inbox.save(update_fields=["imap_last_error", "imap_last_error_at", "imap_last_fetched_at"])
        if error and error[:1000] != before:
            event_append(
                tenant=tenant,
                type=events.INBOX_FETCH_FAILED,
                subject=inbox,
                actor=actor,
                payload={"inbox_id": inbox.pk, "error": error[:1000]},
            )
        elif before and not error:
            event_append(
                tenant=tenant,
                type=events.INBOX_FETCH_RECOVERED,
                subject=inbox,
                actor=actor,
                payload={"inbox_id": inbox.pk, "previous_error": before},
            )


def imap_config_with(inbox: Inbox, **overrides: str | int | None) -> ImapConfig:
    """The inbox's settings with those given replaced (a connection test of unsaved values);
    None or "" keeps the stored value, so the stored password is used unless one is typed."""
    clean = {key: value for key, value in overrides.items() if value not in (None, "")}
    password = clean.pop("password", None)
    config = ImapConfig(
        host=inbox.imap_host,
        port=inbox.imap_port,
        security=inbox.imap_security,
        username=inbox.imap_username,
        password=str(password) if password else credential_decrypt(inbox.imap_password),
        folder=inbox.imap_folder or "INBOX",
        processed=inbox.imap_processed,
        processed_folder=inbox.imap_processed_folder or "Processed",
    )
    return replace(config, **clean)  # type: ignore[arg-type]
