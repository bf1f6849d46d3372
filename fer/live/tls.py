"""HTTPS for the demo: a self-signed certificate for this machine's names, kept between runs.

Browsers allow the camera only in a secure context: ``localhost`` or HTTPS. A phone that opens
the demo over the network therefore needs HTTPS, and a self-signed certificate is the one that
needs nothing but a click past the browser's warning. It is kept in the user's cache folder,
so that the exception the browser remembers stays valid from one start to the next.
"""

import dataclasses
import datetime
import ipaddress
import logging
import os
import pathlib
import socket

from ..files import written_whole
from .addresses import LOOPBACK_NAMES, is_ip_literal, local_addresses

log = logging.getLogger(__name__)

VALID_DAYS = 365
RENEW_DAYS = 7
"""A kept certificate this close to its end is replaced."""


@dataclasses.dataclass(frozen=True)
class TLSFiles:
    """A certificate chain and its private key, both PEM files."""

    certfile: pathlib.Path
    keyfile: pathlib.Path


def cache_folder():
    """Where the self-signed certificate is kept: ``$XDG_CACHE_HOME/fer/tls`` or ``~/.cache/fer/tls``."""
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "fer" / "tls"


def certificate_names(bind_host):
    """The names and addresses a certificate for a server bound to ``bind_host`` should cover."""
    names = set(LOOPBACK_NAMES)
    names.add(socket.gethostname().lower())
    if bind_host.strip("[]") in ("0.0.0.0", "::", ""):
        names.update(local_addresses())
    else:
        names.add(bind_host.strip("[]").lower())
    return sorted(names)


def self_signed(names, folder=None):
    """A self-signed certificate for ``names`` (host names and IP addresses) in ``folder``.

    The kept certificate is reused while it covers every name and has more than
    :data:`RENEW_DAYS` days left; otherwise a new key and certificate replace it.
    """
    folder = pathlib.Path(folder) if folder is not None else cache_folder()
    files = TLSFiles(folder / "cert.pem", folder / "key.pem")
    if _still_good(files, names):
        log.info("HTTPS with the kept self-signed certificate %s", files.certfile)
        return files
    _write_self_signed(files, names)
    log.info("HTTPS with a new self-signed certificate %s for %s", files.certfile, ", ".join(names))
    return files


def _still_good(files, names):
    """Whether the kept certificate exists, covers ``names`` and is not about to run out."""
    from cryptography import x509

    if check_files(files.certfile, files.keyfile):  # missing, or a key of another certificate
        return False
    try:
        certificate = x509.load_pem_x509_certificate(files.certfile.read_bytes())
        alternatives = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    covered = {name.lower() for name in alternatives.get_values_for_type(x509.DNSName)}
    covered |= {str(address) for address in alternatives.get_values_for_type(x509.IPAddress)}
    left = certificate.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    return set(names) <= covered and left > datetime.timedelta(days=RENEW_DAYS)


def _write_self_signed(files, names):
    """Make an ECDSA P-256 key and a certificate for ``names``; the key is readable by its owner only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FER live demo (self-signed)")])
    alternatives = [x509.IPAddress(ipaddress.ip_address(name)) if is_ip_literal(name) else x509.DNSName(name)
                    for name in names]
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    files.certfile.parent.mkdir(parents=True, exist_ok=True)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    _write_whole(files.keyfile, key_pem, mode=0o600)
    _write_whole(files.certfile, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)


def _write_whole(path, data, mode):
    """Write ``data`` to ``path`` with ``mode`` from the start (a key is never readable by others)."""
    with written_whole(path) as temporary:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)


def check_files(certfile, keyfile):
    """Reasons a certificate and key given by the user cannot serve HTTPS (empty: fine)."""
    import ssl

    problems = [f"{name} {path} does not exist" for name, path in (("--certfile", certfile), ("--keyfile", keyfile))
                if not pathlib.Path(path).is_file()]
    if problems:
        return problems
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, OSError) as error:
        return [f"cannot use --certfile {certfile} with --keyfile {keyfile}: {error}"]
    return []
