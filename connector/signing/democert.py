"""A local demo certificate authority and one PKCS#12 certificate per signer.

For the demo and for tests: a self-signed CA (the trust root the verification is given) and
signer certificates with the key usages a document signature needs (digitalSignature,
nonRepudiation). Made with ``cryptography``, which pyHanko depends on. Not for production: an
office signs with BSrE certificates, or its own PKCS#12 from its own CA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_BITS = 2048
VALID_DAYS = 365


@dataclass(frozen=True)
class DemoCertificates:
    """The CA's certificate (PEM) and each signer's PKCS#12 file (bytes), by name."""

    ca_pem: bytes
    p12: dict[str, bytes]


def make_demo_certificates(names: dict[str, str], passphrase: str, *,
                           organisation: str = "Diskominfo Kabupaten Sumbawa (demo)",
                           now: datetime | None = None) -> DemoCertificates:
    """A CA and, for each ``key -> full name``, a PKCS#12 file sealed with ``passphrase``."""
    start = (now or datetime.now(UTC)) - timedelta(days=1)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    ca_name = _name(f"{organisation} CA", organisation)
    ca_cert = (_builder(ca_name, ca_name, ca_key, start)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(_usage(ca=True), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
    files = {key: _signer_p12(full_name, organisation, ca_cert, ca_key, start, passphrase)
             for key, full_name in names.items()}
    return DemoCertificates(ca_cert.public_bytes(serialization.Encoding.PEM), files)


def _signer_p12(full_name: str, organisation: str, ca_cert: x509.Certificate,
                ca_key: rsa.RSAPrivateKey, start: datetime, passphrase: str) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    cert = (_builder(_name(full_name, organisation), ca_cert.subject, key, start)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    encryption = serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
    return pkcs12.serialize_key_and_certificates(full_name.encode("utf-8"), key, cert,
                                                 [ca_cert], encryption)


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _builder(subject: x509.Name, issuer: x509.Name, key: rsa.RSAPrivateKey,
             start: datetime) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=VALID_DAYS)))


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not ca, content_commitment=not ca,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False,
                         decipher_only=False)
