"""``harlite serve --tls``: a self-signed certificate harlite makes and keeps.

Phone browsers give motion sensors only to secure pages, so the phone page needs https. The
certificate is made once with the ``openssl`` command (installed on Debian, Raspberry Pi OS
and macOS) and kept, with its key, in the user's data folder (``tls/``, replaced as a whole
folder: a reader sees the old pair or the new one); it names every address the server may be
reached at (this machine's network addresses, ``localhost``, its host name), and a new
address makes a new certificate naming the old ones too, as does a kept pair that no longer
loads (cut short, edited). It is its own certificate authority (``CA:TRUE``, for 825 days:
what iOS accepts from a user-installed root), so a phone can be told to trust it
(docs/phone-page.md); its SHA-256 fingerprint is printed to compare.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from harlite.atomic import atomic_dir
from harlite.errors import HarliteError
from harlite.folders import data_dir

#: Days the certificate is valid (iOS trusts a user-installed root's server certificate for
#: at most 825 days).
DAYS = 825
#: Made again this many days before it ends.
RENEW_DAYS = 30
CERT, KEY, HOSTS = "harlite.crt", "harlite.key", "hosts.json"
#: Seconds openssl may take.
OPENSSL_TIMEOUT_S = 60


@dataclass(frozen=True)
class Certificate:
    """The server's certificate and key files, its fingerprint and the names it holds."""

    cert: Path
    key: Path
    fingerprint: str
    hosts: tuple[str, ...]
    made: bool  #: made now (else found)

    def context(self) -> ssl.SSLContext:
        """A server TLS context with this certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def certificate(hosts: list[str]) -> Certificate:
    """The kept certificate if it names every one of ``hosts`` and is not near its end;
    else a new one naming them (and the old one's names)."""
    folder = data_dir() / "tls"
    wanted = _names([*hosts, "localhost", "127.0.0.1", "::1", socket.gethostname()])
    kept = _read_hosts(folder)
    if kept is not None:
        names, until = kept
        if set(wanted) <= set(names) and until - time.time() > RENEW_DAYS * 86400:
            found = _usable(folder, tuple(names))
            if found is not None:
                return found
        wanted = _names([*names, *wanted])
    try:
        _make(folder, wanted)
    except OSError as error:
        raise HarliteError(f"cannot keep the certificate in {folder}: {error}") from None
    return _certificate(folder, wanted, made=True)


def _usable(folder: Path, hosts: tuple[str, ...]) -> Certificate | None:
    """The kept pair, if it loads as a server's certificate and key (None: damaged, e.g.
    cut short or edited; a new one is made)."""
    try:
        found = _certificate(folder, hosts, made=False)
        found.context()
    except (OSError, ValueError):  # ssl.SSLError is an OSError; bad text a ValueError
        return None
    return found


def _names(hosts: list[str]) -> tuple[str, ...]:
    """Distinct names, wildcards (0.0.0.0, ::) left out."""
    seen: list[str] = []
    for host in hosts:
        host = host.strip("[]")
        if host and host not in ("0.0.0.0", "::") and host not in seen:
            seen.append(host)
    return tuple(seen)


def _read_hosts(folder: Path) -> tuple[list[str], float] | None:
    """The kept certificate's names and end (seconds since the epoch); None without a
    complete, readable pair."""
    try:
        meta = json.loads((folder / HOSTS).read_text(encoding="utf-8"))
        if not ((folder / CERT).is_file() and (folder / KEY).is_file()):
            return None
        return [str(h) for h in meta["hosts"]], float(meta["not_after"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _make(folder: Path, hosts: tuple[str, ...]) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise HarliteError("harlite serve --tls makes its certificate with openssl, which is "
                           "not installed: apt-get install openssl")  # fmt: skip
    with atomic_dir(folder) as work:
        os.chmod(work, 0o700)  # the key is written before it can be chmod-ed: no one looks in
        (work / "openssl.cnf").write_text(_config(hosts), encoding="utf-8")
        command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:prime256v1", "-nodes", "-days", str(DAYS),
                   "-config", "openssl.cnf", "-keyout", KEY, "-out", CERT]  # fmt: skip
        try:
            done = subprocess.run(command, cwd=work, capture_output=True, text=True,
                                  timeout=OPENSSL_TIMEOUT_S)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise HarliteError(
                f"openssl did not make the certificate in {OPENSSL_TIMEOUT_S} s"
            ) from None
        if done.returncode != 0:
            raise HarliteError(f"openssl could not make the certificate: {done.stderr.strip()}")
        os.chmod(work / KEY, 0o600)
        (work / "openssl.cnf").unlink()
        meta = {"hosts": list(hosts), "made": time.time(), "not_after": time.time() + DAYS * 86400}
        (work / HOSTS).write_text(json.dumps(meta, indent=1), encoding="utf-8")


def _config(hosts: tuple[str, ...]) -> str:
    names = []
    for host in hosts:
        try:
            names.append(f"IP:{ipaddress.ip_address(host)}")
        except ValueError:
            names.append(f"DNS:{host}")
    return "\n".join([
        "[req]", "distinguished_name = dn", "x509_extensions = ext", "prompt = no",
        "[dn]", "O = harlite", f"CN = harlite serve on {socket.gethostname()[:40]}",
        "[ext]", f"subjectAltName = {','.join(names)}",
        "basicConstraints = critical,CA:TRUE,pathlen:0",
        "keyUsage = critical,digitalSignature,keyCertSign",
        "extendedKeyUsage = serverAuth", "subjectKeyIdentifier = hash", "",
    ])  # fmt: skip


def _certificate(folder: Path, hosts: tuple[str, ...], made: bool) -> Certificate:
    pem = (folder / CERT).read_text(encoding="ascii")
    return Certificate(
        cert=folder / CERT,
        key=folder / KEY,
        fingerprint=fingerprint(pem),
        hosts=hosts,
        made=made,
    )


def fingerprint(pem: str) -> str:
    """The SHA-256 fingerprint of a PEM certificate, as browsers show it (AB:CD:…)."""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def der_certificate(cert: Path) -> bytes:
    """The certificate as DER (what a phone installs from a download)."""
    return ssl.PEM_cert_to_DER_cert(cert.read_text(encoding="ascii"))
