"""Fetching an image from a caller's URL: the one place a caller makes the endpoint open a connection.

`fetch_image` treats the URL as hostile: https only; the host is resolved once, every address checked, and the
connection made to that checked address (no second lookup to rebind); only global unicast addresses are allowed,
as address_policy.json defines them (the Lambda reads the same file), an IPv6 address carrying an IPv4 address
(IPv4-mapped, NAT64, 6to4, Teredo) judged by that IPv4 address, the instance metadata addresses refused above
all; each redirect is re-checked the same way, at most MAX_REDIRECTS of them; one deadline covers the whole
fetch; bodies stop at MAX_IMAGE_BYTES; the response must declare image/jpeg or image/png. Proxy environment
variables are not consulted. Messages name the URL without its query string (classifier.redact).

Local testing: IMAGE_FETCH_ALLOW_PRIVATE=true allows loopback and private networks (address_policy.json's
localNetworks: 127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7), directly or IPv4-mapped,
and, for those addresses only, plain http, so a test server on http://127.0.0.1 works. Link-local addresses,
the metadata service among them, stay refused. Never set it on an endpoint.
"""
from __future__ import annotations

import functools
import http.client
import ipaddress
import json
import os
import socket
import ssl
import threading
import time
from typing import List, Optional, Sequence, Tuple, Union
from urllib.parse import urljoin, urlsplit

from .contract import MAX_URL_LENGTH
from .request_errors import BlockedAddressError, ImageFetchError, ImageTooLargeError, InvalidRequestError

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 3
FETCH_TIMEOUT_SECONDS = 10.0
ALLOW_PRIVATE_ENV = "IMAGE_FETCH_ALLOW_PRIVATE"
# The formats the API decodes; anything else is refused before its body is read.
FETCHED_IMAGE_TYPES = ("image/jpeg", "image/png")

IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "address_policy.json"), encoding="utf-8") as _handle:
    ADDRESS_POLICY = json.load(_handle)


def _blocks(key: str) -> Tuple[Tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(block["network"]), block["kind"]) for block in ADDRESS_POLICY[key])


IPV4_NON_GLOBAL = _blocks("ipv4NonGlobal")
IPV6_NON_GLOBAL = _blocks("ipv6NonGlobal")
IPV6_EMBEDDING_IPV4 = tuple(
    (ipaddress.ip_network(block["network"]), block["kind"], tuple(block["ipv4"])) for block in ADDRESS_POLICY["ipv6EmbeddingIPv4"]
)
IPV6_GLOBAL_UNICAST = ipaddress.ip_network(ADDRESS_POLICY["ipv6GlobalUnicast"])
# EC2 instance metadata (IPv4 and IPv6) and the ECS task metadata endpoint.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(address) for address in ADDRESS_POLICY["metadataAddresses"])
PRIVATE_NETWORKS: Tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(network) for network in ADDRESS_POLICY["localNetworks"]["networks"]
)

# Where an embedding block keeps its IPv4 address(es) within the 128 bits (see address_policy.json).
_IPV4_FIELDS = {
    "low32": lambda bits: bits & 0xFFFFFFFF,
    "bits16to47": lambda bits: (bits >> 80) & 0xFFFFFFFF,
    "bits32to63": lambda bits: (bits >> 64) & 0xFFFFFFFF,
    "low32inverted": lambda bits: ~bits & 0xFFFFFFFF,
}


def allowed_networks_from_env() -> Tuple[IPNetwork, ...]:
    return PRIVATE_NETWORKS if os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() == "true" else ()


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def embedded_ipv4(address: IPAddress) -> Optional[Tuple[str, List[ipaddress.IPv4Address]]]:
    """(embedding kind, the IPv4 addresses carried) for an IPv6 address of an embedding block, else None."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    for network, kind, fields in IPV6_EMBEDDING_IPV4:
        if address in network:
            return kind, [ipaddress.IPv4Address(_IPV4_FIELDS[field](int(address))) for field in fields]
    return None


def _ipv4_refusal(address: ipaddress.IPv4Address) -> Optional[str]:
    if address in METADATA_ADDRESSES:
        return f"{address} is the instance metadata address"
    for network, kind in IPV4_NON_GLOBAL:
        if address in network:
            return f"{address} is {kind} ({network})"
    return None


def address_refusal(address: IPAddress) -> Optional[str]:
    """Why `address` may not be fetched from under address_policy.json, or None when it is global unicast."""
    if isinstance(address, ipaddress.IPv4Address):
        return _ipv4_refusal(address)
    # A scope ("fe80::1%eth0") does not change which block an address is in.
    address = ipaddress.IPv6Address(int(address))
    embedding = embedded_ipv4(address)
    if embedding is not None:
        kind, carried = embedding
        for ipv4 in carried:
            reason = _ipv4_refusal(ipv4)
            if reason is not None:
                return f"{address} is {kind} and carries {ipv4}: {reason}"
        return None
    if address in METADATA_ADDRESSES:
        return f"{address} is the instance metadata address"
    for network, kind in IPV6_NON_GLOBAL:
        if address in network:
            return f"{address} is {kind} ({network})"
    if address not in IPV6_GLOBAL_UNICAST:
        return f"{address} is not a global unicast address (outside {IPV6_GLOBAL_UNICAST})"
    return None


def _carries_metadata_address(address: IPAddress) -> bool:
    embedding = embedded_ipv4(address)
    carried = embedding[1] if embedding else []
    return any(candidate in METADATA_ADDRESSES for candidate in [address, *carried])


def check_address(address: IPAddress, allowed_networks: Sequence[IPNetwork], url: str) -> None:
    """Raises BlockedAddressError unless `address` is global unicast or inside an explicitly allowed network.

    The allowed networks (the local-testing switch) admit a local address itself or IPv4-mapped, never one reached
    through a translator (NAT64, 6to4, Teredo), and never the metadata service.
    """
    if not _carries_metadata_address(address) and any(_unmapped(address) in network for network in allowed_networks):
        return
    reason = address_refusal(address)
    if reason is not None:
        raise BlockedAddressError(f"refusing to fetch {url}: {reason}")


class _Deadline:
    """One deadline for a whole fetch: DNS, connect, TLS handshake, headers and body of every redirect hop.

    A socket timeout bounds each recv, not the response, so a server sending one byte just inside it could hold
    a fetch open indefinitely. At the deadline a timer thread shuts down the socket currently in use, which
    fails whatever read or handshake is blocked on it; `expired` then tells that failure apart from others.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.at = time.monotonic() + timeout
        self.expired = False
        self._sock: Optional[socket.socket] = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self, url: str) -> float:
        left = self.at - time.monotonic()
        if left <= 0 or self.expired:
            raise self.error(url)
        return left

    def error(self, url: str) -> ImageFetchError:
        return ImageFetchError(f"fetching {url} timed out: no complete response within {self.timeout:g} s")

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.expired:
                self._shutdown()

    def unwatch(self) -> None:
        # Under the lock, so the timer never shuts down a socket that is being closed (its fd could be reused).
        with self._lock:
            self._sock = None

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is None:
            return
        try:
            # socket.socket's own shutdown, not SSLSocket's, which would also drop the TLS state another thread
            # is using; shutting down the descriptor is enough to wake that thread.
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the peer


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an already checked address while the Host header keeps the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float, deadline: _Deadline) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._deadline = deadline

    def connect(self) -> None:
        # The connect itself is bounded by the socket timeout (what was left of the deadline); from here on,
        # by the deadline's timer.
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self._deadline.watch(self.sock)


@functools.lru_cache(maxsize=4)
def _tls_context_for(ca_file: Optional[str], ca_dir: Optional[str]) -> ssl.SSLContext:
    return ssl.create_default_context()


def tls_context() -> ssl.SSLContext:
    """The default context (certificates and host names verified), made once per trust configuration: loading
    the system CA bundle costs milliseconds, every connection. An SSLContext is safe to share across threads."""
    return _tls_context_for(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As _PinnedHTTPConnection, with certificate and SNI checked against the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float, deadline: _Deadline) -> None:
        super().__init__(host, port, timeout=timeout, context=tls_context())
        self._address = address
        self._deadline = deadline

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Handshake after the TLS socket is watched, so the deadline covers it too.
        tls = self._context.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
        self.sock = tls
        self._deadline.watch(tls)
        tls.do_handshake()


def _resolve(host: str, port: int, url: str, deadline: _Deadline) -> List[IPAddress]:
    """getaddrinfo cannot be interrupted, so it runs on its own thread and the fetch stops waiting at the deadline."""
    if "%" not in host:
        try:
            # An address literal needs no lookup, nor a thread to bound one; it is checked like any other.
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass  # a name, or a form only getaddrinfo reads ("2852039166", "127.1")
    outcome: dict = {}

    def lookup() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            outcome["error"] = error

    thread = threading.Thread(target=lookup, name="image-fetch-dns", daemon=True)
    thread.start()
    thread.join(deadline.remaining(url))
    if thread.is_alive():
        raise deadline.error(url)
    if "error" in outcome:
        raise ImageFetchError(f"cannot resolve host of {url}: {outcome['error']}") from None
    # Drop an IPv6 zone ("%eth0"); ip_address() does not take it.
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in outcome["infos"]))


def _open_checked(url: str, allowed_networks: Sequence[IPNetwork], deadline: _Deadline) -> http.client.HTTPConnection:
    if len(url) > MAX_URL_LENGTH:
        raise ImageFetchError(f"image URL longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ImageFetchError(f"invalid image URL {url!r}: {error}") from None
    scheme = parts.scheme.lower()
    # Plain http is only ever allowed to opted-in local networks; without the opt-in, refuse it up front.
    if scheme != "https" and not (scheme == "http" and allowed_networks):
        raise ImageFetchError(f"refusing to fetch {url}: only https URLs are accepted")
    if not parts.hostname:
        raise ImageFetchError(f"invalid image URL {url!r}: no host")
    if parts.username is not None or parts.password is not None:
        raise ImageFetchError(f"refusing to fetch {url}: URLs with credentials are not accepted")
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(parts.hostname, port, url, deadline)
    if not addresses:
        raise ImageFetchError(f"cannot resolve host of {url}")
    for address in addresses:
        check_address(address, allowed_networks, url)
    address = addresses[0]
    if scheme == "http" and not any(_unmapped(address) in network for network in allowed_networks):
        raise ImageFetchError(f"refusing to fetch {url}: only https URLs are accepted")
    timeout = deadline.remaining(url)
    if scheme == "https":
        return _PinnedHTTPSConnection(parts.hostname, port, str(address), timeout, deadline)
    return _PinnedHTTPConnection(parts.hostname, port, str(address), timeout, deadline)


def _read_limited(response: http.client.HTTPResponse, url: str, max_bytes: int) -> bytes:
    declared = response.getheader("Content-Length")
    # isascii(): isdigit() alone admits digits int() cannot read (superscripts), a server-caused 500.
    if declared is not None and declared.strip().isascii() and declared.strip().isdigit() and int(declared) > max_bytes:
        raise ImageTooLargeError(f"image at {url} is {int(declared)} bytes; the limit is {max_bytes}")
    chunks: List[bytes] = []
    size = 0
    while True:
        chunk = response.read(min(65536, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise ImageTooLargeError(f"image at {url} exceeds the limit of {max_bytes} bytes")
    return b"".join(chunks)


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def fetch_image(
    url: str,
    *,
    allowed_networks: Optional[Sequence[IPNetwork]] = None,
    timeout: float = FETCH_TIMEOUT_SECONDS,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_redirects: int = MAX_REDIRECTS,
) -> bytes:
    """Fetches image bytes from `url` under the rules in the module docstring.

    `allowed_networks` defaults to what IMAGE_FETCH_ALLOW_PRIVATE grants (nothing unless it is "true").
    """
    if allowed_networks is None:
        allowed_networks = allowed_networks_from_env()
    deadline = _Deadline(timeout)
    try:
        current = url
        for _ in range(max_redirects + 1):
            conn = _open_checked(current, allowed_networks, deadline)
            try:
                try:
                    conn.request("GET", _request_target(current),
                                 headers={"Accept": ", ".join(FETCHED_IMAGE_TYPES), "User-Agent": "image-classifier/1"})
                    response = conn.getresponse()
                    if response.status in (301, 302, 303, 307, 308):
                        location = response.getheader("Location")
                        if not location:
                            raise ImageFetchError(f"{current} answered {response.status} without a Location header")
                        current = urljoin(current, location.strip())
                        continue
                    if response.status != 200:
                        raise ImageFetchError(f"{current} answered HTTP {response.status}")
                    content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
                    if content_type not in FETCHED_IMAGE_TYPES:
                        raise ImageFetchError(
                            f"{current} returned content type {content_type or 'none'!r}, "
                            f"expected one of {', '.join(FETCHED_IMAGE_TYPES)}"
                        )
                    data = _read_limited(response, current, max_bytes)
                    # A socket shut down at the deadline reads as end of stream: the body may be cut short.
                    if deadline.expired:
                        raise deadline.error(current)
                    return data
                except InvalidRequestError:
                    # Headers cut short by the deadline's shutdown parse as a complete, wrong response.
                    if deadline.expired:
                        raise deadline.error(current) from None
                    raise
                except (socket.timeout, TimeoutError):
                    raise deadline.error(current) from None
                except ssl.SSLError as error:
                    if deadline.expired:
                        raise deadline.error(current) from None
                    raise ImageFetchError(f"TLS error fetching {current}: {error}") from None
                except (OSError, http.client.HTTPException) as error:
                    if deadline.expired:
                        raise deadline.error(current) from None
                    raise ImageFetchError(f"fetching {current} failed: {error}") from None
            finally:
                deadline.unwatch()
                conn.close()
        raise ImageFetchError(f"{url} redirected more than {max_redirects} times")
    finally:
        deadline.cancel()
