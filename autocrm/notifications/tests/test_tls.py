"""HTTPS delivery: the connection is pinned to the vetted IP, yet TLS still verifies the
certificate against the URL's host name (SNI + hostname check), with a real TLS server."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from autocrm.notifications import transport


def _self_signed(tmp: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / f"{name}.pem", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _tls_server(cert: Path, key: Path) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def localhost_cert(tmp_path: Path) -> tuple[Path, Path]:
    return _self_signed(tmp_path, "localhost")


@pytest.fixture
def tls_port(localhost_cert: tuple[Path, Path]) -> Iterator[int]:
    yield from _tls_server(*localhost_cert)


def test_https_to_a_trusted_certificate_for_the_url_host_succeeds(
    tls_port: int,
    localhost_cert: tuple[Path, Path],
    allow_private: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The receiver's CA is trusted the way an operator would: SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(localhost_cert[0]))
    result = transport.post(f"https://localhost:{tls_port}/h", body=b"{}", headers={})
    assert result.ok and result.status == 204, result.error


def test_https_refuses_an_untrusted_certificate(tls_port: int, allow_private: Any) -> None:
    result = transport.post(f"https://localhost:{tls_port}/h", body=b"{}", headers={})
    assert not result.ok and result.status is None
    assert "CERTIFICATE_VERIFY_FAILED" in result.error


def test_https_checks_the_url_host_not_the_pinned_address(
    tls_port: int,
    localhost_cert: tuple[Path, Path],
    allow_private: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(localhost_cert[0]))
    # Same server and trusted certificate, but it names "localhost", not "127.0.0.1".
    result = transport.post(f"https://127.0.0.1:{tls_port}/h", body=b"{}", headers={})
    assert not result.ok and "CERTIFICATE_VERIFY_FAILED" in result.error
