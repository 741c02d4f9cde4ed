"""The key a client is counted under, from its address: an IPv4 address as it is, an IPv6
address as its /64 network, an IPv4-mapped IPv6 address (``::ffff:192.0.2.1``) as the IPv4
address it maps.

A home or a phone is given a whole /64 (RFC 6177), and may take any address in it at will:
counted per IPv6 address, one client would have 2^64 counters to spread its requests over.
"""

import ipaddress

IPV6_CLIENT_PREFIX = 64  # the network one subscriber gets, at the least


def client_key(address: str) -> str:
    """The counters' name for this client address. A value that is no IP address (a proxy's
    ``unknown``, say) is its own key, as it was before any address was parsed."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv4Address):
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    # From the address's number: a zone (fe80::1%eth0) names no other client.
    return str(ipaddress.IPv6Network((int(parsed), IPV6_CLIENT_PREFIX), strict=False))
