import pytest

from autocrm.inboxes.parsing import InvalidEmail, parse_email


def test_an_unknown_charset_is_read_as_utf8_then_latin1() -> None:
    raw = (
        b"From: a@customer.test\r\nSubject: x\r\n"
        b"Content-Type: text/plain; charset=x-unknown-charset\r\n\r\ncaf\xc3\xa9 \xff\r\n"
    )
    assert parse_email(raw).text.startswith("caf")


def test_nul_characters_never_reach_the_database() -> None:
    raw = b"From: a@customer.test\r\nSubject: a\x00b\r\n\r\nbody\x00text\r\n"
    parsed = parse_email(raw)
    assert "\x00" not in parsed.subject and "\x00" not in parsed.text


def test_rfc2047_subject_and_sender_name_are_decoded() -> None:
    raw = (
        b"From: =?utf-8?q?Andr=C3=A9?= <andre@customer.test>\r\n"
        b"Subject: =?iso-8859-1?q?R=E9sum=E9?=\r\n\r\nx\r\n"
    )
    parsed = parse_email(raw)
    assert (parsed.subject, parsed.sender_name) == ("Résumé", "André")


def test_html_is_sanitised() -> None:
    raw = (
        b"From: a@customer.test\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n"
        b"<p onclick='x()'>Hi<script>alert(1)</script></p>\r\n"
    )
    parsed = parse_email(raw)
    assert "script" not in parsed.html and "onclick" not in parsed.html
    assert parsed.text == "Hi"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"From: nobody\r\nSubject: no address\r\n\r\nx",
        b"From: a@customer.test\r\nSubject: =?utf-8?q?x=0ABcc:_v@x.test?=\r\n\r\nx",
    ],
)
def test_unimportable_mail_is_refused(raw: bytes) -> None:
    with pytest.raises(InvalidEmail):
        parse_email(raw)
