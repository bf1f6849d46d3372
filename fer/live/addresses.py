"""Network names: which bind addresses are loopback, a Host header's name, this machine's addresses."""

import contextlib
import ipaddress
import socket

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
"""Host names that always mean this machine."""


def is_loopback(host):
    """Whether a server bound to ``host`` is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def host_name(host_header):
    """The name in a Host header, lower case, without port, brackets or a final dot.

    ``"[::1]:5000"`` gives ``"::1"``, ``"LocalHost.:80"`` gives ``"localhost"``.
    """
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_ip_literal(name):
    """Whether ``name`` is an IPv4 or IPv6 address rather than a name."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def local_addresses():
    """This machine's own addresses (besides loopback), the one on the default route first.

    Looked up without sending anything: connecting a UDP socket only picks a route.
    """
    found = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 9))
        found.append(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        for *_, address in socket.getaddrinfo(socket.gethostname(), None):
            found.append(address[0].split("%", 1)[0])
    addresses = []
    for address in found:
        if address not in addresses and not ipaddress.ip_address(address).is_loopback:
            addresses.append(address)
    return addresses


def url_host(host):
    """``host`` as it is written in a URL: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host else host
