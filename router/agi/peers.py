"""Who may connect to the FastAGI port: an allow-list checked at accept.

FastAGI has no authentication, and a connection that sends an environment
learns who owns a number (id, tier, list, offers: issue 11.12). Binding to
loopback keeps other hosts out; ``TIERLINE_AGI_ALLOW`` narrows it to the
Asterisk servers' addresses when the router listens on a network. A refused
peer is aborted in ``connection_made``, before it can send a byte.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from router.errors import ConfigError

__all__ = ["LOOPBACK", "PeerFilter", "allow_list", "is_loopback", "parse_allow"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK = ("127.0.0.0/8", "::1/128")
"""The default: only processes on this host."""
MAX_CACHED = 4096


def parse_allow(text: str) -> tuple[str, ...]:
    """``"10.0.0.5, 10.1.0.0/24"`` -> normalised networks; empty text -> ``()``.

    Raises:
        ConfigError: an entry is not an address or a network (host bits set
            are allowed: ``10.0.0.5/24`` means ``10.0.0.0/24``).
    """
    out = []
    for entry in (x.strip() for x in text.split(",")):
        if not entry:
            continue
        try:
            out.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise ConfigError(
                f"Config 'TIERLINE_AGI_ALLOW' has entry '{entry}'. "
                "Not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)."
            ) from None
    return tuple(out)


def allow_list(host: str, allow: str) -> tuple[str, ...]:
    """The networks to admit when listening on ``host`` with ``TIERLINE_AGI_ALLOW=allow``.

    Unset, a loopback listener admits loopback peers; a listener other hosts
    can reach must name them (``0.0.0.0/0,::/0`` admits anyone, on purpose).

    Raises:
        ConfigError: a bad entry, or a non-loopback listener with no list.
    """
    networks = parse_allow(allow)
    if networks:
        return networks
    if is_loopback(host):
        return LOOPBACK
    raise ConfigError(
        f"Config 'TIERLINE_AGI_HOST' is '{host}', which other hosts can reach: "
        "set TIERLINE_AGI_ALLOW to the Asterisk servers' addresses (e.g. 10.0.0.5,10.0.1.0/24)."
    )


def is_loopback(host: str) -> bool:
    """True for ``127.x``, ``::1`` and ``localhost``: a bind that other hosts cannot reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PeerFilter:
    """``allows(host)`` for the peer address ``getpeername`` gave."""

    def __init__(self, networks: Iterable[str] = LOOPBACK) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in networks
        )
        self._seen: dict[str, bool] = {}

    def allows(self, host: str) -> bool:
        known = self._seen.get(host)
        if known is None:
            known = self._check(host)
            if len(self._seen) < MAX_CACHED:  # Asterisk servers are few; scanners are not
                self._seen[host] = known
        return known

    def _check(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.partition("%")[0])  # drop an IPv6 scope
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
        return any(address in network for network in self.networks)
