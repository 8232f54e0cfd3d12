"""``sop-connector sign ...``: electronic signatures from the command line (issue 17).

``sign demo-cert`` makes a local CA and one PKCS#12 file per signer for the demo; ``sign issue
CASE`` draws the case's documents up for signing (number, QR code, verification URL);
``sign add TOKEN SLOT --p12 FILE`` has one signer sign one block, verified before it is kept;
``sign verify FILE --token TOKEN`` checks a signed PDF against what we issued. A passphrase is
never an argument: it is typed at the prompt (hidden) or read from the environment variable
``--passphrase-env`` names, used for that one signature and dropped.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from connector.cli.context import config_option, settings_from
from connector.errors import ConnectorError

if TYPE_CHECKING:
    from connector.config.secret import Secret
    from connector.services import Services
    from connector.signing.port import Signer
    from connector.store.cases import Case

DEMO_SIGNERS = {"pihak_pertama": "Pihak Pertama (demo)", "pihak_kedua": "Pihak Kedua (demo)",
                "mengetahui": "Kepala Dinas (demo)", "pelapor": "Kepala Bidang TI (demo)",
                "penandatangan": "Kepala Dinas (demo) - surat"}


def _passphrase(env: str | None, prompt: str) -> Secret:
    """The passphrase from ``$env``, or typed (hidden) at the prompt."""
    from connector.config.secret import Secret

    if env:
        value = os.environ.get(env, "")
        if not value:
            raise ConnectorError(f"environment variable {env} is not set or empty")
        return Secret(value, source=f"${env}")
    return Secret(click.prompt(prompt, hide_input=True), source="prompt")


def _services(config_path: str | None) -> Services:
    from connector.bootstrap import bootstrap

    return bootstrap(settings_from(config_path))


def _roots(services: Services, path: Path | None) -> list[Any]:
    """The trust roots of ``--trust-roots``, else of ``[signing] trust_roots``."""
    from connector.signing.verify import load_trust_roots

    signing = services.settings.signing
    chosen = path or (signing.trust_roots if signing is not None else None)
    if chosen is None:
        raise ConnectorError("no trust roots: pass --trust-roots or set [signing] trust_roots")
    return load_trust_roots(chosen.read_bytes())


def _signer(services: Services, p12: Path | None, nik: str | None) -> tuple[Signer, str | None]:
    """The local PKCS#12 signer of ``--p12``, or BSrE when ``[signing] provider = "bsre"``."""
    from connector.signing.bsre import BsreSigner
    from connector.signing.local import PyhankoSigner

    signing = services.settings.signing
    if p12 is not None:
        return PyhankoSigner(p12.read_bytes()), None
    if signing is None or signing.provider != "bsre" or signing.bsre_client_secret is None:
        raise ConnectorError("pass --p12 FILE, or configure [signing] provider = \"bsre\"")
    if not nik:
        raise ConnectorError("signing through BSrE needs the signer's --nik")
    return BsreSigner(signing.bsre_url, signing.bsre_client_id, signing.bsre_client_secret,
                      totp=signing.bsre_totp, timeout=signing.bsre_timeout_seconds), nik


def issue_for_signing(services: Services, case: Case, output: Path) -> list[str]:
    """Issue ``case``'s documents for signing (numbers, QR code, URL), write each PDF into
    ``output``, and say where each is and who is to sign it."""
    from connector.cli.document_commands import preview_kinds
    from connector.documents.issue import draw_up_for_signing, verification_url
    from connector.documents.render import document_filename
    from connector.workflow.paperwork import KIND, build
    from connector.workflow.state import case_view

    settings = services.settings.documents
    if settings is None:
        raise ConnectorError("documents are not configured: add a [documents] section")
    with services.engine.connect() as conn:
        view = case_view(conn, case, services.calendar)
    built = build(services, settings, case, view, preview_kinds(services.sop, case),
                  services.today(), preview=False)
    output.mkdir(parents=True, exist_ok=True)
    lines = []
    base = services.settings.server.public_url
    for kind, document in built:
        issued = draw_up_for_signing(services.engine, KIND[kind], document, settings,
                                     base_url=base)
        path = output / document_filename(KIND[kind], document, "pdf")
        path.write_bytes(issued.pdf)
        lines += [f"{path}  token {issued.token}",
                  f"  verifikasi: {verification_url(base, issued.token)}"]
        lines += [f"  menunggu tanda tangan: {slot.slot} ({slot.peran}: {slot.nama})"
                  for slot in issued.unsigned_slots]
    return lines


def register(main: click.Group) -> None:
    """Add ``sign`` and its subcommands to the main command."""

    @main.group()
    def sign() -> None:
        """Electronic signatures (TTE) on the documents, and their verification."""

    @sign.command("demo-cert")
    @click.option("--output", type=click.Path(file_okay=False, path_type=Path),
                  default=Path("demo-data/tte"), show_default=True)
    @click.option("--passphrase-env", metavar="VAR", default=None,
                  help="Seal the PKCS#12 files with $VAR (default: a random passphrase, "
                       "written to passphrase.txt beside them).")
    def demo_cert(output: Path, passphrase_env: str | None) -> None:
        """A demo CA (ca.pem) and one PKCS#12 file per signing block (<slot>.p12)."""
        from connector.signing.democert import make_demo_certificates

        if passphrase_env:
            passphrase = _passphrase(passphrase_env, "").reveal()
        else:
            passphrase = secrets.token_urlsafe(12)
        made = make_demo_certificates(DEMO_SIGNERS, passphrase)
        output.mkdir(parents=True, exist_ok=True)
        (output / "ca.pem").write_bytes(made.ca_pem)
        for slot, data in made.p12.items():
            _private(output / f"{slot}.p12", data)
        if not passphrase_env:
            _private(output / "passphrase.txt", passphrase.encode())
        click.echo(f"CA: {output / 'ca.pem'}")
        for slot in made.p12:
            click.echo(f"{slot}: {output / (slot + '.p12')}")

    @sign.command("issue")
    @config_option
    @click.argument("case")
    @click.option("--output", type=click.Path(file_okay=False, path_type=Path),
                  default=Path("."), show_default=True)
    def issue(config_path: str | None, case: str, output: Path) -> None:
        """Draw CASE's documents up for signing: numbered, with QR code and URL."""
        from connector.cli.codehost_commands import _case

        services = _services(config_path)
        try:
            for line in issue_for_signing(services, _case(services, case), output):
                click.echo(line)
        finally:
            services.engine.dispose()

    @sign.command("add")
    @config_option
    @click.argument("token")
    @click.argument("slot")
    @click.option("--p12", "p12", default=None, type=click.Path(dir_okay=False, path_type=Path),
                  help="The signer's PKCS#12 file (without it: BSrE, from [signing]).")
    @click.option("--nik", default=None, help="The signer's NIK at BSrE.")
    @click.option("--trust-roots", default=None,
                  type=click.Path(dir_okay=False, path_type=Path),
                  help="PEM file of the CA certificates a signature must chain to "
                       "(default: [signing] trust_roots).")
    @click.option("--passphrase-env", metavar="VAR", default=None,
                  help="Read the passphrase from $VAR instead of the prompt.")
    @click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Write the signed PDF here too.")
    def add(config_path: str | None, token: str, slot: str, p12: Path | None, nik: str | None,
            trust_roots: Path | None, passphrase_env: str | None, output: Path | None) -> None:
        """Sign block SLOT of the document TOKEN (a local certificate, or BSrE)."""
        from connector.signing.flow import sign_slot
        from connector.signing.port import SignerIdentity
        from connector.store.issued import get_issued

        services = _services(config_path)
        try:
            document = get_issued(services.engine, token)
            if document is None:
                raise ConnectorError("Dokumen tidak ditemukan.")
            where = document.slot(slot)
            signer, bsre_nik = _signer(services, p12, nik)
            roots = _roots(services, trust_roots)
            credential = _passphrase(passphrase_env, f"Passphrase {where.peran}")
            signed = sign_slot(services.engine, token, slot, signer=signer,
                               identity=SignerIdentity(where.nama, peran=where.peran,
                                                       nik=bsre_nik),
                               credential=credential, trust_roots=roots)
            if output is not None:
                output.write_bytes(signed.pdf)
            click.echo(f"ditandatangani: {where.peran} ({len(signed.signatures)} dari "
                       f"{len(signed.slots)})")
            for waiting in signed.unsigned_slots:
                click.echo(f"menunggu tanda tangan: {waiting.slot} ({waiting.peran})")
        finally:
            services.engine.dispose()

    @sign.command("verify")
    @config_option
    @click.argument("pdf", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--token", required=True)
    @click.option("--trust-roots", default=None,
                  type=click.Path(dir_okay=False, path_type=Path),
                  help="Default: [signing] trust_roots.")
    def verify(config_path: str | None, pdf: Path, token: str, trust_roots: Path | None
               ) -> None:
        """Check that PDF is the document TOKEN as we issued it, every signature valid."""
        from connector.signing.verify import verify_signed
        from connector.store.issued import get_issued

        services = _services(config_path)
        try:
            document = get_issued(services.engine, token)
            if document is None:
                raise ConnectorError("Dokumen tidak ditemukan.")
            found = verify_signed(pdf.read_bytes(), issued_sha256=document.sha256,
                                  issued_size=document.size,
                                  trust_roots=_roots(services, trust_roots))
            for signature in found:
                click.echo(f"sah: {signature.field} oleh {signature.signer}")
        finally:
            services.engine.dispose()


def _private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only (key material)."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)
