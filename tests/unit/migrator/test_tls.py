"""sslmode=verify-full against a real PostgreSQL server with TLS, its certificate signed by a
private CA (as Aurora's is signed by the RDS CAs, which Lambda's trust store does not carry):
without the packaged bundle every connection fails, with it the migrator connects."""

import datetime
import ipaddress
import json
import os
import zipfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.bluegreen.migration.plugins.module_utils import packaging
from tests.harness.postgres import PostgresServer
from tests.unit.migrator.conftest import MIGRATOR, MIGRATIONS, Migrator


def _pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def certificates():
    """(CA certificate PEM, server certificate PEM, server key PEM) for 127.0.0.1."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bluegreen test database CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca.public_bytes(serialization.Encoding.PEM), server.public_bytes(serialization.Encoding.PEM), _pem(key)


@pytest.fixture(scope="module")
def tls_server():
    ca, cert, key = certificates()
    with PostgresServer(tls=(cert, key)) as server:
        yield server, ca


@pytest.fixture
def tls_migrator(tmp_path, tls_server, monkeypatch):
    server, ca = tls_server
    migrator = Migrator(tmp_path, server.params(), monkeypatch)
    migrator.add(*sorted(MIGRATIONS.glob("*.sql"))[:1])
    monkeypatch.setenv("MIGRATOR_SSLMODE", "verify-full")
    bundle = tmp_path / "ca-bundle.pem"
    bundle.write_bytes(ca)
    return migrator, bundle


def test_verify_full_fails_without_the_bundle_and_connects_with_it(tls_migrator, monkeypatch):
    migrator, bundle = tls_migrator
    monkeypatch.delenv("MIGRATOR_SSL_CA", raising=False)
    refused = migrator(action="status")
    assert refused["ok"] is False and "CERTIFICATE_VERIFY_FAILED" in refused["error"], refused

    monkeypatch.setenv("MIGRATOR_SSL_CA", str(bundle))
    answer = migrator(action="status")
    assert answer["ok"] is True, answer


def test_relative_bundle_is_the_one_packaged_beside_the_handler(monkeypatch):
    index = Migrator.__init__.__globals__["load_index"]()
    monkeypatch.setenv("MIGRATOR_SSL_CA", "ca-bundle.pem")
    assert index._ca_bundle() == str(MIGRATOR / "ca-bundle.pem")
    monkeypatch.setenv("MIGRATOR_SSL_CA", "/etc/ssl/other.pem")
    assert index._ca_bundle() == "/etc/ssl/other.pem"


def test_package_carries_the_bundle_and_refuses_what_is_not_one(tmp_path):
    ca, _cert, key = certificates()
    bundle = tmp_path / "global-bundle.pem"
    bundle.write_bytes(ca)
    data, _manifest, names = packaging.build_package(str(MIGRATOR), str(MIGRATIONS), ca_bundle=str(bundle))
    assert "ca-bundle.pem" in names
    zip_path = tmp_path / "migrator.zip"
    zip_path.write_bytes(data)
    assert zipfile.ZipFile(zip_path).read("ca-bundle.pem") == ca
    without, _manifest, _names = packaging.build_package(str(MIGRATOR), str(MIGRATIONS))
    assert packaging.code_sha256(without) != packaging.code_sha256(data)

    (tmp_path / "key.pem").write_bytes(key)
    for path, message in ((tmp_path / "key.pem", "holds no PEM certificate"), (tmp_path / "none.pem", "cannot be read")):
        with pytest.raises(packaging.PackagingError, match=message):
            packaging.build_package(str(MIGRATOR), str(MIGRATIONS), ca_bundle=str(path))


def test_require_encrypts_without_the_bundle_and_verify_full_checks_the_host(tls_migrator, monkeypatch):
    migrator, bundle = tls_migrator
    monkeypatch.delenv("MIGRATOR_SSL_CA", raising=False)
    monkeypatch.setenv("MIGRATOR_SSLMODE", "require")
    assert migrator(action="status")["ok"] is True

    # The certificate names 127.0.0.1 only: the host the migrator was given is what it checks.
    monkeypatch.setenv("MIGRATOR_SSLMODE", "verify-full")
    monkeypatch.setenv("MIGRATOR_SSL_CA", str(bundle))
    monkeypatch.setenv("MIGRATOR_DSN_JSON", json.dumps(dict(json.loads(os.environ["MIGRATOR_DSN_JSON"]), host="localhost")))
    refused = migrator(action="status")
    assert refused["ok"] is False and "Hostname mismatch" in refused["error"], refused
