from __future__ import annotations

import socket
from typing import Any

import pytest

from autocrm.notifications.targets import UnsafeTarget, resolve_target

REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://localhost/hook",
    "http://LocalHost/hook",
    f"http://{socket.gethostname()}/hook",  # the machine's own name resolves to itself
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",  # shared address space (CGNAT)
    "http://169.254.169.254/latest/meta-data",  # cloud metadata, link-local
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://[::ffff:10.0.0.1]/hook",  # IPv4-mapped private
    "http://[2002:a00:1::1]/hook",  # 6to4 around 10.0.0.1
    "http://[64:ff9b::a00:1]/hook",  # NAT64 around 10.0.0.1
    "http://2130706433/hook",  # 127.0.0.1 as one number
    "http://0x7f.1/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_and_special_addresses_are_refused(url: str, settings: Any) -> None:
    settings.ALLOW_PRIVATE_WEBHOOK_TARGETS = False
    with pytest.raises(UnsafeTarget, match="Refused"):
        resolve_target(url)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://93.184.215.14/x",
        "file:///etc/passwd",
        "gopher://93.184.215.14/",
        "http:///nohost",
        "http://user:pw@93.184.215.14/",
        "http://[::1/",
    ],
)
def test_bad_schemes_and_shapes_are_refused_even_when_private_targets_are_allowed(
    url: str, settings: Any
) -> None:
    settings.ALLOW_PRIVATE_WEBHOOK_TARGETS = True
    with pytest.raises(UnsafeTarget):
        resolve_target(url)


@pytest.mark.parametrize("url", ["http://93.184.215.14/hook?x=1", "https://[2606:4700::1111]/h"])
def test_public_addresses_are_allowed(url: str, settings: Any) -> None:
    settings.ALLOW_PRIVATE_WEBHOOK_TARGETS = False
    target = resolve_target(url)
    assert target.addresses and target.path.startswith("/h")


def test_the_setting_allows_private_targets(settings: Any) -> None:
    settings.ALLOW_PRIVATE_WEBHOOK_TARGETS = True
    target = resolve_target("http://localhost:8080/hook")
    assert target.port == 8080 and "127.0.0.1" in target.addresses
