# Cyrillic, typographic quotes and dashes are the point of the charset cases.
# ruff: noqa: RUF001
"""Write the inbound email corpus: autocrm/inboxes/tests/corpus/*.eml and manifest.json.

    .venv/bin/python scripts/email_corpus.py

Every file is built with the standard library's email package in the shape a real client
or robot produces (Gmail, Outlook, Apple Mail, Thunderbird, mobile clients, mailing lists,
auto-replies, delivery reports; UTF-8, ISO-8859-1, Shift_JIS, KOI8-R; RFC 2047 headers;
no Message-ID; broken headers; forwards; reply chains). The manifest lists them in import
order with the expected outcome: ``new`` ticket, ``thread`` (onto the ticket of the file
named in ``ticket_of``) or ``ignored`` (with its reason), the requester, subject and an
excerpt of the new text (and text that must not be in it: the quoted history). Output is
deterministic, so re-running it changes nothing unless this script changed. The 20 MB
attachment is built by the test itself, never committed.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "autocrm" / "inboxes" / "tests" / "corpus"
INBOX = "support@acme.test"
DATE = "Mon, 02 Mar 2026 10:{:02d}:00 +0000"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

cases: list[tuple[str, bytes, dict[str, Any]]] = []


def msg(
    sender: str,
    subject: str,
    *,
    to: str = INBOX,
    mid: str | None = "auto",
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = DATE.format(len(cases) % 60)
    if mid == "auto":
        mid = f"<corpus-{len(cases) + 1:03d}@mail.customer.test>"
    if mid:
        m["Message-ID"] = mid
    for name, value in (headers or {}).items():
        m[name] = value
    return m


def add(name: str, raw: bytes | EmailMessage, **expect: Any) -> str:
    data = raw.as_bytes(policy=SMTP) if isinstance(raw, EmailMessage) else raw
    file = f"{len(cases) + 1:03d}-{name}.eml"
    cases.append((file, data, expect))
    return file


def mid_of(file: str) -> str:
    return f"<corpus-{int(file[:3]):03d}@mail.customer.test>"


# --- clients, new tickets --------------------------------------------------------------------
PEOPLE = [
    ("Ana Lima", "ana@customer.test"),
    ("Ben Okafor", "ben@customer.test"),
    ("Chloé Martin", "chloe@customer.test"),
]
firsts: dict[str, str] = {}
for name, address in PEOPLE:
    m = msg(f"{name} <{address}>", f"Gmail: cannot log in ({name.split()[0]})")
    m.set_content(f"Hi,\n\nI cannot log in since this morning.\n\nThanks,\n{name}\n")
    m.add_alternative(
        f'<div dir="ltr">Hi,<div><br></div><div>I cannot log in since this morning.</div>'
        f"<div><br></div><div>Thanks,</div><div>{name}</div></div>",
        subtype="html",
    )
    firsts[address] = add(
        "gmail-alternative",
        m,
        outcome="new",
        requester=address,
        subject=f"Gmail: cannot log in ({name.split()[0]})",
        excerpt="I cannot log in since this morning.",
    )

for name, address in PEOPLE:
    m = msg(f'"{name}" <{address}>', "Outlook: invoice question")
    m["X-Mailer"] = "Microsoft Outlook 16.0"
    m["Thread-Index"] = "AQHZxyzAbCdEfGhIjKlMnOpQrStUvW=="
    m.set_content("Hello,\r\n\r\nInvoice 4411 shows the wrong VAT number.\r\n\r\nRegards\r\n")
    m.add_alternative(
        '<html><head><meta name="Generator" content="Microsoft Word 15"></head><body>'
        '<div class="WordSection1"><p class="MsoNormal">Hello,<o:p></o:p></p>'
        '<p class="MsoNormal">Invoice 4411 shows the wrong VAT number.<o:p></o:p></p>'
        "<script>alert(1)</script></div></body></html>",
        subtype="html",
    )
    add(
        "outlook-html",
        m,
        outcome="new",
        requester=address,
        subject="Outlook: invoice question",
        excerpt="Invoice 4411 shows the wrong VAT number.",
    )

for i, (name, address) in enumerate(PEOPLE):
    m = msg(f"{name} <{address}>", f"Apple Mail: screenshot {i}")
    m["X-Mailer"] = "Apple Mail (2.3774.500.171.1.1)"
    m.set_content("The button is grey, see the screenshot.\n\nSent from my iPhone\n")
    m.add_alternative(
        "<html><body><div>The button is grey, see the screenshot.</div>"
        f'<img src="cid:shot{i}@apple"><div>Sent from my iPhone</div></body></html>',
        subtype="html",
    )
    html_part = m.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(PNG, maintype="image", subtype="png", cid=f"<shot{i}@apple>")
    add(
        "apple-inline-image",
        m,
        outcome="new",
        requester=address,
        subject=f"Apple Mail: screenshot {i}",
        excerpt="The button is grey, see the screenshot.",
        not_in="Sent from my iPhone",
        attachments=1,
    )

for i, (name, address) in enumerate(PEOPLE):
    m = msg(f"{name} <{address}>", f"Thunderbird: export fails {i}")
    m["User-Agent"] = "Mozilla Thunderbird 128.3"
    m.set_content(
        "The CSV export stops at row 1000.\n\n-- \n" + name + "\nACME Customer Corp\n",
        params={"format": "flowed"},
    )
    m.add_attachment(PDF, maintype="application", subtype="pdf", filename=f"export-{i}.pdf")
    add(
        "thunderbird-signature-pdf",
        m,
        outcome="new",
        requester=address,
        subject=f"Thunderbird: export fails {i}",
        excerpt="The CSV export stops at row 1000.",
        not_in="ACME Customer Corp",
        attachments=1,
    )

# --- charsets ----------------------------------------------------------------------------------
CHARSETS = [
    ("iso-8859-1", "Réclamation: colis endommagé", "Le colis est arrivé endommagé, ça ne va pas."),
    (
        "iso-8859-1",
        "Änderung der Lieferadresse",
        "Bitte ändern Sie die Lieferadresse für Straße 5.",
    ),
    ("shift_jis", "注文のキャンセル", "注文番号１２３をキャンセルしてください。"),
    ("shift_jis", "パスワードを忘れました", "パスワードを再設定できません。"),
    ("koi8-r", "Не работает вход", "Я не могу войти в систему с утра."),
    ("koi8-r", "Вопрос по счёту", "В счёте указана неверная сумма."),
    ("iso-2022-jp", "請求書について", "請求書の金額が違います。"),
    ("windows-1252", "Refund – “urgent”", "I’d like a refund — the item never arrived."),
    ("utf-8", "Ошибка 😱 в приложении", "Приложение падает при запуске 😱."),
]
for i, (charset, subject, body) in enumerate(CHARSETS):
    address = f"intl{i}@customer.test"
    m = msg(f"Intl Sender {i} <{address}>", subject)
    m.set_content(body + "\n", charset=charset, cte="base64" if i % 2 else "quoted-printable")
    del m["Subject"]
    m["Subject"] = subject  # RFC 2047 encoded words on output
    add(
        f"charset-{charset}",
        m,
        outcome="new",
        requester=address,
        subject=subject,
        excerpt=body,
    )

# Raw 8-bit Latin-1 header and body with no declared charset: read anyway, never an error.
add(
    "undeclared-latin1",
    b"From: Mallory Legacy <legacy@customer.test>\r\nTo: support@acme.test\r\n"
    b"Subject: Caf\xe9 menu\r\nMessage-ID: <legacy-1@old.customer.test>\r\n"
    b"Content-Type: text/plain\r\n\r\nThe caf\xe9 menu page is blank.\r\n",
    outcome="new",
    requester="legacy@customer.test",
    subject="Caf\ufffd menu",
    excerpt="menu page is blank.",
)

# --- broken and unusual headers ----------------------------------------------------------------
m = msg("Nomid Sender <nomid@customer.test>", "No Message-ID here", mid=None)
m.set_content("This client sends no Message-ID.\n")
add(
    "no-message-id",
    m,
    outcome="new",
    requester="nomid@customer.test",
    subject="No Message-ID here",
    excerpt="This client sends no Message-ID.",
)
add(
    "malformed-date-and-to",
    b"From: broken@customer.test\r\nTo: undisclosed-recipients:;\r\nDate: yesterday-ish\r\n"
    b"Subject: Broken headers\r\nMessage-ID: <broken-1@customer.test>\r\n"
    b"X-Garbage: \x00\r\n\r\nDate and To are broken but the mail is fine.\r\n",
    outcome="new",
    requester="broken@customer.test",
    subject="Broken headers",
    excerpt="Date and To are broken but the mail is fine.",
)
add(
    "multipart-without-boundary",
    b"From: Nob <noboundary@customer.test>\r\nTo: support@acme.test\r\n"
    b"Subject: Missing boundary\r\nMessage-ID: <nob-1@customer.test>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
    b"Text where parts should be.\r\n",
    outcome="new",
    requester="noboundary@customer.test",
    subject="Missing boundary",
    excerpt="Text where parts should be.",
)
add(
    "no-subject",
    b"From: quiet@customer.test\r\nTo: support@acme.test\r\n"
    b"Message-ID: <nosubj-1@customer.test>\r\n\r\nNo subject line at all.\r\n",
    outcome="new",
    requester="quiet@customer.test",
    subject="(no subject)",
    excerpt="No subject line at all.",
)
m = msg("=?utf-8?b?SsO8cmdlbiBNw7xsbGVy?= <juergen@customer.test>", "Encoded sender name")
m.set_content("My name is encoded in the From header.\n")
add(
    "encoded-sender-name",
    m,
    outcome="new",
    requester="juergen@customer.test",
    subject="Encoded sender name",
    excerpt="My name is encoded in the From header.",
)
m = msg("Html Only <htmlonly@customer.test>", "HTML only")
m.set_content(
    "<html><body><p>Only <b>HTML</b> here.</p><p>Second line.</p></body></html>", subtype="html"
)
add(
    "html-only",
    m,
    outcome="new",
    requester="htmlonly@customer.test",
    subject="HTML only",
    excerpt="Only HTML here.",
)

# --- forwards, invitations, lists, collaborators -----------------------------------------------
m = msg("Fwd Sender <fwd@customer.test>", "Fwd: order confirmation")
m.set_content(
    "Please check the order below, the price is wrong.\n\n"
    "---------- Forwarded message ---------\nFrom: Shop <shop@store.test>\n"
    "Date: Sun, 1 Mar 2026\nSubject: order confirmation\nTo: fwd@customer.test\n\n"
    "Your order 991 costs 120 EUR.\n"
)
add(
    "forwarded-inline",
    m,
    outcome="new",
    requester="fwd@customer.test",
    subject="Fwd: order confirmation",
    excerpt="Please check the order below, the price is wrong.",
)
inner = msg(
    "Shop <shop@store.test>", "Your receipt", to="fwd2@customer.test", mid="<r-1@store.test>"
)
inner.set_content("Receipt 77: 3 items.\n")
m = msg("Fwd Two <fwd2@customer.test>", "Fwd: Your receipt")
m.set_content("Forwarding the receipt as an attachment.\n")
m.add_attachment(inner)
add(
    "forwarded-as-attachment",
    m,
    outcome="new",
    requester="fwd2@customer.test",
    subject="Fwd: Your receipt",
    excerpt="Forwarding the receipt as an attachment.",
    attachments=1,
)
m = msg("Invite Sender <invite@customer.test>", "Invitation: onboarding call")
m.set_content("Here is an invite for the onboarding call.\n")
m.add_attachment(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Onboarding\r\n"
    "DTSTART:20260310T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    subtype="calendar",
    filename="invite.ics",
)
add(
    "calendar-invite",
    m,
    outcome="new",
    requester="invite@customer.test",
    subject="Invitation: onboarding call",
    excerpt="Here is an invite for the onboarding call.",
    attachments=1,
)
m = msg(
    "List Member <member@lists.customer.test>",
    "[users] How do I reset 2FA?",
    headers={
        "List-Id": "Users <users.lists.customer.test>",
        "List-Unsubscribe": "<mailto:leave@lists.customer.test>",
        "Precedence": "list",
    },
)
m.set_content("How do I reset two-factor authentication for a user?\n")
add(
    "mailing-list",
    m,
    outcome="new",
    requester="member@lists.customer.test",
    subject="[users] How do I reset 2FA?",
    excerpt="How do I reset two-factor authentication for a user?",
)
m = msg(
    "Team Lead <lead@customer.test>",
    "Cc: outage in region EU",
    to=f"{INBOX}, Ops <ops@customer.test>",
    headers={"Cc": "Dana <dana@customer.test>, Eli <eli@customer.test>"},
)
m.set_content("The EU region is down for our whole team.\n")
cc_first = add(
    "with-cc",
    m,
    outcome="new",
    requester="lead@customer.test",
    subject="Cc: outage in region EU",
    excerpt="The EU region is down for our whole team.",
    collaborators=["dana@customer.test", "eli@customer.test", "ops@customer.test"],
)
m = msg("Alias User <alias@customer.test>", "Sent to the alias", to="help@acme.test")
m.set_content("I wrote to your help address.\n")
add(
    "to-alias",
    m,
    outcome="new",
    requester="alias@customer.test",
    subject="Sent to the alias",
    excerpt="I wrote to your help address.",
)
m = msg("Mobile User <mobile@customer.test>", "App crash")
m.set_content("The app crashes when I open settings.\n\nSent from my Android\n")
add(
    "mobile-footer",
    m,
    outcome="new",
    requester="mobile@customer.test",
    subject="App crash",
    excerpt="The app crashes when I open settings.",
    not_in="Sent from my Android",
)

# --- replies and reply chains ------------------------------------------------------------------
ana = firsts["ana@customer.test"]
ben = firsts["ben@customer.test"]
chloe = firsts["chloe@customer.test"]
m = msg("Ana Lima <ana@customer.test>", "Re: Gmail: cannot log in (Ana)")
m["In-Reply-To"] = mid_of(ana)
m["References"] = mid_of(ana)
m.set_content(
    "It works again after clearing cookies.\n\nOn Mon, 2 Mar 2026 at 10:00, Ana Lima "
    "<ana@customer.test> wrote:\n> Hi,\n>\n> I cannot log in since this morning.\n"
)
reply1 = add(
    "gmail-reply",
    m,
    outcome="thread",
    ticket_of=ana,
    rule="in_reply_to",
    excerpt="It works again after clearing cookies.",
    not_in="I cannot log in since this morning.",
)
m = msg("Ana Lima <ana@customer.test>", "Re: Re: Gmail: cannot log in (Ana)")
m["References"] = f"{mid_of(ana)} {mid_of(reply1)}"
m.set_content(
    "Actually it broke again.\n\nOn Mon, 2 Mar 2026 at 10:05, Ana Lima <ana@customer.test>\n"
    "wrote:\n> It works again after clearing cookies.\n"
)
reply2 = add(
    "reply-chain-references-only",
    m,
    outcome="thread",
    ticket_of=ana,
    rule="references",
    excerpt="Actually it broke again.",
    not_in="clearing cookies",
)
m = msg("Ana Lima <ana@customer.test>", "Re: Re: Re: Gmail: cannot log in (Ana)")
m["In-Reply-To"] = mid_of(reply2)
m["References"] = f"{mid_of(ana)} {mid_of(reply1)} {mid_of(reply2)}"
m.set_content("Third message in the chain.\n\n> Actually it broke again.\n> \n")
add(
    "reply-chain-third",
    m,
    outcome="thread",
    ticket_of=ana,
    rule="in_reply_to",
    excerpt="Third message in the chain.",
    not_in="Actually it broke again.",
)
m = msg('"Ben Okafor" <ben@customer.test>', "RE: Gmail: cannot log in (Ben)")
m["In-Reply-To"] = mid_of(ben)
m.set_content(
    "Thanks, solved.\r\n\r\n________________________________\r\nFrom: Ben Okafor "
    "<ben@customer.test>\r\nSent: Monday, March 2, 2026 10:01 AM\r\nTo: support@acme.test\r\n"
    "Subject: Gmail: cannot log in (Ben)\r\n\r\nI cannot log in since this morning.\r\n"
)
add(
    "outlook-reply",
    m,
    outcome="thread",
    ticket_of=ben,
    rule="in_reply_to",
    excerpt="Thanks, solved.",
    not_in="I cannot log in since this morning.",
)
m = msg("Chloé Martin <chloe@customer.test>", "Re: Gmail: cannot log in (Chloé)")
m["In-Reply-To"] = mid_of(chloe)
m.set_content(
    "Merci, tout fonctionne.\n\nLe lun. 2 mars 2026 à 10:02, Chloé Martin "
    "<chloe@customer.test> a écrit :\n> I cannot log in since this morning.\n"
)
add(
    "french-reply",
    m,
    outcome="thread",
    ticket_of=chloe,
    rule="in_reply_to",
    excerpt="Merci, tout fonctionne.",
    not_in="I cannot log in since this morning.",
)
m = msg("Ben Okafor <ben@customer.test>", "AW: Gmail: cannot log in (Ben)")
m["In-Reply-To"] = mid_of(ben)
m.set_content(
    "Es geht wieder, danke.\n\nAm 02.03.2026 um 10:01 schrieb Ben Okafor <ben@customer.test>:\n"
    "> I cannot log in since this morning.\n"
)
add(
    "german-reply",
    m,
    outcome="thread",
    ticket_of=ben,
    rule="in_reply_to",
    excerpt="Es geht wieder, danke.",
    not_in="I cannot log in since this morning.",
)
m = msg("Ana Lima <ana@customer.test>", "Re: login [#1]")
m.set_content("Replying with only the ticket number in the subject.\n")
add(
    "subject-token",
    m,
    outcome="thread",
    ticket_of=ana,
    rule="subject_token",
    excerpt="Replying with only the ticket number in the subject.",
)
m = msg("Ana Lima <ana@customer.test>", "no token here", to="support+1@acme.test")
m.set_content("Sent to the plus address of ticket 1.\n")
add(
    "plus-address",
    m,
    outcome="thread",
    ticket_of=ana,
    rule="plus_address",
    excerpt="Sent to the plus address of ticket 1.",
)
m = msg("Stranger <stranger@elsewhere.test>", "Re: [#1] let me in")
m.set_content("I am not on ticket 1 but I quote its number.\n")
add(
    "subject-token-stranger",
    m,
    outcome="new",
    requester="stranger@elsewhere.test",
    subject="Re: [#1] let me in",
    excerpt="I am not on ticket 1 but I quote its number.",
)
m = msg("Dana <dana@customer.test>", "Re: Cc: outage in region EU")
m["In-Reply-To"] = mid_of(cc_first)
m.set_content("Same here, since 9:00.\n\n> The EU region is down for our whole team.\n")
add(
    "collaborator-reply",
    m,
    outcome="thread",
    ticket_of=cc_first,
    rule="in_reply_to",
    excerpt="Same here, since 9:00.",
    author="dana@customer.test",
)
m = msg("Unknown Thread <unknown@customer.test>", "Re: something old")
m["In-Reply-To"] = "<never-seen@elsewhere.test>"
m.set_content("Reply to a message this helpdesk never saw.\n")
add(
    "reply-to-unknown-message",
    m,
    outcome="new",
    requester="unknown@customer.test",
    subject="Re: something old",
    excerpt="Reply to a message this helpdesk never saw.",
)
m = msg("Nested Quote <nested@customer.test>", "Quoted only")
m.set_content("> > everything here is quoted\n> and nothing new\n")
add(
    "only-quoted-text",
    m,
    outcome="new",
    requester="nested@customer.test",
    subject="Quoted only",
    excerpt="everything here is quoted",
)

# --- robots ------------------------------------------------------------------------------------
ROBOTS = [
    ("ooo-auto-submitted", {"Auto-Submitted": "auto-replied"}, "ana@customer.test", "auto_reply"),
    ("auto-generated", {"Auto-Submitted": "auto-generated"}, "alerts@monitor.test", "auto_reply"),
    ("x-autoreply", {"X-Autoreply": "yes"}, "ben@customer.test", "auto_reply"),
    ("x-autorespond", {"X-Autorespond": "Vacation"}, "chloe@customer.test", "auto_reply"),
    ("exchange-oof", {"X-Auto-Response-Suppress": "All"}, "oof@customer.test", "auto_reply"),
    ("precedence-bulk", {"Precedence": "bulk"}, "news@shop.test", "bulk"),
    ("precedence-junk", {"Precedence": "junk"}, "spam@shop.test", "bulk"),
    ("mailer-daemon", {}, "MAILER-DAEMON@mx.customer.test", "bounce"),
    ("postmaster", {}, "postmaster@customer.test", "bounce"),
    ("own-address-loop", {}, INBOX, "loop"),
    ("own-alias-loop", {}, "help@acme.test", "loop"),
]
for name, headers, sender, reason in ROBOTS:
    m = msg(f"Robot <{sender}>", f"Automatic: {name}", headers=headers)
    m.set_content("I am away until Monday.\n")
    add(name, m, outcome="ignored", reason=reason)

dsn = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>\r\nTo: support@acme.test\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.customer.test>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
    b'boundary="dsn"\r\n\r\n--dsn\r\nContent-Type: text/plain\r\n\r\n'
    b"This is the mail system. Your message could not be delivered.\r\n"
    b"--dsn\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.customer.test\r\n\r\nFinal-Recipient: rfc822; gone@customer.test\r\n"
    b"Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 unknown\r\n"
    b"--dsn\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    b"Message-ID: <autocrm.1.1.abc@acme.test>\r\n--dsn--\r\n"
)
add("bounce-dsn", dsn, outcome="ignored", reason="bounce")

# --- duplicates: the same mail again is the same message -----------------------------------------
add(
    "duplicate-of-first",
    next(data for file, data, _ in cases if file == ana),
    outcome="duplicate",
    ticket_of=ana,
)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.eml"):
        old.unlink()
    manifest = []
    for file, data, expect in cases:
        (OUT / file).write_bytes(data)
        manifest.append({"file": file, **expect})
    (OUT / "manifest.json").write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"{len(cases)} messages in {OUT}")


if __name__ == "__main__":
    main()
