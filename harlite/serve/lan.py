"""Where a phone reaches this server: the machine's addresses on its networks, the URLs to
type into the phone, and a QR code of one (segno, from the ``lan`` extra).

The addresses are read from the network interfaces (psutil where it is installed, else the
Linux ``SIOCGIFADDR`` ioctl on a socket that is never connected): nothing is sent on any
network to learn them.
"""

from __future__ import annotations

import functools
import io
import ipaddress
import socket
import struct
import sys
from dataclasses import dataclass

from harlite.serve.settings import is_loopback
from harlite.serve.tls import Certificate, certificate

#: Hosts that mean "every address of this machine".
WILDCARDS = ("0.0.0.0", "::", "")
#: Interfaces of containers and virtual machines: listed after the others (a phone is
#: rarely on their networks).
VIRTUAL_INTERFACES = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "lxc", "lxd", "cni")
#: Linux's ioctl that reads an interface's IPv4 address.
SIOCGIFADDR = 0x8915
#: How to get the QR code and every system's addresses.
LAN_EXTRA = "pip install 'harlite[lan]'"


@dataclass(frozen=True)
class LanAddress:
    """One address of this machine on a network, and its interface's name."""

    address: str
    interface: str


@dataclass(frozen=True)
class PhoneUrl:
    """A base URL a phone can reach the server at (``http://ADDRESS:PORT``) and where the
    address comes from (an interface's name, or ``--host``)."""

    base: str
    via: str


def lan_addresses(ipv6: bool = False) -> list[LanAddress]:
    """This machine's addresses a phone on the same network could reach: no loopback,
    link-local or multicast ones; IPv6 ones only with ``ipv6``; interfaces that are up
    (where psutil says), virtual ones last."""
    found = _psutil_addresses()
    if found is None:
        found = _ioctl_addresses()
    usable, seen = [], set()
    for entry in found:
        try:
            ip = ipaddress.ip_address(entry.address.split("%")[0])
        except ValueError:
            continue
        if ip.version == 6 and not ipv6:
            continue
        if ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified:
            continue
        if entry.address not in seen:
            seen.add(entry.address)
            usable.append(entry)
    return sorted(usable, key=_preference)


def _preference(entry: LanAddress) -> tuple:
    ip = ipaddress.ip_address(entry.address.split("%")[0])
    virtual = entry.interface.startswith(VIRTUAL_INTERFACES)
    return (virtual, ip.version, not ip.is_private, entry.interface, entry.address)


def _psutil_addresses() -> list[LanAddress] | None:
    """Every interface address psutil reads (None: psutil is not installed)."""
    try:
        import psutil
    except ImportError:
        return None
    try:
        stats = psutil.net_if_stats()
        addresses = psutil.net_if_addrs()
    except OSError:
        return None
    return [
        LanAddress(entry.address, name)
        for name, entries in addresses.items()
        if name not in stats or stats[name].isup
        for entry in entries
        if entry.family in (socket.AF_INET, socket.AF_INET6)
    ]


def _ioctl_addresses() -> list[LanAddress]:
    """The IPv4 address of each interface, read by ioctl (Linux; elsewhere none)."""
    if not sys.platform.startswith("linux"):
        return []
    try:
        import fcntl

        names = [name for _, name in socket.if_nameindex()]
    except (ImportError, OSError):
        return []
    found = []
    # A datagram socket that is never connected nor sent on: the ioctl only asks the kernel.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for name in names:
            request = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
            except OSError:  # an interface without an IPv4 address
                continue
            found.append(LanAddress(socket.inet_ntoa(answer[20:24]), name))
    return found


def phone_urls(host: str, port: int) -> list[PhoneUrl]:
    """The base URLs a phone can use for a server listening on ``host``: every LAN address
    for ``0.0.0.0`` (IPv6 ones too for ``::``), ``host`` itself for one address, none for
    loopback (no phone reaches it)."""
    if host in WILDCARDS:
        return [
            PhoneUrl(f"http://{_in_url(a.address)}:{port}", a.interface)
            for a in lan_addresses(ipv6=host == "::")
        ]
    if is_loopback(host):
        return []
    return [PhoneUrl(f"http://{_in_url(host)}:{port}", "--host")]


def _in_url(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def qr_available() -> bool:
    """Whether QR codes can be made (segno is installed)."""
    try:
        import segno  # noqa: F401
    except ImportError:
        return False
    return True


def qr_terminal(text: str) -> str | None:
    """``text`` as a QR code in block characters for a terminal (two rows a line), None
    without segno."""
    if not qr_available():
        return None
    import segno

    out = io.StringIO()
    segno.make(text, error="m").terminal(out=out, compact=True)
    return out.getvalue()


@functools.lru_cache(maxsize=8)
def qr_svg_data_uri(text: str) -> str | None:
    """``text`` as a QR code: an SVG ``data:`` URI for an ``<img>``, None without segno."""
    if not qr_available():
        return None
    import segno

    return segno.make(text, error="m").svg_data_uri(scale=5, border=2)


def server_certificate(host: str) -> Certificate:
    """The ``--tls`` certificate of a server listening on ``host``: naming this machine's
    network addresses for ``0.0.0.0`` or ``::``, else ``host``."""
    if host in WILDCARDS:
        return certificate([a.address.split("%")[0] for a in lan_addresses(ipv6=host == "::")])
    return certificate([host])
