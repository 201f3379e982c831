"""What the image fetch no longer pays per request, and that skipping it keeps every check: one TLS context per
trust configuration, and no DNS lookup for an address literal."""
from __future__ import annotations

import socket
import ssl

import pytest

from classifier import image_fetch
from classifier.request_errors import BlockedAddressError


def test_the_tls_context_is_made_once_per_trust_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    first = image_fetch.tls_context()
    assert image_fetch.tls_context() is first
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname
    # Another CA bundle is another trust decision: a context of its own, not the cached one.
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "bundle.pem"))
    assert image_fetch.tls_context() is not first


def test_an_address_literal_is_checked_without_a_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lookup(*args, **kwargs):
        raise AssertionError(f"getaddrinfo{args} called for an address literal")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    with pytest.raises(BlockedAddressError, match="metadata"):
        image_fetch.fetch_image("https://169.254.169.254/latest/meta-data/")
    with pytest.raises(BlockedAddressError):
        image_fetch.fetch_image("https://[::ffff:10.0.0.1]/dog.jpg")


def test_a_number_only_getaddrinfo_reads_is_still_resolved_and_refused() -> None:
    # 169.254.169.254 as one decimal number: not an address literal to ipaddress, so it goes through the lookup.
    with pytest.raises(BlockedAddressError, match="metadata"):
        image_fetch.fetch_image("https://2852039166/")
