"""The self-signed certificate for HTTPS (fer/live/tls.py)."""

import ipaddress
import os
import ssl

import pytest
from cryptography import x509

from fer.live import tls

NAMES = ["127.0.0.1", "::1", "localhost", "demo.lan"]


def alternative_names(certfile):
    certificate = x509.load_pem_x509_certificate(certfile.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(names.get_values_for_type(x509.DNSName)), set(names.get_values_for_type(x509.IPAddress))


def test_a_self_signed_certificate_covers_the_names_and_addresses(tmp_path):
    files = tls.self_signed(NAMES, tmp_path)
    dns_names, addresses = alternative_names(files.certfile)
    assert dns_names == {"localhost", "demo.lan"}
    assert addresses == {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    assert os.stat(files.keyfile).st_mode & 0o777 == 0o600, "the private key should be its owner's alone"
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.certfile, files.keyfile)  # the key belongs to the certificate


def test_the_kept_certificate_is_reused_so_a_browsers_exception_lasts(tmp_path):
    first = tls.self_signed(NAMES, tmp_path).certfile.read_bytes()
    again = tls.self_signed(NAMES[:2], tmp_path).certfile.read_bytes()
    assert again == first


def test_a_new_name_or_a_broken_pair_makes_a_new_certificate(tmp_path):
    first = tls.self_signed(NAMES, tmp_path).certfile.read_bytes()
    wider = tls.self_signed(NAMES + ["10.1.2.3"], tmp_path)
    assert wider.certfile.read_bytes() != first
    assert ipaddress.ip_address("10.1.2.3") in alternative_names(wider.certfile)[1]
    wider.keyfile.write_bytes(b"not a key")
    renewed = tls.self_signed(NAMES, tmp_path)
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(renewed.certfile, renewed.keyfile)


def test_the_cache_folder_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tls.cache_folder() == tmp_path / "fer" / "tls"


def test_a_server_on_all_addresses_is_certified_for_this_machines_names(monkeypatch):
    monkeypatch.setattr(tls, "local_addresses", lambda: ["192.168.7.9"])
    names = tls.certificate_names("0.0.0.0")
    assert {"localhost", "127.0.0.1", "::1", "192.168.7.9"} <= set(names)
    assert "10.0.0.4" in tls.certificate_names("10.0.0.4")


@pytest.mark.parametrize("case", ["missing", "mismatched"])
def test_check_files_explains_what_cannot_serve(tmp_path, case):
    files = tls.self_signed(NAMES, tmp_path / "a")
    if case == "missing":
        problems = tls.check_files(tmp_path / "none.pem", files.keyfile)
        assert problems == [f"--certfile {tmp_path / 'none.pem'} does not exist"]
    else:
        other = tls.self_signed(NAMES, tmp_path / "b")
        problems = tls.check_files(files.certfile, other.keyfile)
        assert len(problems) == 1 and problems[0].startswith("cannot use --certfile")
    assert tls.check_files(files.certfile, files.keyfile) == []
