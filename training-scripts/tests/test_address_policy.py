"""The address policy (classifier/address_policy.json) as the endpoint's fetcher applies it: the shared table of
addresses and URL host spellings that the Lambda's test reads too, and properties over generated addresses."""
from __future__ import annotations

import ipaddress
import json
import socket
from pathlib import Path
from typing import Any, Dict, List
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from classifier import image_fetch
from classifier.request_errors import BlockedAddressError

CASES = json.loads((Path(__file__).parent / "address_cases.json").read_text(encoding="utf-8"))


def _id(case: Dict[str, Any]) -> str:
    return case.get("address") or case["host"]


def _check(address: str, local: bool) -> None:
    allowed = image_fetch.PRIVATE_NETWORKS if local else ()
    image_fetch.check_address(ipaddress.ip_address(address), allowed, "https://example.test/dog.jpg")


def _expect(case: Dict[str, Any], address: str, local: bool) -> None:
    verdict = case.get("local", case["verdict"]) if local else case["verdict"]
    if verdict == "allow":
        _check(address, local)
        return
    with pytest.raises(BlockedAddressError) as refused:
        _check(address, local)
    assert case["because"] in str(refused.value), str(refused.value)


@pytest.mark.parametrize("local", [False, True], ids=["default", "local-switch"])
@pytest.mark.parametrize("case", CASES["addresses"], ids=_id)
def test_shared_address_table(case: Dict[str, Any], local: bool) -> None:
    _expect(case, case["address"], local)


def _resolve_numeric(host: str) -> List[str]:
    """What the fetcher's getaddrinfo makes of a URL's host spelling, without any DNS query."""
    hostname = urlsplit(f"https://{host}/dog.jpg").hostname
    assert hostname
    infos = socket.getaddrinfo(hostname, 443, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    return [str(info[4][0]) for info in infos]


@pytest.mark.parametrize("case", CASES["hosts"], ids=_id)
def test_shared_host_spelling_table(case: Dict[str, Any]) -> None:
    for address in _resolve_numeric(case["host"]):
        _expect(case, address, local=False)


# --- properties ----------------------------------------------------------------------------------------

def _non_global_ipv4(value: int) -> bool:
    return image_fetch.address_refusal(ipaddress.IPv4Address(value)) is not None


ipv4_values = st.integers(min_value=0, max_value=2**32 - 1)
refused_ipv4 = st.one_of(
    *[st.integers(min_value=int(network.network_address), max_value=int(network.broadcast_address))
      for network, _ in image_fetch.IPV4_NON_GLOBAL]
)
allowed_ipv4 = ipv4_values.filter(lambda value: not _non_global_ipv4(value))


def _embeddings(ipv4: int) -> List[int]:
    """The IPv6 addresses that carry `ipv4` (as the only or the deciding IPv4 address)."""
    global_v4 = int(ipaddress.IPv4Address("8.8.8.8"))
    return [
        0xFFFF << 32 | ipv4,                                      # IPv4-mapped
        0x64FF9B << 96 | ipv4,                                    # NAT64 well-known prefix
        0x2002 << 112 | ipv4 << 80 | 0x1,                         # 6to4
        0x20010000 << 96 | ipv4 << 64 | (~global_v4 & 0xFFFFFFFF),  # Teredo, server = ipv4
        0x20010000 << 96 | global_v4 << 64 | (~ipv4 & 0xFFFFFFFF),  # Teredo, client = ipv4
    ]


def _spellings(value: int) -> List[str]:
    address = ipaddress.IPv6Address(value)
    low = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    compressed = str(address)
    return [compressed, address.exploded, compressed.upper(), f"{address.exploded.rsplit(':', 2)[0]}:{low}", f"{compressed}%eth0"]


@given(refused_ipv4)
def test_an_ipv6_address_carrying_a_refused_ipv4_is_refused_in_every_spelling(ipv4: int) -> None:
    for value in _embeddings(ipv4):
        for spelling in _spellings(value):
            assert image_fetch.address_refusal(ipaddress.ip_address(spelling)) is not None, spelling


@given(allowed_ipv4)
def test_an_ipv6_address_carrying_an_allowed_ipv4_is_judged_by_it(ipv4: int) -> None:
    for value in _embeddings(ipv4):
        assert image_fetch.address_refusal(ipaddress.IPv6Address(value)) is None, ipaddress.IPv6Address(value)


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_nothing_outside_global_unicast_is_allowed_unless_it_carries_ipv4(value: int) -> None:
    address = ipaddress.IPv6Address(value)
    if image_fetch.address_refusal(address) is None and image_fetch.embedded_ipv4(address) is None:
        assert address in image_fetch.IPV6_GLOBAL_UNICAST
        # The standard library (an independent table) agrees that what we allow is global.
        assert address.is_global, address


@given(ipv4_values)
def test_what_the_policy_allows_in_ipv4_the_standard_library_calls_global(value: int) -> None:
    address = ipaddress.IPv4Address(value)
    if image_fetch.address_refusal(address) is None:
        assert address.is_global and not address.is_multicast, address


refused_ipv6 = st.one_of(
    refused_ipv4.flatmap(lambda ipv4: st.sampled_from(_embeddings(ipv4))),
    # A non-global block can contain an embedding block (Teredo inside 2001::/23), judged by what it carries.
    st.one_of(*[st.integers(min_value=int(network.network_address), max_value=int(network.broadcast_address))
                for network, _ in image_fetch.IPV6_NON_GLOBAL]).filter(
        lambda value: image_fetch.embedded_ipv4(ipaddress.IPv6Address(value)) is None),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=st.one_of(refused_ipv4.map(lambda value: str(ipaddress.IPv4Address(value))),
                        refused_ipv6.flatmap(lambda value: st.sampled_from(_spellings(value)))))
def test_a_name_whose_dns_answers_include_a_refused_address_is_never_connected_to(
        monkeypatch: pytest.MonkeyPatch, answer: str) -> None:
    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list:
        family = socket.AF_INET6 if ":" in answer else socket.AF_INET
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (family, socket.SOCK_STREAM, 6, "", (answer, port))]

    def connect(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"connected although {answer} was among the answers")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(socket, "create_connection", connect)
    with pytest.raises(BlockedAddressError, match="refusing to fetch https://images.test/dog.jpg"):
        image_fetch.fetch_image("https://images.test/dog.jpg?X-Amz-Signature=0123456789abcdef", allowed_networks=())


url_hosts = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A[a-z0-9.-]{1,30}\Z"),
    refused_ipv4.map(lambda value: str(ipaddress.IPv4Address(value))),
    refused_ipv6.map(lambda value: f"[{ipaddress.IPv6Address(value)}]"),
)
urls = st.one_of(
    st.text(max_size=80),
    st.builds(lambda scheme, user, host, port, path: f"{scheme}://{user}{host}{port}/{path}",
              st.sampled_from(["https", "HTTPS", "http", "ftp", "file", ""]),
              st.sampled_from(["", "user@", "user:pw@", "@"]),
              url_hosts,
              st.sampled_from(["", ":443", ":0", ":99999", ":-1", ":x", ":\u0663"]),
              st.text(max_size=30)),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url=urls)
def test_fetch_image_refuses_any_url_with_a_client_error_and_connects_to_nothing(
        monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list:
        host.encode("idna")  # what the real getaddrinfo does first: a bad name raises UnicodeError
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", 443))]

    def connect(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"connected for {url!r}")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(socket, "create_connection", connect)
    with pytest.raises(image_fetch.ImageFetchError):
        image_fetch.fetch_image(url, allowed_networks=(), timeout=2.0)
